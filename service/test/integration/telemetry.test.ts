// The telemetry routes on a real fastify app listening on a unix socket, read through the client: no daemon, no
// root. Events are published on a bus by the test itself.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify, { FastifyInstance } from 'fastify';
import { Client } from 'undici';
import { toErrorResponse } from '../../src/api/errors';
import { registerTelemetryRoutes } from '../../src/api/telemetry-routes';
import { ApiError } from '../../src/client';
import { eventually } from './harness';
import { followEvents, metrics, stats } from '../../src/client/telemetry';
import { EventBus, InvocationEvent, Published, SockpitEvent } from '../../src/telemetry/events';
import { createMetrics, Metrics } from '../../src/telemetry/metrics';
import { Stats } from '../../src/telemetry/stats';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockpit-telemetry-'));
let n = 0;

interface Served {
  app: FastifyInstance;
  bus: EventBus;
  socket: string;
  metrics: Metrics;
  listeners(): number;
  close(): Promise<void>;
}

async function serve(opts: { heartbeatMs?: number; maxBufferedBytes?: number } = {}): Promise<Served> {
  const bus = new EventBus(50);
  const stats = new Stats();
  stats.attach(bus);
  const m = createMetrics(bus, () => ({ pool: { free: 3, inUse: 1 }, instances: { live: 2, idle: 1 }, zygotes: { count: 1, memoryBytes: 4096, processes: 2 }, cache: { packages: 5, bytes: 1000 } }));
  const app = Fastify({ logger: false, return503OnClosing: true });
  app.setErrorHandler((err, _req, reply) => {
    const { status, body } = toErrorResponse(err);
    return reply.code(status).send(body);
  });
  registerTelemetryRoutes(app, {
    bus,
    stats: () => stats.snapshot({ pool: { size: 4, free: 3, inUse: 1 }, cache: { packages: 5 }, zygotes: { count: 1 }, instances: { live: 2, idle: 1 } }),
    metrics: () => m.text(),
    metricsContentType: m.contentType,
    heartbeatMs: opts.heartbeatMs,
    maxBufferedBytes: opts.maxBufferedBytes,
  });
  const socket = path.join(dir, `api-${++n}.sock`);
  await app.listen({ path: socket });
  return {
    app,
    bus,
    socket,
    metrics: m,
    // the bus's subscribers: the stats, the metrics and one per open stream
    listeners: () => (bus as unknown as { emitter: NodeJS.EventEmitter }).emitter.listenerCount('event'),
    close: async () => {
      await app.close();
      m.close();
    },
  };
}

function inv(fn: string, total: number, over: Partial<InvocationEvent> = {}): InvocationEvent {
  return { type: 'invocation', function: fn, version: 1, tier: 'cold', zygote: null, sandbox: 's1', status: 200, error: null, phases: { sandbox: total / 2, total }, ...over };
}

/** Follows the stream, collecting events, until `until` says enough (then aborts). */
function collect(socket: string, opts: { types?: string[]; since?: number; until: (got: Published[]) => boolean; onEach?: (e: Published, got: Published[]) => void }) {
  const got: Published[] = [];
  const stop = new AbortController();
  const done = followEvents(
    socket,
    (e) => {
      got.push(e);
      opts.onEach?.(e, got);
      if (opts.until(got)) stop.abort();
    },
    { types: opts.types, since: opts.since, signal: stop.signal },
  ).then(() => got);
  return { got, done, stop };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}

