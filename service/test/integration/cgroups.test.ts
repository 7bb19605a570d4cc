// Root, real kernel: the cgroup driver and pool on this host (hybrid here), plus the v1-only path on the same
// machine (the unified hierarchy ignored), so both freezers and both killers run for real.
// Everything lives under tags named sockpit-test-<pid>...; every test cleans up, even when it fails.

import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CgroupPool, createDriver, readLayout, withoutUnified, type Cgroup, type CgroupDriver, type Limits } from '../../src/cgroups';

const TAG = `sockpit-test-${process.pid}`;
const MB = 1 << 20;
const LIMITS: Limits = { memoryBytes: 256 * MB, pids: 64, cpus: 1 };
const PY = '/usr/bin/python3';

const children = new Set<ChildProcess>();

function start(cmd: string, args: string[]): ChildProcess & { exited: Promise<{ code: number | null; signal: string | null; out: string }> } {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: string | null; out: string }>((resolve) =>
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal, out });
    }),
  );
  return Object.assign(child, { exited });
}

/** joins pid to cg the way the daemon will: one write per joinFiles path */
function join(driver: CgroupDriver, cg: Cgroup, pid: number): void {
  for (const file of driver.joinFiles(cg)) fs.writeFileSync(file, String(pid));
}

function procState(pid: number): { state: string; utime: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0], utime: Number(rest[11]) + Number(rest[12]) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function leftovers(tag: string): string[] {
  const out = execFileSync('find', ['/sys/fs/cgroup', '-name', `*${tag}*`], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l !== '');
}

after(() => {
  for (const c of children) if (c.pid !== undefined && c.exitCode === null) process.kill(c.pid, 'SIGKILL');
});

const layout = readLayout();

