import { describe, expect, it } from 'vitest';
import { CONNECTING, ConnectionTracker, describeDisconnection, retryDelayMs } from './connection';
import { fromEnvelope, fromHttp } from './errors';
import { createHttpBridge, parseRun, parseServerTiming, unwrapJobs, type EventSourceLike } from './http';
import { rebuild } from './index';
import type { ConnectionState, Published } from './types';

/** An EventSource the test drives. */
class FakeEventSource implements EventSourceLike {
  static all: FakeEventSource[] = [];
  readyState = 0;
  onopen: ((ev: Event) => unknown) | null = null;
  onerror: ((ev: Event) => unknown) | null = null;
  closed = false;
  readonly listeners = new Map<string, Array<(ev: MessageEvent) => void>>();
  constructor(readonly url: string) {
    FakeEventSource.all.push(this);
  }
  addEventListener(type: string, l: (ev: MessageEvent) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), l]);
  }
  close(): void {
    this.closed = true;
    this.readyState = 2;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }
  fail(readyState: 0 | 2): void {
    this.readyState = readyState;
    this.onerror?.(new Event('error'));
  }
  emit(e: Partial<Published> & { type: string; seq: number }): void {
    for (const l of this.listeners.get(e.type) ?? []) l(new MessageEvent(e.type, { data: JSON.stringify({ at: '2026-01-01T00:00:00Z', ...e }), lastEventId: String(e.seq) }));
  }
}

const SIGNED_OUT = { error: { code: 'signed_out', message: 'signed out of the panel: open the URL `sockpit panel` printed, or run `sockpit panel --show-url`' } };
const UNREACHABLE = { error: { code: 'unavailable', message: "can't reach sockpitd at /run/s.sock (no socket there: is it running?)" } };

