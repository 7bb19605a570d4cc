// The daemon's life as a process: the pid a user starts is the daemon, one daemon per state directory and socket,
// a daemon owned by a program stops when that program is SIGKILLed, and what vanishes under a daemon is an error
// it handles (an unhandled one fails the harness's stop()).

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as native from '../../../native';
import { SockpitClient } from '../../src/client';
import { envOwnedBy } from '../../src/daemon/parent';
import { cgroupsOf, descendantsOf, eventually, processesOf, startDaemon, type TestDaemon } from './harness';

const REPO = path.resolve(__dirname, '../../..');
const CLI = path.join(REPO, 'bin/sockpit.js');
const NO_ZYGOTES = { zygotes: { enabled: false }, pool: { initial: 4, max: 64 } };

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const clean of cleanups.reverse()) await clean();
});

/** Resolves when the process `pid` (ours or not) has exited: its pidfd becomes readable. */
function exitOf(pid: number): Promise<void> {
  let pidfd: number;
  try {
    pidfd = native.pidfdOpen(pid);
  } catch {
    return Promise.resolve(); // gone already
  }
  return new Promise((resolve) =>
    native.watchExit(pidfd, () => {
      fs.closeSync(pidfd);
      resolve();
    }),
  );
}

/** Processes whose command line mentions `text` (the test's own temp dir): what the daemon could have left. */
function processesMentioning(text: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)
    .filter((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockpit-life-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function answers(socket: string): Promise<number> {
  const client = new SockpitClient(socket);
  try {
    for (const deadline = Date.now() + 60_000; ; ) {
      try {
        return (await client.status()).pid;
      } catch {
        assert.ok(Date.now() < deadline, `no daemon answered on ${socket} within 60 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    await client.close();
  }
}

/** Runs a second `sockpit daemon` to its end: it must refuse at once. */
function secondDaemon(socket: string, stateDir: string, config: string) {
  return spawnSync(process.execPath, [CLI, 'daemon', '--socket', socket, '--state-dir', stateDir, '--config', config], {
    encoding: 'utf8',
    timeout: 60_000,
  });
}

test('the pid `sockpit daemon` starts is the daemon; a SIGKILL of it leaves no process, and the next start reclaims its cgroups', async () => {
  const d: TestDaemon = await startDaemon(NO_ZYGOTES);
  cleanups.push(() => d.stop());
  assert.equal(d.startedPid, d.pid, 'no wrapper process between the user and the daemon');
  await d.deploy('hello', { 'f.py': 'def f(e):\n    return "hi"\n' });
  assert.equal((await d.client.run('hello')).result, 'hi');
  const cgroups = cgroupsOf(d.stateDir);
  assert.ok(cgroups.length > 0);
  const before = d.pid;
  await d.killAndRestart();
  // the new daemon's own helpers (egress for its network namespaces, started as its pools fill) mention the dir
  // too; the killed one's end with it (their exit fd closes), which can take a moment after its pid is reaped
  const ofKilled = () => processesMentioning(d.dir).filter((p) => p !== d.pid && !descendantsOf(d.pid).includes(p));
  await eventually(() => ofKilled().length === 0, 'nothing of the killed daemon to run on');
  assert.ok(!fs.existsSync(`/proc/${before}`));
  assert.equal((await d.client.run('hello')).result, 'hi', 'the restarted daemon serves the same functions');
  await eventually(async () => processesOf(d.stateDir).length === (await d.client.status()).instances.live, 'only the new daemon’s instances');
});

test('a second daemon on the same state directory or the same socket exits at once naming the running one; the first serves on', async () => {
  const d = await startDaemon(NO_ZYGOTES);
  cleanups.push(() => d.stop());
  await d.deploy('hello', { 'f.py': 'def f(e):\n    return "hi"\n' });
  const config = path.join(d.dir, 'sockpitd.yaml');
  const other = tempDir();

  const sameState = secondDaemon(path.join(other, 'other.sock'), d.stateDir, config);
  assert.equal(sameState.status, 1, sameState.stderr);
  assert.match(sameState.stderr, new RegExp(`another sockpitd \\(pid ${d.pid}\\) is running on the state directory`));

  const sameSocket = secondDaemon(d.socket, path.join(other, 'state'), config);
  assert.equal(sameSocket.status, 1, sameSocket.stderr);
  assert.match(sameSocket.stderr, new RegExp(`another sockpitd \\(pid ${d.pid}\\) is running on the socket`));

  const pool = (await d.client.status()).pool.size;
  assert.ok(cgroupsOf(d.stateDir).length > 0, 'the first daemon kept its cgroups');
  assert.equal((await d.client.run('hello')).result, 'hi', 'the first daemon serves on');
  assert.equal((await d.client.status()).pool.size, pool);
});

test('a daemon whose owner (its parent) is SIGKILLed stops and removes its cgroups', async () => {
  const dir = tempDir();
  const config = path.join(dir, 'cfg.json');
  fs.writeFileSync(config, JSON.stringify(NO_ZYGOTES));
  const socket = path.join(dir, 'd.sock');
  const stateDir = path.join(dir, 'state');
  // the owner: a program that starts the daemon and stays (like npm start or a test runner)
  const owner: ChildProcess = spawn(
    process.execPath,
    ['-e', `const c = require('node:child_process').spawn(process.execPath, ${JSON.stringify([CLI, 'daemon', '--socket', socket, '--state-dir', stateDir, '--config', config])}, { stdio: 'ignore', env: { ...process.env, SOCKPIT_OWNER_PID: String(process.pid) } }); console.log(c.pid);`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  cleanups.push(() => owner.kill('SIGKILL'));
  const daemonPid = await answers(socket);
  assert.ok(cgroupsOf(stateDir).length > 0);
  const exited = exitOf(daemonPid);
  owner.kill('SIGKILL');
  await exited;
  assert.deepEqual(cgroupsOf(stateDir), [], 'it stopped as on SIGTERM: its cgroups are gone');
  assert.deepEqual(processesMentioning(dir), []);
});

test('a daemon whose owner is not its parent stops when the owner dies', async () => {
  const dir = tempDir();
  const config = path.join(dir, 'cfg.json');
  fs.writeFileSync(config, JSON.stringify(NO_ZYGOTES));
  const socket = path.join(dir, 'd.sock');
  const stateDir = path.join(dir, 'state');
  const owner = spawn('sleep', ['600'], { stdio: 'ignore' });
  cleanups.push(() => owner.kill('SIGKILL'));
  const daemon = spawn(process.execPath, [CLI, 'daemon', '--socket', socket, '--state-dir', stateDir, '--config', config], {
    stdio: 'ignore',
    env: envOwnedBy(owner.pid!),
  });
  cleanups.push(() => daemon.kill('SIGKILL'));
  const exited = new Promise((resolve) => daemon.once('exit', resolve));
  assert.equal(await answers(socket), daemon.pid);
  owner.kill('SIGKILL');
  assert.equal(await exited, 0, 'a clean stop');
  assert.deepEqual(cgroupsOf(stateDir), []);
});

test('pool cgroups removed under the daemon are replaced and logged, never an unhandled rejection', async () => {
  const d = await startDaemon(NO_ZYGOTES);
  cleanups.push(() => d.stop());
  await d.deploy('hello', { 'f.py': 'def f(e):\n    return "hi"\n' });
  // the free slots are empty cgroups: rmdir takes them from under the daemon (what a second daemon's reclaim did)
  let removed = 0;
  for (const dir of cgroupsOf(d.stateDir)) {
    for (const slot of fs.readdirSync(dir).filter((n) => n.startsWith('pool-'))) {
      try {
        fs.rmdirSync(path.join(dir, slot));
        removed++;
      } catch {
        // in use (EBUSY) or removed in another hierarchy already
      }
    }
  }
  assert.ok(removed > 0, 'some free slots were removed');
  for (let i = 0; i < 6; i++) {
    const r = await d.client.run('hello', null);
    assert.equal(r.result, 'hi', JSON.stringify(r));
  }
  assert.match(d.log(), /vanished from the pool; it is replaced/);
  // d.stop() in after() fails the test run on any "unhandled rejection" or "uncaught" in the daemon's log
});

test('a benchmark suite SIGKILLed mid-run leaves no daemon behind', { timeout: 300_000 }, async () => {
  const suite = spawn(process.execPath, [CLI, 'bench', 'load', '--calls', '1000000', '--no-kills', '--progress-json'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  cleanups.push(() => suite.kill('SIGKILL'));
  let progress = '';
  await new Promise<void>((resolve, reject) => {
    suite.stderr!.on('data', (d) => {
      progress += d;
      if (progress.includes('deploying')) resolve(); // its daemon answers: it deploys through it
    });
    suite.once('exit', (code) => reject(new Error(`the suite exited (${code}) before it started its daemon:\n${progress}`)));
  });
  const daemons = processesMentioning('sockpit-bench-load-').filter((p) => p !== suite.pid);
  assert.ok(daemons.length > 0, 'the suite runs a daemon');
  const tmp = /(\/tmp\/sockpit-bench-load-[^/\s]+)/.exec(fs.readFileSync(`/proc/${daemons[0]}/cmdline`, 'utf8').replace(/\0/g, ' '))?.[1];
  assert.ok(tmp, 'the daemon runs in the suite’s temp dir');
  cleanups.push(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const gone = Promise.all(daemons.map(exitOf));
  suite.kill('SIGKILL');
  await gone;
  assert.deepEqual(processesMentioning(tmp), [], 'no daemon of the suite is left');
  assert.deepEqual(cgroupsOf(path.join(tmp, 'load-state')), [], 'its daemon removed its cgroups');
});