describe(`pool on this host (${layout.mode})`, () => {
  const driver = createDriver(layout, TAG);
  const pool = new CgroupPool(driver, { initial: 2 });

  before(async () => {
    await pool.start();
  });
  after(async () => {
    try {
      await pool.stop();
    } finally {
      await driver.teardown().catch(() => {});
    }
    assert.deepEqual(leftovers(TAG), []);
  });

  test('layout and driver choices', () => {
    const info = driver.info();
    console.log('# driver', JSON.stringify(info));
    if (layout.mode === 'hybrid') {
      assert.equal(info.hierarchies.length, 5); // memory, pids, cpu, freezer (v1) + unified
      assert.equal(info.freezer, 'v2');
      assert.equal(info.killer, 'cgroup.kill');
    }
    assert.deepEqual(pool.stats(), { size: 2, free: 2, inUse: 0, resetting: 0 });
    for (const h of info.hierarchies) assert.ok(fs.existsSync(path.join(h, 'pool-0')), h);
  });

  test('limits are written and read back from the files', async () => {
    const cg = pool.acquire(LIMITS);
    try {
      assert.deepEqual(driver.readLimits(cg), LIMITS);
      driver.setLimits(cg, { memoryBytes: 100 * MB, pids: 7, cpus: 0.5 });
      assert.deepEqual(driver.readLimits(cg), { memoryBytes: 100 * MB, pids: 7, cpus: 0.5 });
      if (layout.controllers.cpu.version === 1) {
        assert.equal(fs.readFileSync(path.join(cg.paths.cpu, 'cpu.cfs_quota_us'), 'utf8').trim(), '50000');
      }
      driver.setLimits(cg, { memoryBytes: Infinity, pids: Infinity, cpus: Infinity });
      assert.deepEqual(driver.readLimits(cg), { memoryBytes: Infinity, pids: Infinity, cpus: Infinity });
      driver.setLimits(cg, LIMITS);
    } finally {
      await pool.release(cg);
    }
  });

  test('a process joins, freezes, thaws, is killed; the slot is reused', async () => {
    const cg = pool.acquire(LIMITS);
    const spin = start('/bin/sh', ['-c', 'while :; do :; done']);
    try {
      join(driver, cg, spin.pid!);
      assert.deepEqual(driver.pids(cg), [spin.pid]);
      for (const f of driver.joinFiles(cg)) assert.equal(fs.readFileSync(f, 'utf8').trim(), String(spin.pid), f);

      driver.freeze(cg);
      await until('frozen', () => driver.freezeState(cg) === 'frozen');
      if (cg.paths.unified) assert.match(fs.readFileSync(path.join(cg.paths.unified, 'cgroup.events'), 'utf8'), /frozen 1/);
      const frozen = procState(spin.pid!);
      console.log(`# frozen via ${driver.info().freezer}: /proc/pid/stat state ${frozen.state}`);
      assert.notEqual(frozen.state, 'R');
      await sleep(100);
      assert.equal(procState(spin.pid!).utime, frozen.utime, 'no CPU time while frozen');

      driver.thaw(cg);
      await until('thawed', () => driver.freezeState(cg) === 'thawed');
      await until('running again', () => procState(spin.pid!).utime > frozen.utime);

      driver.freeze(cg); // killing a frozen cgroup must work, and release must thaw it
      await driver.kill(cg);
      assert.deepEqual(await spin.exited, { code: null, signal: 'SIGKILL', out: '' });
      assert.deepEqual(driver.pids(cg), []);
    } finally {
      await pool.release(cg);
    }
    assert.equal(driver.freezeState(cg), 'thawed');
    const again = pool.acquire(LIMITS);
    assert.equal(again, cg);
    assert.deepEqual(again.dirs, cg.dirs);
    await pool.release(again);
  });

  test('release kills what is left and waits until the cgroup is empty', async () => {
    const cg = pool.acquire(LIMITS);
    const s = start('/bin/sleep', ['30']);
    join(driver, cg, s.pid!);
    await pool.release(cg);
    assert.equal((await s.exited).signal, 'SIGKILL');
    assert.deepEqual(driver.pids(cg), []);
  });

  test('OOM: a process over a 64 MB limit is killed and oomKills counts it', async () => {
    const cg = pool.acquire({ ...LIMITS, memoryBytes: 64 * MB });
    try {
      const before = driver.oomKills(cg);
      // waits on stdin until it is in the cgroup, then allocates (and touches) 400 MB
      const py = start(PY, ['-c', 'import sys; sys.stdin.readline(); b = bytearray(400 * 2**20); print("survived")']);
      join(driver, cg, py.pid!);
      py.stdin!.write('go\n');
      const res = await py.exited;
      assert.equal(res.signal, 'SIGKILL', res.out);
      assert.equal(driver.oomKills(cg), before + 1);
    } finally {
      await pool.release(cg);
    }
    // the slot goes back with its 64 MB limit cached; asking for the usual limits rewrites it
    const next = pool.acquire(LIMITS);
    assert.equal(driver.readLimits(next).memoryBytes, LIMITS.memoryBytes);
    await pool.release(next);
  });

  test('pids limit: with pids.max=5 a shell that forks many fails', async () => {
    const cg = pool.acquire({ ...LIMITS, pids: 5 });
    try {
      const sh = start('/bin/sh', ['-c', 'read x; i=0; while [ $i -lt 20 ]; do sleep 30 & i=$((i+1)); done; echo forked $i']);
      join(driver, cg, sh.pid!);
      sh.stdin!.write('go\n');
      const res = await sh.exited;
      assert.match(res.out, /Cannot fork/);
      assert.doesNotMatch(res.out, /forked 20/);
      assert.equal(driver.pids(cg).length, 4, 'the sleeps that did fork are still in the cgroup'); // 5 - the shell
      await driver.kill(cg);
      assert.deepEqual(driver.pids(cg), []);
    } finally {
      await pool.release(cg);
    }
  });

  test('memory usage is reported', async () => {
    const cg = pool.acquire(LIMITS);
    try {
      const py = start(PY, ['-c', 'import sys; sys.stdin.readline(); b = bytearray(40 * 2**20); print("ok", flush=True); sys.stdin.readline()']);
      join(driver, cg, py.pid!);
      py.stdin!.write('go\n');
      await until('allocated', () => driver.memoryBytes(cg) > 40 * MB, 5000);
    } finally {
      await pool.release(cg);
    }
  });

  test('pooled:false makes and removes a cgroup per use', async () => {
    const raw = new CgroupPool(createDriver(layout, `${TAG}-raw`), { pooled: false });
    await raw.start();
    try {
      const cg = raw.acquire(LIMITS);
      assert.ok(cg.dirs.every((d) => fs.existsSync(d)));
      await raw.release(cg);
      assert.ok(cg.dirs.every((d) => !fs.existsSync(d)));
    } finally {
      await raw.stop();
    }
    assert.deepEqual(leftovers(`${TAG}-raw`), []);
  });
});

