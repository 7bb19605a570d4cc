import { describe, expect, it } from 'vitest';
import type { BenchmarkJob, Published, RunOutcome, ZygoteInfo } from '../bridge/types';
import { applyBenchmarkEvent, createBenchmarksStore, currentJob, mergeJobs } from './benchmarks';
import { createConnectionStore } from './connection';
import { createFunctionsStore, keepSelection, withZygoteFromEvent } from './functions';
import { appendPoint, createTimingsStore, MAX_POINTS, pointFromEvent, type Point } from './timings';
import { addActivity, appeared, createZygotesStore, describeZygoteEvent, updateFresh } from './zygotes';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
const invocation = (seq: number, tier: string, total: number, extra: Record<string, unknown> = {}) =>
  ({ type: 'invocation', seq, at: at(seq), function: 'hello', version: 1, tier, zygote: null, sandbox: `s${seq}`, status: 200, error: null, phases: { total }, ...extra }) as unknown as Published;
const zy = (id: string, parent: string | null = null): ZygoteInfo => ({ id, parent, packages: [], state: 'running', pid: 1, hits: 0, memoryBytes: 0, children: [], functions: [], lastUsed: at(0) });

describe('timings', () => {
  it('makes a point of an invocation event and ignores others', () => {
    expect(pointFromEvent(invocation(1, 'zygote', 12.5))).toMatchObject({ seq: 1, tier: 'zygote', ms: 12.5, function: 'hello' });
    expect(pointFromEvent(invocation(2, 'cold', NaN, { phases: { sandbox: 1, spawn: 2 } }))!.ms).toBe(3);
    expect(pointFromEvent(invocation(3, 'lukewarm', 1))).toBeNull();
    expect(pointFromEvent({ type: 'install', seq: 4, at: at(4), package: 'a==1', ok: true, ms: 1 } as Published)).toBeNull();
  });

  it('keeps the newest max points in time order, without duplicates', () => {
    let points: Point[] = [];
    for (let i = 1; i <= 7; i++) points = appendPoint(points, pointFromEvent(invocation(i, 'warm', i))!, 5);
    expect(points.map((p) => p.seq)).toEqual([3, 4, 5, 6, 7]);
    const again = appendPoint(points, pointFromEvent(invocation(7, 'warm', 7))!, 5);
    expect(again).toBe(points);
    const late = appendPoint(points, { ...pointFromEvent(invocation(99, 'warm', 1))!, t: Date.parse(at(4)) + 1 }, 10);
    expect(late.map((p) => p.seq)).toEqual([3, 4, 99, 5, 6, 7]);
  });

  it('stores invocation events and stats', async () => {
    const store = createTimingsStore({ stats: async () => ({ invocations: { total: 1 } }) as never });
    for (let i = 1; i <= MAX_POINTS + 3; i++) store.getState().onEvent(invocation(i, 'warm', 1));
    expect(store.getState().points).toHaveLength(MAX_POINTS);
    await store.getState().refreshStats();
    expect(store.getState().stats).toEqual({ invocations: { total: 1 } });
  });
});

describe('zygotes', () => {
  it('marks what appeared since the last load (nothing on the first)', () => {
    expect(appeared(null, [zy('z1')])).toEqual([]);
    expect(appeared([zy('z1')], [zy('z1'), zy('z2', 'z1')])).toEqual(['z2']);
    expect(updateFresh({ old: 5, keep: 50 }, ['z2'], 10, 100)).toEqual({ keep: 50, z2: 110 });
  });

  it('keeps the last events, newest first, and says what happened', () => {
    const e = (seq: number, action: string) => ({ type: 'zygote', seq, at: at(seq), action, id: `z${seq}`, parent: 'z1', packages: ['alpha==1'] }) as unknown as Published;
    let list = addActivity([], e(1, 'created'), 2);
    list = addActivity(list, e(2, 'evicted'), 2);
    list = addActivity(list, e(3, 'died'), 2);
    expect(list.map((a) => a.seq)).toEqual([3, 2]);
    expect(addActivity(list, e(3, 'died'))).toBe(list);
    expect(describeZygoteEvent({ type: 'zygote', action: 'created', id: 'z4', parent: 'z1', packages: ['numpy==2'] })).toBe('Zygote z4 created from z1: numpy==2');
    expect(describeZygoteEvent({ type: 'zygote', action: 'forked', id: 'z1', parent: null, packages: [], child: { kind: 'instance', id: 's', function: 'f' } })).toBe(
      'Zygote z1 forked an instance of f',
    );
  });

  it('refreshes once for a burst of events and highlights the new node', async () => {
    let lists = [[zy('z1')], [zy('z1'), zy('z2', 'z1')]];
    let calls = 0;
    const scheduled: Array<() => void> = [];
    const store = createZygotesStore(
      { zygotes: async () => lists[Math.min(calls++, lists.length - 1)] },
      { now: () => Date.parse(at(10)), schedule: (fn) => scheduled.push(fn) },
    );
    await store.getState().refresh();
    expect(store.getState().fresh).toEqual({});
    store.getState().select('z1');
    for (let i = 0; i < 5; i++) store.getState().onEvent({ type: 'zygote', seq: i, at: at(9), action: 'forked', id: 'z1', parent: null, packages: [] } as Published);
    expect(scheduled).toHaveLength(1);
    scheduled[0]();
    await new Promise((r) => setTimeout(r, 0));
    expect(calls).toBe(2);
    expect(Object.keys(store.getState().fresh)).toEqual(['z2']);
    expect(store.getState().selected).toBe('z1');
    // an evicted selection is let go
    lists = [[zy('z2')]];
    calls = 0;
    await store.getState().refresh();
    expect(store.getState().selected).toBeNull();
  });
});

