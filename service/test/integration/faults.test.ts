// Faults, each with nothing lost: an instance, a process a function forked, or a Zygote killed mid-call; a Zygote
// killed while it forks; the daemon SIGKILLed while calls are in flight, then restarted; a full disk under the
// package cache. Every request gets a result or a clear, retryable error, and nothing stale is left behind.
//
// The file runs itself again in a private mount namespace (like native.test.ts), so the small tmpfs the full-disk
// test mounts under a daemon's state directory can never leak into the host's mount table.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

if (process.env.SOCKPIT_TEST_MOUNTNS === undefined) {
  const inner = spawnSync('unshare', ['--mount', '--propagation', 'private', process.execPath, ...process.execArgv, __filename], {
    stdio: 'inherit',
    env: { ...process.env, SOCKPIT_TEST_MOUNTNS: '1' },
  });
  if (inner.error) throw inner.error;
  process.exitCode = inner.status ?? 1;
} else {
  defineTests();
}

function defineTests(): void {
  /* eslint-disable @typescript-eslint/no-var-requires */
  const { buildWheel, buildWheelhouse } = require('../fixtures/wheels') as typeof import('../fixtures/wheels');
  const { eventually, mountsOf, noStrayProcesses, processesOf, startDaemon, uidOf } = require('./harness') as typeof import('./harness');
  const { SockpitClient } = require('../../src/client') as typeof import('../../src/client');
  type TestDaemon = import('./harness').TestDaemon;

  const SANDBOX_UID = 65534;
  let d: TestDaemon;

  /** the pid a process has in its innermost PID namespace (1 for an instance, 2 for the first child it forks) */
  function nsPid(pid: number): number | null {
    try {
      const line = /^NSpid:\s+(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      return line ? Number(line.trim().split(/\s+/).pop()) : null;
    } catch {
      return null;
    }
  }

  /** the daemon's sandbox-uid processes whose sandbox runs the function with this f.py, and their pids in their
   *  own namespace (1: an instance, 2: the first child it forks); a Zygote's spares, with no code yet, are not */
  function processesRunning(dd: TestDaemon, source: string, innerPid: number): number[] {
    return processesOf(dd.stateDir).filter((pid) => {
      try {
        return uidOf(pid) === SANDBOX_UID && nsPid(pid) === innerPid && fs.readFileSync(`/proc/${pid}/root/handler/f.py`, 'utf8') === source;
      } catch {
        return false; // gone, or no code in its sandbox
      }
    });
  }

  function isAlive(pid: number): boolean {
    try {
      return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    } catch {
      return false;
    }
  }

  // f marks its sandbox's /tmp once it runs: a test that kills something "mid-call" waits for that mark
  const sleeper = (result: string) =>
    `import time\ndef f(e):\n    open("/tmp/inside-f", "w").close()\n    time.sleep(e["s"])\n    return ${JSON.stringify(result)}\n`;
  const insideF = (pid: number) => fs.existsSync(`/proc/${pid}/root/tmp/inside-f`);

  describe('faults while calls run', () => {
    before(async () => {
      d = await startDaemon({ zygotes: { replyTimeoutMs: 5000 } });
    });
    after(async () => {
      await d?.stop();
    });

    test('an instance killed mid-call: the caller gets 502 instance_died (retryable), the next call works', async () => {
      await d.deploy('victim', { 'f.py': sleeper('slept') });
      const call = d.client.run('victim', { s: 10 });
      let victim = 0;
      await eventually(() => (victim = processesRunning(d, sleeper('slept'), 1)[0] ?? 0) > 0, 'the instance to start');
      await eventually(() => insideF(victim), 'the call to be inside f');
      process.kill(victim, 'SIGKILL');
      const r = await call;
      assert.equal(r.status, 502, JSON.stringify(r));
      assert.equal(r.error?.code, 'instance_died');
      assert.ok(r.tier, 'the answer still names the tier');
      const next = await d.client.run('victim', { s: 0 });
      assert.equal(next.status, 200, JSON.stringify(next));
      assert.equal(next.result, 'slept');
      await noStrayProcesses(d);
    });

    test('a process the function forked (a member of its pool cgroup) killed mid-call: the call still answers', async () => {
      const forker = [
        'import os, time',
        'def f(e):',
        '    pid = os.fork()',
        '    if pid == 0:',
        '        time.sleep(e["child"])',
        '        os._exit(0)',
        '    time.sleep(e["s"])',
        '    _, status = os.waitpid(pid, 0)',
        '    return {"child_signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None, "me": os.getpid()}',
        '',
      ].join('\n');
      await d.deploy('forker', { 'f.py': forker });
      const call = d.client.run('forker', { s: 2, child: 30 });
      let child = 0;
      await eventually(() => (child = processesRunning(d, forker, 2)[0] ?? 0) > 0, 'the forked child to appear');
      process.kill(child, 'SIGKILL');
      const r = await call;
      assert.equal(r.status, 200, JSON.stringify(r));
      assert.deepEqual(r.result, { child_signal: 9, me: 1 });
      const again = await d.client.run('forker', { s: 0, child: 0 });
      assert.equal(again.status, 200, JSON.stringify(again));
      assert.deepEqual(again.result, { child_signal: null, me: 1 });
      await noStrayProcesses(d);
    });

    test('the Zygote an instance was forked from killed mid-call: the call answers, the tree recovers', async () => {
      await d.deploy('orphan', { 'f.py': sleeper('orphaned but fine') });
      const base = (await d.client.zygotes()).find((z) => z.parent === null);
      assert.ok(base?.pid, 'a base Zygote');
      const call = d.client.run('orphan', { s: 1.5 });
      await eventually(() => processesRunning(d, sleeper('orphaned but fine'), 1).some(insideF), 'the call to be inside f');
      process.kill(base.pid, 'SIGKILL');
      const r = await call;
      assert.equal(r.status, 200, JSON.stringify(r));
      assert.equal(r.tier, 'zygote');
      assert.equal(r.result, 'orphaned but fine');
      await d.deploy('after', { 'f.py': 'def f(e):\n    return "after"\n' });
      const next = await d.client.run('after');
      assert.equal(next.status, 200, JSON.stringify(next));
      assert.equal(next.result, 'after');
      const tree = await d.client.zygotes();
      assert.ok(!tree.some((z) => z.id === base.id), 'the dead base left the tree');
      await noStrayProcesses(d);
    });

    test('SIGKILL of the daemon with calls in flight: the callers get an error, the restart keeps the functions and reclaims the rest', async () => {
      await d.deploy('inflight', { 'f.py': sleeper('done') });
      const caller = new SockpitClient(d.socket);
      const calls = Array.from({ length: 4 }, () =>
        caller.run('inflight', { s: 20 }).then(
          (r) => ({ answered: r.status }),
          (err: Error) => ({ error: err }),
        ),
      );
      await eventually(() => processesRunning(d, sleeper('done'), 1).filter(insideF).length >= 4, 'four calls to be inside f', 10_000);
      const oldProcesses = processesOf(d.stateDir);
      const sandboxes = path.join(d.stateDir, 'sandboxes');
      // a tmpfs in the daemon's own mount namespace: seen through its /proc/<pid>/root
      const sandboxesOf = (pid: number) => fs.readdirSync(`/proc/${pid}/root${sandboxes}`);
      const oldSandboxes = sandboxesOf(d.pid);
      assert.ok(oldSandboxes.length >= 4);
      const oldPid = d.pid;
      const functions = (await d.client.listFunctions()).map((f) => f.name).sort();

      await d.killAndRestart();
      for (const outcome of await Promise.all(calls)) {
        assert.ok('error' in outcome, `an in-flight call got an answer from a killed daemon: ${JSON.stringify(outcome)}`);
        assert.match(`${(outcome.error as { code?: string }).code} ${outcome.error.message}`, /closed|reset|UND_ERR_SOCKET|ECONNRESET/i);
      }
      await caller.close();

      assert.notEqual(d.pid, oldPid);
      assert.deepEqual((await d.client.listFunctions()).map((f) => f.name).sort(), functions, 'the functions are kept');
      const r = await d.client.run('inflight', { s: 0 });
      assert.equal(r.status, 200, JSON.stringify(r));
      assert.equal(r.result, 'done');
      // the old daemon's instances and Zygotes were killed, its sandboxes, their mounts and its scratch are gone
      await eventually(() => oldProcesses.every((pid) => !isAlive(pid)), 'the old processes to be gone');
      const now = sandboxesOf(d.pid);
      assert.deepEqual(now.filter((id) => oldSandboxes.includes(id)), [], 'no stale sandbox directory');
      const mounts = mountsOf(d.pid, sandboxes);
      assert.deepEqual(mounts.filter((m) => oldSandboxes.some((id) => m.startsWith(path.join(sandboxes, id)))), [], 'no stale mount');
      assert.deepEqual(mountsOf(process.pid, d.dir), [], 'no mount of a daemon in our namespace');
      await noStrayProcesses(d);
    });
  });

  test('a Zygote killed while it forks many instances at once: every call answers right', async () => {
    // no warm instances kept: every call forks a new instance from the base Zygote
    const z = await startDaemon({ warm: { memoryBudgetMb: 0 }, zygotes: { replyTimeoutMs: 5000 } });
    try {
      await z.deploy('double', { 'f.py': 'def f(e):\n    return e["n"] * 2\n' });
      assert.equal((await z.client.run('double', { n: 0 })).tier, 'zygote');
      for (let round = 0; round < 3; round++) {
        const base = (await z.client.zygotes()).find((n) => n.parent === null && n.pid !== null);
        const calls = Array.from({ length: 16 }, (_, i) => z.client.run('double', { n: i }));
        await new Promise((r) => setTimeout(r, 15 + round * 20));
        if (base?.pid) process.kill(base.pid, 'SIGKILL');
        const results = await Promise.all(calls);
        results.forEach((r, i) => {
          assert.equal(r.status, 200, `round ${round} call ${i}: ${JSON.stringify(r)}`);
          assert.equal(r.result, i * 2);
        });
      }
      await noStrayProcesses(z);
    } finally {
      await z.stop();
    }
  });

  test('a full disk under the package cache: the deploy fails clearly, nothing half-installed, the daemon serves on', async (t) => {
    const wheels = fs.mkdtempSync('/tmp/sockpit-faults-wheels-');
    t.after(() => fs.rmSync(wheels, { recursive: true, force: true }));
    buildWheelhouse(wheels, [{ name: 'smallpkg', version: '1.0', modules: { 'smallpkg/__init__.py': 'VALUE = "small"\n' } }]);
    // 4 MB of incompressible text: far more than the 2 MB the cache has
    buildWheel(wheels, { name: 'bigpkg', version: '1.0', modules: { 'bigpkg/__init__.py': `DATA = "${crypto.randomBytes(3 * 2 ** 20).toString('base64')}"\n` } });

    let packagesDir = '';
    const f = await startDaemon(
      { packages: { findLinks: wheels } },
      {
        beforeStart: ({ stateDir }) => {
          packagesDir = path.join(stateDir, 'packages');
          fs.mkdirSync(packagesDir, { recursive: true });
          const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'sockpit-test-full', packagesDir], { encoding: 'utf8' });
          assert.equal(m.status, 0, m.stderr);
        },
      },
    );
    try {
      await f.deploy('plain', { 'f.py': 'def f(e):\n    return "plain"\n' });
      const err = await f.deploy('big', { 'f.py': 'import bigpkg\ndef f(e):\n    return len(bigpkg.DATA)\n', 'requirements.txt': 'bigpkg==1.0\n' }).then(
        () => null,
        (e: Error & { status?: number; code?: string }) => e,
      );
      assert.ok(err, 'the deploy of a package bigger than the disk fails');
      assert.match(err.message, /bigpkg==1\.0/);
      assert.equal(err.status, 507, err.message);
      assert.equal(err.code, 'no_space');
      assert.match(err.message, /no space left on device in the package cache/, 'the message says why');
      await assert.rejects(f.client.getFunction('big'), /no function/);
      assert.ok(!fs.existsSync(path.join(packagesDir, 'store', 'bigpkg==1.0')), 'nothing half-installed in the store');
      await eventually(() => fs.readdirSync(path.join(packagesDir, 'tmp')).length === 0, 'the install work folder to be removed');
      assert.equal((await f.client.run('plain')).result, 'plain', 'the daemon still serves');
      await f.deploy('small', { 'f.py': 'import smallpkg\ndef f(e):\n    return smallpkg.VALUE\n', 'requirements.txt': 'smallpkg==1.0\n' });
      assert.equal((await f.client.run('small')).result, 'small', 'a later small install works');
      await noStrayProcesses(f);
    } finally {
      await f.stop({ keepFiles: true });
      if (packagesDir) spawnSync('umount', [packagesDir]);
      fs.rmSync(f.dir, { recursive: true, force: true });
    }
  });
}