describe('removeStale', () => {
  const tag = `${TAG}-stale`;
  after(async () => {
    await createDriver(layout, tag).teardown();
    assert.deepEqual(leftovers(tag), []);
  });

  test('a leftover tree with a live member is killed and removed, deepest first', async () => {
    const crashed = createDriver(layout, tag);
    crashed.setup();
    crashed.create('pool-0');
    const nested = crashed.create('pool-0/inner');
    crashed.create('pool-1');
    const s = start('/bin/sleep', ['30']);
    join(crashed, nested, s.pid!);
    crashed.freeze(nested); // a crash can leave it frozen, too

    const fresh = createDriver(layout, tag);
    assert.equal(await fresh.removeStale(), 3);
    assert.equal((await s.exited).signal, 'SIGKILL');
    for (const h of fresh.info().hierarchies) assert.deepEqual(fs.readdirSync(h).filter((f) => fs.statSync(path.join(h, f)).isDirectory()), [], h);
    assert.equal(await fresh.removeStale(), 0);
  });
});

describe('the v1-only path on this machine (no unified hierarchy)', { skip: layout.mode !== 'hybrid' && 'needs a hybrid host' }, () => {
  const tag = `${TAG}-v1`;
  const driver = layout.mode === 'hybrid' ? createDriver(withoutUnified(layout), tag) : undefined!;
  const pool = layout.mode === 'hybrid' ? new CgroupPool(driver, { initial: 1 }) : undefined!;

  before(async () => {
    await pool.start();
  });
  after(async () => {
    try {
      await pool.stop();
    } finally {
      await driver.teardown().catch(() => {});
    }
    assert.deepEqual(leftovers(tag), []);
  });

  test('v1 freezer freezes and thaws; freeze + SIGKILL empties the cgroup', async () => {
    const info = driver.info();
    assert.equal(info.mode, 'v1');
    assert.equal(info.hierarchies.length, 4);
    const cg = pool.acquire(LIMITS);
    const spin = start('/bin/sh', ['-c', 'while :; do :; done']);
    try {
      assert.equal(driver.joinFiles(cg).length, 4);
      join(driver, cg, spin.pid!);
      driver.freeze(cg);
      await until('FROZEN', () => driver.freezeState(cg) === 'frozen');
      assert.equal(fs.readFileSync(path.join(cg.paths.freezer, 'freezer.state'), 'utf8').trim(), 'FROZEN');
      const frozen = procState(spin.pid!);
      console.log(`# frozen via v1 freezer: /proc/pid/stat state ${frozen.state}`);
      await sleep(100);
      assert.equal(procState(spin.pid!).utime, frozen.utime, 'no CPU time while frozen');
      driver.thaw(cg);
      await until('running again', () => procState(spin.pid!).utime > frozen.utime);
      await driver.kill(cg);
      assert.equal(driver.info().killer, 'freeze+SIGKILL');
      assert.equal((await spin.exited).signal, 'SIGKILL');
      assert.deepEqual(driver.pids(cg), []);
    } finally {
      await pool.release(cg);
    }
    assert.equal(pool.acquire(LIMITS), cg);
    await pool.release(cg);
  });

  test('a process that forks without end is emptied by the freeze + SIGKILL loop', async () => {
    const cg = pool.acquire(LIMITS);
    try {
      // it keeps trying at the pids limit (a shell would exit on its first failed fork, before the kill)
      const forker = 'import os, sys, time\nsys.stdin.readline()\nwhile True:\n    try:\n        if os.fork() == 0:\n            time.sleep(30)\n            os._exit(0)\n    except OSError:\n        time.sleep(0.001)\n';
      const sh = start('/usr/bin/python3', ['-c', forker]);
      join(driver, cg, sh.pid!);
      sh.stdin!.write('go\n');
      await until('forking', () => driver.pids(cg).length > 10);
      await driver.kill(cg);
      assert.equal((await sh.exited).signal, 'SIGKILL');
      assert.deepEqual(driver.pids(cg), []);
    } finally {
      await pool.release(cg);
    }
  });
});