describe('functions', () => {
  const outcome = (o: Partial<RunOutcome>): RunOutcome => ({ status: 200, tier: 'zygote', sandbox: 's1', timings: {}, ...o });

  it('fills in the Zygote of a zygote-tier run from its invocation event', () => {
    const runs = { hello: { running: false, outcome: outcome({}), failure: null, clientMs: 1, at: 0 } };
    const next = withZygoteFromEvent(runs, invocation(1, 'zygote', 1, { sandbox: 's1', zygote: 'z3' }));
    expect(next.hello.outcome!.zygote).toBe('z3');
    expect(withZygoteFromEvent(runs, invocation(1, 'zygote', 1, { sandbox: 'other', zygote: 'z3' }))).toBe(runs);
    const warm = { hello: { ...runs.hello, outcome: outcome({ tier: 'warm' }) } };
    expect(withZygoteFromEvent(warm, invocation(1, 'zygote', 1, { sandbox: 's1', zygote: 'z3' }))).toBe(warm);
  });

  it('keeps a valid selection', () => {
    const fns = [{ name: 'a' }, { name: 'b' }] as never[];
    expect(keepSelection('b', fns)).toBe('b');
    expect(keepSelection('gone', fns)).toBe('a');
    expect(keepSelection(null, [])).toBeNull();
  });

  it('invokes with the edited event and keeps the outcome or the failure', async () => {
    const sent: string[] = [];
    let fail = false;
    const store = createFunctionsStore({
      listFunctions: async () => [],
      deploy: async () => ({}) as never,
      remove: async () => undefined,
      run: async (_n, body) => {
        sent.push(body);
        if (fail) throw new Error("can't reach sockpitd");
        return outcome({ sandbox: 's9' });
      },
    });
    store.getState().setEvent('hello', '{"x":1}');
    // the event can come before the answer
    store.getState().onEvent(invocation(1, 'zygote', 1, { sandbox: 's9', zygote: 'z5' }));
    await store.getState().invoke('hello');
    expect(sent).toEqual(['{"x":1}']);
    expect(store.getState().runs.hello).toMatchObject({ running: false, failure: null, outcome: { zygote: 'z5' } });
    fail = true;
    await store.getState().invoke('hello');
    expect(store.getState().runs.hello).toMatchObject({ running: false, outcome: null, failure: "can't reach sockpitd" });
  });

  it('asks for a folder or zip before asking the service', async () => {
    let asked = false;
    const store = createFunctionsStore({ listFunctions: async () => [], deploy: async () => ((asked = true), {}) as never, remove: async () => undefined, run: async () => outcome({}) });
    expect(await store.getState().deploy({ files: [], label: 'empty' }, 'hello')).toBe(false);
    expect(await store.getState().deploy({ folder: ' ' }, 'hello')).toBe(false);
    expect(asked).toBe(false);
    expect(store.getState().deployError).toMatch(/Choose the folder/);
  });

  it('sends picked files as a tar archive, and a folder path as it is (Electron reads it)', async () => {
    const sent: unknown[] = [];
    const store = createFunctionsStore({
      listFunctions: async () => [],
      deploy: async (name, source) => (sent.push(source), { name, version: 1 }) as never,
      remove: async () => undefined,
      run: async () => outcome({}),
    });
    expect(await store.getState().deploy({ files: [{ path: 'f.py', data: new TextEncoder().encode('x') }], label: 'hello' }, 'hello')).toBe(true);
    const archive = (sent[0] as { archive: Uint8Array }).archive;
    expect(new TextDecoder().decode(archive.subarray(0, 4))).toBe('f.py');
    expect(archive.length % 512).toBe(0);
    expect(await store.getState().deploy({ folder: '/home/me/hello' }, 'hello')).toBe(true);
    expect(sent[1]).toEqual({ folder: '/home/me/hello' });
  });
});

