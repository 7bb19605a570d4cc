import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildApi, type ApiBackend } from '../api/server';
import { EventBus, type Published } from '../telemetry/events';
import { BenchmarkJobs, loadHistory, parseBenchmarkRequest, settle, type BenchmarkJob, type JobProcess, type Launcher } from './jobs';

/** A launcher whose processes the test drives by hand. */
function fakeLauncher() {
  const procs: Array<{
    req: unknown;
    progress: (p: number, m: string) => void;
    exit: (code: number | null, stdout?: string, stderrTail?: string) => void;
    killed: number[];
  }> = [];
  const launcher: Launcher = (req) => {
    const progress: Array<(p: number, m: string) => void> = [];
    const exits: Array<Parameters<JobProcess['onExit']>[0]> = [];
    const entry = {
      req,
      progress: (p: number, m: string) => progress.forEach((l) => l(p, m)),
      exit: (code: number | null, stdout = '', stderrTail = '') =>
        exits.forEach((l) => l({ code, signal: code === null ? 'SIGTERM' : null, stdout, stderrTail })),
      killed: [] as number[],
    };
    procs.push(entry);
    return {
      onProgress: (l) => void progress.push(l),
      onExit: (l) => void exits.push(l),
      kill: (grace) => {
        entry.killed.push(grace);
        setImmediate(() => entry.exit(null));
      },
    };
  };
  return { launcher, procs };
}

test('parseBenchmarkRequest accepts the two suites and a positive integer iterations', () => {
  assert.deepEqual(parseBenchmarkRequest({ suite: 'sandbox' }), { suite: 'sandbox' });
  assert.deepEqual(parseBenchmarkRequest({ suite: 'provisioning', iterations: 2 }), { suite: 'provisioning', iterations: 2 });
  for (const bad of [null, [], 'sandbox', {}, { suite: 'nope' }, { suite: 'sandbox', iterations: 0 }, { suite: 'sandbox', iterations: 1.5 }, { suite: 'sandbox', iterations: '3' }, { suite: 'sandbox', iterations: 1e9 }, { suite: 'sandbox', extra: 1 }]) {
    assert.throws(() => parseBenchmarkRequest(bad), (e: Error & { code?: string }) => e.code === 'bad_request', JSON.stringify(bad));
  }
});

test('a job runs, reports progress as events and finishes with the parsed report', async () => {
  const bus = new EventBus();
  const events: Published[] = [];
  bus.subscribe((e) => events.push(e));
  const { launcher, procs } = fakeLauncher();
  const jobs = new BenchmarkJobs({ bus, launcher });
  const job = jobs.start({ suite: 'sandbox', iterations: 2 });
  assert.equal(job.state, 'running');
  assert.deepEqual(procs[0].req, { suite: 'sandbox', iterations: 2 });
  procs[0].progress(0.25, 'quarter');
  procs[0].progress(0.1, 'a late line does not move progress back');
  assert.equal(jobs.get(job.id)!.progress, 0.25);
  assert.equal(jobs.get(job.id)!.message, 'a late line does not move progress back');
  procs[0].exit(0, '{"benchmark": "sandbox"}');
  const done = jobs.get(job.id)!;
  assert.equal(done.state, 'finished');
  assert.equal(done.progress, 1);
  assert.deepEqual(done.result, { benchmark: 'sandbox' });
  assert.ok(done.finishedAt);
  const states = events.filter((e) => e.type === 'benchmark').map((e) => (e as { state: string }).state);
  assert.deepEqual(states, ['started', 'progress', 'progress', 'finished']);
});

test('one job at a time: a second start is a conflict until the first ends', () => {
  const { launcher, procs } = fakeLauncher();
  const jobs = new BenchmarkJobs({ launcher });
  const first = jobs.start({ suite: 'sandbox' });
  assert.throws(() => jobs.start({ suite: 'provisioning' }), (e: Error & { code?: string }) => e.code === 'conflict' && e.message.includes(first.id));
  procs[0].exit(1, '', 'Error: boom\n');
  const failed = jobs.get(first.id)!;
  assert.equal(failed.state, 'failed');
  assert.match(failed.error!, /exited with 1: Error: boom/);
  const second = jobs.start({ suite: 'provisioning' });
  assert.deepEqual(jobs.list().map((j) => j.id), [second.id, first.id], 'newest first');
});

