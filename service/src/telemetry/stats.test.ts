import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus, InvocationEvent, Tier } from './events';
import { Stats, StatsExtra, totalMs } from './stats';

const EXTRA: StatsExtra = { pool: { free: 3, inUse: 1 }, cache: { packages: 2, bytes: 10 }, zygotes: { count: 4, memoryBytes: 99 }, instances: { live: 2, idle: 1 } };

function inv(tier: Tier, total: number, opts: Partial<InvocationEvent> = {}): InvocationEvent {
  return { type: 'invocation', function: 'hello', version: 1, tier, zygote: null, sandbox: 's1', status: 200, error: null, phases: { total }, ...opts };
}

test('percentiles per tier interpolate over the samples (numpy linear)', () => {
  const stats = new Stats();
  // cold: 1..100 in a scrambled order; warm: 10, 20, 30, 40
  const order = Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) + 1);
  for (const ms of order) stats.record(inv('cold', ms));
  for (const ms of [40, 10, 30, 20]) stats.record(inv('warm', ms));
  const s = stats.snapshot(EXTRA);
  const cold = s.invocations.byTier.cold;
  assert.equal(cold.count, 100);
  assert.ok(Math.abs(cold.p50! - 50.5) < 1e-9);
  assert.ok(Math.abs(cold.p90! - 90.1) < 1e-9);
  assert.ok(Math.abs(cold.p99! - 99.01) < 1e-9);
  assert.ok(Math.abs(cold.mean! - 50.5) < 1e-9);
  const warm = s.invocations.byTier.warm;
  assert.equal(warm.p50, 25);
  assert.ok(Math.abs(warm.p90! - 37) < 1e-9);
  assert.ok(Math.abs(warm.p99! - 39.7) < 1e-9);
  assert.equal(warm.mean, 25);
  const zygote = s.invocations.byTier.zygote;
  assert.deepEqual([zygote.count, zygote.p50, zygote.p99, zygote.mean, zygote.window], [0, null, null, null, 0]);
});

test('the percentile window keeps only the last N calls per tier; the mean and counts cover all', () => {
  const stats = new Stats({ window: 10 });
  for (let i = 1; i <= 10; i++) stats.record(inv('warm', 1000)); // pushed out of the window
  for (let i = 1; i <= 10; i++) stats.record(inv('warm', i));
  stats.record(inv('cold', 500));
  const w = stats.snapshot(EXTRA).invocations.byTier.warm;
  assert.equal(w.count, 20);
  assert.equal(w.window, 10);
  assert.equal(w.p50, 5.5);
  assert.ok(Math.abs(w.p99! - 9.91) < 1e-9);
  assert.equal(w.mean, (10 * 1000 + 55) / 20);
  // the other tier's samples stay apart
  assert.equal(stats.snapshot(EXTRA).invocations.byTier.cold.p50, 500);
});

test('tier accounting: counts, errors, hit rates, per function counters', () => {
  const stats = new Stats();
  const empty = stats.snapshot(EXTRA);
  assert.deepEqual(empty.invocations.hitRates, { warm: 0, zygote: 0, cold: 0 });
  for (let i = 0; i < 6; i++) stats.record(inv('warm', 1));
  for (let i = 0; i < 3; i++) stats.record(inv('zygote', 5, { function: 'other', zygote: 'z1' }));
  stats.record(inv('cold', 50, { status: 422, error: 'function_error' }));
  stats.record(inv('warm', 2, { function: 'other', status: 504, error: 'timeout' }));
  stats.record(inv('warm', 2, { status: 500, error: null }));
  const s = stats.snapshot(EXTRA);
  assert.equal(s.invocations.total, 12);
  assert.equal(s.invocations.errors, 3);
  assert.deepEqual(
    Object.fromEntries(Object.entries(s.invocations.byTier).map(([t, v]) => [t, [v.count, v.errors]])),
    { warm: [8, 2], zygote: [3, 0], cold: [1, 1] },
  );
  assert.deepEqual(s.invocations.hitRates, { warm: 8 / 12, zygote: 3 / 12, cold: 1 / 12 });
  assert.deepEqual(s.functions, {
    hello: { count: 8, errors: 2, byTier: { warm: 7, zygote: 0, cold: 1 } },
    other: { count: 4, errors: 1, byTier: { warm: 1, zygote: 3, cold: 0 } },
  });
  stats.record({ type: 'function', action: 'removed', name: 'other', version: null });
  assert.deepEqual(Object.keys(stats.snapshot(EXTRA).functions), ['hello']);
});

test('per phase means leave total out; a missing total is the sum of the phases', () => {
  const stats = new Stats();
  stats.record(inv('cold', 0, { phases: { sandbox: 2, load: 4, run: 1 } }));
  stats.record(inv('cold', 0, { phases: { sandbox: 4, load: 6, run: 3, total: 14 } }));
  const cold = stats.snapshot(EXTRA).invocations.byTier.cold;
  assert.deepEqual(cold.phases, { sandbox: 3, load: 5, run: 2 });
  assert.equal(cold.mean, (7 + 14) / 2);
  assert.equal(totalMs({ a: 1, b: 2 }), 3);
  assert.equal(totalMs({ a: 1, total: 9 }), 9);
});

test('zygote and install events are counted; the extra parts are passed through', () => {
  let now = 1_000;
  const stats = new Stats({ now: () => now });
  const bus = new EventBus();
  const detach = stats.attach(bus);
  for (const action of ['created', 'created', 'forked', 'forked', 'forked', 'evicted', 'died'] as const) {
    bus.publish({ type: 'zygote', action, id: 'z', parent: null, packages: [] });
  }
  bus.publish({ type: 'install', package: 'a==1', ok: true, ms: 100 });
  bus.publish({ type: 'install', package: 'b==1', ok: false, ms: 300, error: 'boom' });
  bus.publish(inv('cold', 10));
  detach();
  bus.publish(inv('cold', 10)); // after detach: not counted
  now = 4_500;
  const s = stats.snapshot(EXTRA);
  assert.equal(s.uptimeSeconds, 3.5);
  assert.equal(s.invocations.total, 1);
  assert.deepEqual(s.zygotes, { count: 4, memoryBytes: 99, created: 2, forked: 3, evicted: 1, died: 1, frozen: 0, thawed: 0 });
  assert.deepEqual(s.installs, { ok: 1, failed: 1, meanMs: 200 });
  assert.deepEqual([s.pool, s.cache, s.instances], [EXTRA.pool, EXTRA.cache, EXTRA.instances]);
  // the snapshot is JSON as it is
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
});

test('a bad window size is refused', () => {
  assert.throws(() => new Stats({ window: 0 }), RangeError);
});