describe('benchmarks', () => {
  const job = (id: string, state: BenchmarkJob['state'], progress: number, startedAt = at(1)): BenchmarkJob => ({
    id,
    suite: 'sandbox',
    state,
    progress,
    message: '',
    startedAt,
    finishedAt: null,
    result: null,
    error: null,
  });
  const ev = (id: string, state: string, progress: number) => ({ type: 'benchmark', seq: 1, at: at(5), id, suite: 'sandbox', state, progress, message: `m ${progress}` }) as Published;

  it('follows progress events, never moving backwards or un-finishing', () => {
    let jobs = applyBenchmarkEvent([], ev('b1', 'started', 0));
    expect(jobs[0]).toMatchObject({ id: 'b1', state: 'running', progress: 0 });
    jobs = applyBenchmarkEvent(jobs, ev('b1', 'progress', 0.6));
    jobs = applyBenchmarkEvent(jobs, ev('b1', 'progress', 0.4));
    expect(jobs[0]).toMatchObject({ progress: 0.6, message: 'm 0.4' });
    jobs = applyBenchmarkEvent(jobs, ev('b1', 'finished', 1));
    jobs = applyBenchmarkEvent(jobs, ev('b1', 'progress', 0.9));
    expect(jobs[0]).toMatchObject({ state: 'finished', progress: 1 });
    expect(applyBenchmarkEvent(jobs, ev('b1', 'failed', 0.2))[0]).toMatchObject({ state: 'failed', error: 'm 0.2' });
  });

  it('picks the running job of a suite for its progress bar, else the newest', () => {
    const jobs = [job('old', 'finished', 1, at(1)), job('run', 'running', 0.3, at(2)), job('new', 'failed', 0.1, at(3))];
    expect(currentJob(jobs, 'sandbox')!.id).toBe('run');
    expect(currentJob(jobs.filter((j) => j.id !== 'run'), 'sandbox')!.id).toBe('new');
    expect(currentJob(jobs, 'provisioning')).toBeNull();
  });

  it('merges the service list with what events told, newest first', () => {
    const merged = mergeJobs([job('a', 'running', 0.1, at(1))], [job('a', 'running', 0.5, at(1)), job('b', 'running', 0, at(2))]);
    expect(merged.map((j) => [j.id, j.progress])).toEqual([
      ['b', 0],
      ['a', 0.5],
    ]);
  });

  it('starts a suite with its iterations and selects a run that finished', async () => {
    const started: unknown[] = [];
    const store = createBenchmarksStore({
      startBenchmark: async (suite, opts) => (started.push([suite, opts]), job('b9', 'running', 0, at(9))),
      benchmarks: async () => [{ ...job('b9', 'finished', 1, at(9)), result: { benchmark: 'sandbox' } }],
    });
    store.getState().setIterations('sandbox', 3);
    await store.getState().start('sandbox');
    expect(started).toEqual([['sandbox', { iterations: 3 }]]);
    expect(store.getState().jobs[0].id).toBe('b9');
    store.getState().onEvent(ev('b9', 'finished', 1));
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => setTimeout(r, 0));
    expect(store.getState().selected).toBe('b9');
    expect(store.getState().jobs[0].result).toEqual({ benchmark: 'sandbox' });
  });
});

describe('connection', () => {
  it('records when the state changed', () => {
    let t = 1;
    const store = createConnectionStore({ status: async () => ({}) as never }, () => t);
    t = 5;
    store.getState().setConnection({ state: 'connected' });
    expect(store.getState().since).toBe(5);
    t = 9;
    store.getState().setConnection({ state: 'connected' });
    expect(store.getState().since).toBe(5);
    store.getState().setConnection({ state: 'disconnected', reason: 'x' });
    expect(store.getState()).toMatchObject({ since: 9, connection: { state: 'disconnected', reason: 'x' } });
  });
});