test('settle: a report that is not JSON fails the job', () => {
  const job = { state: 'running' } as BenchmarkJob;
  settle(job, 0, null, 'not json', '');
  assert.equal(job.state, 'failed');
  assert.match(job.error!, /not JSON/);
  const spawnFailed = { state: 'running' } as BenchmarkJob;
  settle(spawnFailed, null, null, '', '', 'ENOENT');
  assert.match(spawnFailed.error!, /could not start: ENOENT/);
});

test('close kills a running job, marks it failed and waits for it; the history survives a restart', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockpit-jobs-'));
  try {
    const file = path.join(dir, 'benchmarks.json');
    const { launcher, procs } = fakeLauncher();
    const jobs = new BenchmarkJobs({ launcher, historyFile: file, stopGraceMs: 1234 });
    const a = jobs.start({ suite: 'sandbox' });
    procs[0].exit(0, '{"ok": true}');
    const b = jobs.start({ suite: 'provisioning' });
    await jobs.close();
    assert.deepEqual(procs[1].killed, [1234]);
    assert.equal(jobs.get(b.id)!.state, 'failed');
    assert.match(jobs.get(b.id)!.error!, /stopped/);
    assert.throws(() => jobs.start({ suite: 'sandbox' }), (e: Error & { code?: string }) => e.code === 'unavailable');

    const again = new BenchmarkJobs({ launcher, historyFile: file });
    assert.deepEqual(again.list().map((j) => [j.id, j.state]), [
      [b.id, 'failed'],
      [a.id, 'finished'],
    ]);
    assert.deepEqual(again.get(a.id)!.result, { ok: true });
    fs.writeFileSync(file, '{broken');
    assert.deepEqual(loadHistory(file), []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('only the last jobs are kept', () => {
  const { launcher, procs } = fakeLauncher();
  const jobs = new BenchmarkJobs({ launcher, keep: 3 });
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    ids.push(jobs.start({ suite: 'sandbox' }).id);
    procs[i].exit(0, '{}');
  }
  assert.deepEqual(jobs.list().map((j) => j.id), ids.slice(2).reverse());
});

test('the routes: 202 with the job, 400 on bad input, 409 while one runs, 404 for an unknown id', async () => {
  const { launcher, procs } = fakeLauncher();
  const jobs = new BenchmarkJobs({ launcher });
  const app = buildApi({} as ApiBackend, { maxBodyBytes: 1 << 20, benchmarks: jobs });
  try {
    const post = (body: string) => app.inject({ method: 'POST', url: '/v1/benchmarks', payload: body, headers: { 'content-type': 'application/json' } });
    const bad = await post('{"suite": "docker"}');
    assert.equal(bad.statusCode, 400);
    assert.equal(JSON.parse(bad.body).error.code, 'bad_request');
    assert.equal((await post('not json')).statusCode, 400);
    const ok = await post('{"suite": "sandbox", "iterations": 2}');
    assert.equal(ok.statusCode, 202);
    const job = JSON.parse(ok.body) as BenchmarkJob;
    assert.equal(job.suite, 'sandbox');
    assert.equal(job.state, 'running');
    assert.equal(ok.headers.location, `/v1/benchmarks/${job.id}`);
    const busy = await post('{"suite": "provisioning"}');
    assert.equal(busy.statusCode, 409);
    assert.equal(JSON.parse(busy.body).error.code, 'conflict');
    procs[0].exit(0, '{"done": 1}');
    const got = JSON.parse((await app.inject({ method: 'GET', url: `/v1/benchmarks/${job.id}` })).body) as BenchmarkJob;
    assert.deepEqual([got.state, got.result], ['finished', { done: 1 }]);
    const list = JSON.parse((await app.inject({ method: 'GET', url: '/v1/benchmarks' })).body);
    assert.deepEqual(list.benchmarks.map((j: BenchmarkJob) => j.id), [job.id]);
    assert.equal((await app.inject({ method: 'GET', url: '/v1/benchmarks/nope' })).statusCode, 404);
    assert.equal((await app.inject({ method: 'GET', url: '/v1/benchmarks/NOT..valid' })).statusCode, 400);
  } finally {
    await app.close();
  }
});
