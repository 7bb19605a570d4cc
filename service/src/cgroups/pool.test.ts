import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { SockpitError } from '../errors';
import type { Cgroup, CgroupDriver, Limits } from './driver';
import { CgroupPool, PoolBook } from './pool';

const L1: Limits = { memoryBytes: 64 << 20, pids: 32, cpus: 1 };
const L2: Limits = { memoryBytes: 128 << 20, pids: 32, cpus: 1 };

test('PoolBook: reuse, last released first, growth up to max', () => {
  const book = new PoolBook<string>(3);
  book.addFree('a');
  book.addFree('b');
  assert.deepEqual(book.stats(), { size: 2, free: 2, inUse: 0, resetting: 0 });
  const x = book.take();
  assert.equal(x, 'b');
  assert.equal(book.take(), 'a');
  assert.equal(book.take(), undefined);
  assert.equal(book.canGrow(), true);
  book.addInUse('c');
  assert.equal(book.canGrow(), false);
  book.beginReset('a');
  assert.deepEqual(book.stats(), { size: 3, free: 0, inUse: 3, resetting: 1 });
  book.finishReset('a');
  assert.equal(book.take(), 'a');
});

test('PoolBook: limits are cached per slot and forgotten on demand', () => {
  const book = new PoolBook<string>();
  book.addFree('a');
  assert.equal(book.needsLimits('a', L1), true);
  book.recordLimits('a', L1);
  assert.equal(book.needsLimits('a', { ...L1 }), false);
  assert.equal(book.needsLimits('a', L2), true);
  book.forgetLimits('a');
  assert.equal(book.needsLimits('a', L1), true);
});

test('PoolBook: double release is a conflict; a discarded slot is never handed out', () => {
  const book = new PoolBook<string>();
  book.addFree('a');
  book.take();
  book.beginReset('a');
  assert.throws(() => book.beginReset('a'), (e: unknown) => e instanceof SockpitError && e.code === 'conflict');
  book.discard('a');
  assert.equal(book.take(), undefined);
  assert.equal(book.size, 0);
  assert.throws(() => book.beginReset('a'), /not in use/);
});

/** An in-memory driver that records what the pool asks for. */
function fakeDriver(opts: { failKill?: Set<string> } = {}) {
  const calls: string[] = [];
  const live = new Set<string>();
  const mk = (name: string): Cgroup => ({ name, paths: { memory: name, pids: name, cpu: name, freezer: name }, dirs: [name] });
  const driver: CgroupDriver = {
    mode: 'hybrid',
    tag: 't',
    setup: () => void calls.push('setup'),
    create: (name) => {
      calls.push(`create ${name}`);
      live.add(name);
      return mk(name);
    },
    joinFiles: (cg) => [`${cg.name}/cgroup.procs`],
    setLimits: (cg, l) => void calls.push(`limits ${cg.name} ${l.memoryBytes}`),
    readLimits: () => L1,
    freeze: () => {},
    thaw: (cg) => void calls.push(`thaw ${cg.name}`),
    freezeState: () => 'thawed',
    kill: async (cg) => {
      calls.push(`kill ${cg.name}`);
      if (opts.failKill?.has(cg.name)) throw new SockpitError('internal', `Can't empty cgroup ${cg.name}`);
    },
    pids: () => [],
    members: () => [],
    memoryBytes: () => 0,
    oomKills: () => 0,
    destroy: (cg) => {
      calls.push(`destroy ${cg.name}`);
      live.delete(cg.name);
    },
    removeStale: async () => {
      calls.push('removeStale');
      return 2;
    },
    teardown: async () => void calls.push('teardown'),
    info: () => ({ mode: 'hybrid', tag: 't', hierarchies: [], memory: 'v1', cpu: 'v1', freezer: 'v2', killer: 'cgroup.kill' }),
  };
  return { driver, calls, live };
}

test('CgroupPool: start pre-creates, acquire reuses and writes limits only when they change', async () => {
  const { driver, calls, live } = fakeDriver();
  const pool = new CgroupPool(driver, { initial: 2 });
  assert.throws(() => pool.acquire(L1), /not started/);
  await pool.start();
  assert.deepEqual(calls.splice(0), ['removeStale', 'setup', 'create pool-0', 'create pool-1']);
  assert.equal(pool.staleRemoved, 2);
  const a = pool.acquire(L1);
  assert.deepEqual(calls.splice(0), [`limits ${a.name} ${L1.memoryBytes}`]);
  await pool.release(a);
  assert.deepEqual(calls.splice(0), [`kill ${a.name}`]);
  assert.equal(pool.acquire(L1), a); // same slot, limits unchanged: no write
  assert.deepEqual(calls.splice(0), []);
  const b = pool.acquire(L2);
  const c = pool.acquire(L2); // grows
  assert.notEqual(b, c);
  assert.deepEqual(pool.stats(), { size: 3, free: 0, inUse: 3, resetting: 0 });
  await assert.rejects(pool.release(a).then(() => pool.release(a)), /not in use/);
  await pool.stop();
  assert.equal(live.size, 0);
  assert.ok(calls.includes('teardown'));
});

test('CgroupPool: a slot that fails to reset is destroyed and replaced, never reused', async () => {
  const { driver, calls } = fakeDriver({ failKill: new Set(['pool-0']) });
  const pool = new CgroupPool(driver, { initial: 1 });
  await pool.start();
  const a = pool.acquire(L1);
  assert.equal(a.name, 'pool-0');
  await assert.rejects(pool.release(a), /taken out of the pool/);
  assert.ok(calls.includes('destroy pool-0'));
  assert.deepEqual(pool.stats(), { size: 1, free: 1, inUse: 0, resetting: 0 });
  const b = pool.acquire(L1);
  assert.equal(b.name, 'pool-1');
  await pool.stop();
});

test('CgroupPool: max bounds growth; pooled:false creates and destroys per use', async () => {
  const { driver, calls } = fakeDriver();
  const pool = new CgroupPool(driver, { initial: 1, max: 1 });
  await pool.start();
  pool.acquire(L1);
  assert.throws(() => pool.acquire(L1), (e: unknown) => e instanceof SockpitError && e.code === 'overloaded');
  await pool.stop();

  const raw = fakeDriver();
  const unpooled = new CgroupPool(raw.driver, { pooled: false, initial: 5 });
  await unpooled.start();
  const x = unpooled.acquire(L1);
  await unpooled.release(x);
  assert.deepEqual(raw.calls, ['removeStale', 'setup', 'create sb-0', `limits sb-0 ${L1.memoryBytes}`, 'kill sb-0', 'destroy sb-0']);
  assert.deepEqual(unpooled.stats(), { size: 0, free: 0, inUse: 0, resetting: 0 });
  await unpooled.stop();
});