let s: Served;
before(async () => {
  s = await serve();
});
after(async () => {
  await s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('published events arrive in order with their ids; the stream unsubscribes when the client goes', async () => {
  const base = s.listeners();
  const first = s.bus.publish(inv('hello', 1));
  const live: SockpitEvent[] = [
    inv('hello', 2),
    { type: 'zygote', action: 'created', id: 'z1', parent: null, packages: ['numpy==1.26.4'] },
    { type: 'function', action: 'deployed', name: 'hello', version: 4 },
    inv('other', 3, { tier: 'warm' }),
    { type: 'install', package: 'numpy==1.26.4', ok: true, ms: 900 },
  ];
  const published: Published[] = [first];
  const { done } = collect(s.socket, {
    since: first.seq - 1,
    // the replayed first event shows the stream is subscribed: publish the rest live
    onEach: (e) => {
      if (e.seq === first.seq) for (const ev of live) published.push(s.bus.publish(ev));
    },
    until: (got) => got.length === 1 + live.length,
  });
  const got = await withTimeout(done, 5000, 'events');
  assert.deepEqual(got, published);
  assert.deepEqual(
    got.map((e) => e.seq),
    published.map((_, i) => first.seq + i),
  );
  // the server notices the client is gone and drops its subscription
  await eventually(() => s.listeners() === base, 'the subscription to be dropped');
});

test('Last-Event-ID replays the missed events, then the live ones; ?types filters', async () => {
  const before = s.bus.publish(inv('a', 1));
  const missed = [s.bus.publish(inv('b', 1)), s.bus.publish({ type: 'function', action: 'removed', name: 'gone', version: null }), s.bus.publish(inv('c', 1))];

  // by hand, as an EventSource reconnecting would: the header, not the query
  const client = new Client('http://sockpitd', { socketPath: s.socket, bodyTimeout: 0 });
  try {
    const res = await client.request({ method: 'GET', path: '/v1/events?since=0', headers: { 'last-event-id': String(before.seq) } });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/event-stream/);
    let text = '';
    for await (const chunk of res.body) {
      text += chunk.toString();
      if (text.includes(`id: ${missed[2].seq}\n`) && text.endsWith('\n\n')) break;
    }
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    assert.deepEqual(ids, missed.map((e) => e.seq));
    assert.match(text, new RegExp(`^id: ${missed[1].seq}\nevent: function\ndata: \\{.*"name":"gone".*\\}$`, 'm'));
    res.body.destroy();
  } finally {
    await client.destroy();
  }

  // ?since through the client, filtered to invocations; then a live one
  const live = inv('d', 1);
  const { done } = collect(s.socket, {
    since: before.seq,
    types: ['invocation'],
    onEach: (e) => {
      if (e.seq === missed[2].seq) {
        s.bus.publish({ type: 'function', action: 'deployed', name: 'filtered-out', version: 1 });
        s.bus.publish(live);
      }
    },
    until: (got) => got.length === 3,
  });
  const got = await withTimeout(done, 5000, 'filtered events');
  assert.deepEqual(
    got.map((e) => (e.type === 'invocation' ? e.function : e.type)),
    ['b', 'c', 'd'],
  );
});

test('an id from before a restart (beyond the last seq) replays all that is kept', async () => {
  const t = await serve();
  try {
    t.bus.publish(inv('x', 1));
    t.bus.publish(inv('y', 1));
    const { done } = collect(t.socket, { since: 1000, until: (got) => got.length === 2 });
    const got = await withTimeout(done, 5000, 'replay');
    assert.deepEqual(
      got.map((e) => e.seq),
      [1, 2],
    );
  } finally {
    await t.close();
  }
});

test('bad parameters are answered 400', async () => {
  await assert.rejects(
    followEvents(s.socket, () => {}, { types: ['nope'] }),
    (err: unknown) => err instanceof ApiError && err.status === 400 && /unknown event type "nope"/.test(err.message),
  );
  const client = new Client('http://sockpitd', { socketPath: s.socket });
  try {
    const res = await client.request({ method: 'GET', path: '/v1/events', headers: { 'last-event-id': 'abc' } });
    assert.equal(res.statusCode, 400);
    assert.equal(((await res.body.json()) as { error: { code: string } }).error.code, 'bad_request');
  } finally {
    await client.close();
  }
});

test('a heartbeat comment comes on an idle stream', async () => {
  const t = await serve({ heartbeatMs: 50 });
  const client = new Client('http://sockpitd', { socketPath: t.socket, bodyTimeout: 0 });
  try {
    const res = await client.request({ method: 'GET', path: '/v1/events' });
    let text = '';
    for await (const chunk of res.body) {
      text += chunk.toString();
      if (text.includes(': heartbeat\n\n')) break;
    }
    assert.match(text, /^retry: 1000\n: sockpitd events\n\n/);
    res.body.destroy();
  } finally {
    await client.destroy();
    await t.close();
  }
});

test('a client that stops reading is cut off, and the producer never notices', async () => {
  const t = await serve({ maxBufferedBytes: 64 * 1024 });
  const client = new Client('http://sockpitd', { socketPath: t.socket, bodyTimeout: 0 });
  try {
    const base = t.listeners();
    const res = await client.request({ method: 'GET', path: '/v1/events' });
    assert.equal(t.listeners(), base + 1);
    res.body.pause(); // reads nothing more
    const big = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 2000 && t.listeners() > base; i++) {
      t.bus.publish({ type: 'install', package: 'p==1', ok: false, ms: 1, error: big });
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    assert.equal(t.listeners(), base, 'the stream was dropped');
    res.body.destroy();
  } finally {
    await client.destroy();
    await t.close();
  }
});

test('/v1/stats and /metrics answer with what the bus carried', async () => {
  s.bus.publish(inv('stats-fn', 12, { tier: 'zygote', zygote: 'z1' }));
  s.bus.publish(inv('stats-fn', 20, { tier: 'zygote', zygote: 'z1', status: 504, error: 'timeout' }));
  const body = await stats(s.socket);
  assert.deepEqual(body.functions['stats-fn'], { count: 2, errors: 1, byTier: { warm: 0, zygote: 2, cold: 0 } });
  assert.equal(body.invocations.byTier.zygote.p50, 16);
  assert.equal(body.invocations.byTier.zygote.mean, 16);
  assert.deepEqual(body.pool, { size: 4, free: 3, inUse: 1 });
  assert.equal(body.zygotes.count, 1);
  assert.ok(body.invocations.total >= 2);
  const sum = body.invocations.hitRates.warm + body.invocations.hitRates.zygote + body.invocations.hitRates.cold;
  assert.ok(Math.abs(sum - 1) < 1e-9);

  const text = await metrics(s.socket);
  assert.match(text, /^sockpit_invocations_total\{tier="zygote",function="stats-fn",status="504"\} 1$/m);
  assert.match(text, /^sockpit_invocation_seconds_count\{tier="zygote"\} 2$/m);
  assert.match(text, /^sockpit_pool_cgroups\{state="free"\} 3$/m);
  assert.match(text, /^sockpitd_process_resident_memory_bytes \d+/m);

  const client = new Client('http://sockpitd', { socketPath: s.socket });
  try {
    const res = await client.request({ method: 'GET', path: '/metrics' });
    assert.equal(res.headers['content-type'], s.metrics.contentType);
    await res.body.text();
  } finally {
    await client.close();
  }
});

test('close() returns promptly with streams open, and the followers see the stream end', async () => {
  const t = await serve();
  const marker = t.bus.publish(inv('m', 1));
  const followers = [0, 1, 2].map(() => {
    let connected!: () => void;
    const ready = new Promise<void>((r) => (connected = r));
    const done = followEvents(t.socket, (e) => e.seq === marker.seq && connected(), { since: 0 });
    return { ready, done };
  });
  await withTimeout(Promise.all(followers.map((f) => f.ready)), 5000, 'connect');
  const started = performance.now();
  await withTimeout(t.close(), 2000, 'app.close()');
  const took = performance.now() - started;
  assert.ok(took < 1000, `close took ${took.toFixed(0)} ms`);
  // the followers resolve: the daemon ended the stream
  await withTimeout(Promise.all(followers.map((f) => f.done)), 2000, 'followers');
  // every stream unsubscribed (the metrics too, by close): only the stats still listen
  assert.equal(t.listeners(), 1);
});