function harness() {
  FakeEventSource.all = [];
  const calls: Array<{ url: string; init?: RequestInit }> = [];
  let mode: 'up' | 'daemon-down' | 'panel-down' | 'signed-out' = 'up';
  const timers: Array<{ fn: () => void; ms: number }> = [];
  const fetchImpl = (async (url: string, init?: RequestInit) => {
    calls.push({ url, init });
    if (mode === 'panel-down') throw new TypeError('Failed to fetch');
    if (mode === 'signed-out') return new Response(JSON.stringify(SIGNED_OUT), { status: 401, headers: { 'x-sockpit-signed-out': '1' } });
    if (mode === 'daemon-down') return new Response(JSON.stringify(UNREACHABLE), { status: 503, headers: { 'x-sockpit-unreachable': '1' } });
    if (url.endsWith('/v1/functions')) return new Response(JSON.stringify({ functions: [{ name: 'hello' }] }), { status: 200 });
    if (url.includes('/v1/functions/nope')) return new Response(JSON.stringify({ error: { code: 'not_found', message: 'no function named "nope"' } }), { status: 404 });
    return new Response(JSON.stringify({ version: '0.1.0' }), { status: 200 });
  }) as unknown as typeof fetch;
  const bridge = createHttpBridge({
    fetch: fetchImpl,
    EventSource: FakeEventSource,
    panelName: 'http://127.0.0.1:7788',
    setTimeout: (fn, ms) => timers.push({ fn, ms }),
    clearTimeout: () => undefined,
  });
  const states: ConnectionState[] = [];
  return { bridge, calls, timers, states, setMode: (m: typeof mode) => (mode = m) };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('HTTP bridge', () => {
  it('calls the proxied API paths with the panel header and unwraps bodies', async () => {
    const h = harness();
    expect(await h.bridge.listFunctions()).toEqual([{ name: 'hello' }]);
    expect(h.calls[0].url).toBe('/api/v1/functions');
    expect((h.calls[0].init?.headers as Record<string, string>)['x-sockpit-panel']).toBe('1');
    const archive = new Uint8Array(1024);
    await h.bridge.deploy('my fn', { archive, label: 'f' });
    expect(h.calls[1]).toMatchObject({ url: '/api/v1/functions/my%20fn', init: { method: 'PUT', body: archive } });
    expect((h.calls[1].init?.headers as Record<string, string>)['content-type']).toBe('application/x-tar');
    await expect(h.bridge.deploy('my fn', { folder: '/srv/f' })).rejects.toThrow(/not a path/);
  });

  it('rebuilds API errors with code, status and detail', async () => {
    const h = harness();
    const err = await h.bridge.remove('nope').catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ message: 'no function named "nope"', code: 'not_found', status: 404 });
  });

  it('reports disconnected with the reason, and connected again when the daemon answers', async () => {
    const h = harness();
    h.bridge.onConnection((s) => h.states.push(s));
    expect(h.states).toEqual([{ state: 'disconnected', reason: CONNECTING }]);
    FakeEventSource.all[0].open();
    expect(h.states.at(-1)).toEqual({ state: 'connected' });

    h.setMode('daemon-down');
    const err = await h.bridge.status().catch((e) => e);
    expect(err).toMatchObject({ code: 'unavailable', status: 503 });
    expect(h.states.at(-1)).toEqual({ state: 'disconnected', reason: UNREACHABLE.error.message });

    h.setMode('panel-down');
    await h.bridge.status().catch(() => undefined);
    expect(h.states.at(-1)).toMatchObject({ state: 'disconnected', reason: expect.stringContaining('panel server at http://127.0.0.1:7788') });

    h.setMode('up');
    await h.bridge.status();
    expect(h.states.at(-1)).toEqual({ state: 'connected' });
    // only changes are reported
    await h.bridge.status();
    expect(h.states.filter((s) => s.state === 'connected')).toHaveLength(2);
  });

  it('reports signed-out on the panel server\'s 401, and connected once the browser has signed in', async () => {
    const h = harness();
    h.bridge.onConnection((s) => h.states.push(s));
    h.setMode('signed-out');
    const err = await h.bridge.listFunctions().catch((e) => e);
    expect(err).toMatchObject({ code: 'signed_out', status: 401 });
    expect(h.states.at(-1)).toEqual({ state: 'signed-out', reason: SIGNED_OUT.error.message });
    // the stream's 401 makes the browser give up on it: a probe tells why, and a new stream starts later
    FakeEventSource.all[0].fail(2);
    await tick();
    expect(h.states.at(-1)?.state).toBe('signed-out');
    expect(h.timers).toHaveLength(1);
    h.setMode('up');
    await h.bridge.status();
    expect(h.states.at(-1)).toEqual({ state: 'connected' });
  });

  it('opens one stream with ?since=0, dispatches typed events, and resumes from the last seq after a new stream', async () => {
    const h = harness();
    const seen: Published[] = [];
    const off1 = h.bridge.onEvent((e) => seen.push(e));
    const off2 = h.bridge.onConnection(() => undefined);
    expect(FakeEventSource.all).toHaveLength(1);
    const es = FakeEventSource.all[0];
    expect(es.url).toBe('/api/v1/events?since=0');
    es.open();
    es.emit({ type: 'invocation', seq: 7, function: 'hello' } as never);
    es.emit({ type: 'zygote', seq: 8, id: 'z1' } as never);
    expect(seen.map((e) => [e.type, e.seq])).toEqual([
      ['invocation', 7],
      ['zygote', 8],
    ]);

    // the panel server answered 503: the browser gives up on this stream; a new one starts later
    h.setMode('daemon-down');
    es.fail(2);
    await tick();
    expect(h.timers).toHaveLength(1);
    expect(h.timers[0].ms).toBe(retryDelayMs(0));
    h.setMode('up');
    h.timers[0].fn();
    expect(FakeEventSource.all).toHaveLength(2);
    expect(FakeEventSource.all[1].url).toBe('/api/v1/events?since=8');

    off1();
    expect(FakeEventSource.all[1].closed).toBe(false);
    off2();
    expect(FakeEventSource.all[1].closed).toBe(true);
  });

  it('probes the daemon when the stream drops while the browser retries', async () => {
    const h = harness();
    const states: ConnectionState[] = [];
    h.bridge.onConnection((s) => states.push(s));
    FakeEventSource.all[0].open();
    h.setMode('daemon-down');
    FakeEventSource.all[0].fail(0);
    await tick();
    await tick();
    expect(h.calls.at(-1)!.url).toBe('/api/v1/status');
    expect(states.at(-1)).toMatchObject({ state: 'disconnected' });
    expect(h.timers).toHaveLength(0); // the browser is retrying by itself
  });
});

describe('run answers', () => {
  it('reads tier, sandbox, Zygote and Server-Timing, and the value on 200', () => {
    const headers = new Headers({ 'x-sockpit-tier': 'zygote', 'x-sockpit-sandbox': 's1', 'x-sockpit-zygote': 'z2', 'server-timing': 'sandbox;dur=1.5, fork;dur=2.25, total;dur=5' });
    expect(parseRun(200, headers, '{"ok":true}')).toEqual({ status: 200, tier: 'zygote', sandbox: 's1', zygote: 'z2', timings: { sandbox: 1.5, fork: 2.25, total: 5 }, result: { ok: true } });
  });

  it('keeps the error body on failure, traceback included', () => {
    const body = { error: { code: 'function_error', message: 'f raised ValueError', detail: { traceback: 'Traceback...' } } };
    const r = parseRun(422, new Headers({ 'x-sockpit-tier': 'warm' }), JSON.stringify(body));
    expect(r.error).toEqual(body.error);
    expect(r.result).toBeUndefined();
    expect(parseRun(502, new Headers(), 'Bad gateway').error).toMatchObject({ code: 'internal', message: 'HTTP 502: Bad gateway' });
  });

  it('parses Server-Timing defensively', () => {
    expect(parseServerTiming(null)).toEqual({});
    expect(parseServerTiming('a;desc="x";dur=2, b, c;dur=zz')).toEqual({ a: 2, b: 0, c: 0 });
  });

  it('accepts the benchmark list in either shape', () => {
    expect(unwrapJobs({ benchmarks: [{ id: 'a' }] })).toEqual([{ id: 'a' }]);
    expect(unwrapJobs([{ id: 'b' }])).toEqual([{ id: 'b' }]);
    expect(unwrapJobs({})).toEqual([]);
  });
});

describe('errors and connection helpers', () => {
  it('rebuilds envelopes as Errors', () => {
    const e = fromEnvelope({ name: 'ApiError', message: 'boom', code: 'timeout', status: 504, detail: { x: 1 } });
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ name: 'ApiError', message: 'boom', code: 'timeout', status: 504, detail: { x: 1 } });
    expect(rebuild({ name: 'ApiError', message: 'm', code: 'not_found' })).toBeInstanceOf(Error);
    expect(rebuild({ error: { name: 'ApiError', message: 'm2' } })).toMatchObject({ message: 'm2' });
    const plain = new Error('x');
    expect(rebuild(plain)).toBe(plain);
    expect(fromHttp(500, '<html>')).toMatchObject({ code: 'internal', status: 500, message: 'HTTP 500: <html>' });
  });

  it('describes a disconnection plainly', () => {
    expect(describeDisconnection("can't reach sockpitd at /run/s.sock")).toBe("Can't reach sockpitd at /run/s.sock — retrying");
    expect(describeDisconnection('socket hang up')).toBe("Can't reach sockpitd (socket hang up) — retrying");
    expect(describeDisconnection(CONNECTING)).toMatch(/^Connecting/);
  });

  it('backs off 1, 2, 4 then 5 s', () => {
    expect([0, 1, 2, 3, 10].map(retryDelayMs)).toEqual([1000, 2000, 4000, 5000, 5000]);
  });

  it('tracks only changes and calls back at once', () => {
    const t = new ConnectionTracker();
    const seen: ConnectionState[] = [];
    const off = t.subscribe((s) => seen.push(s));
    t.ok();
    t.ok();
    t.failed('a');
    t.failed('a');
    t.failed('b');
    off();
    t.ok();
    expect(seen).toEqual([{ state: 'disconnected', reason: CONNECTING }, { state: 'connected' }, { state: 'disconnected', reason: 'a' }, { state: 'disconnected', reason: 'b' }]);
  });
});
