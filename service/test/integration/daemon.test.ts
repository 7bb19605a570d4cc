// sockpitd end to end: deploy, cold and warm tiers, the API's answers, persistence, clean stop. These run with
// Zygotes off, so every start is a cold one (zygotes.test.ts covers the Zygote tier).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { cgroupsOf, eventually, frozenStates, mountsOf, processesOf, startDaemon, TestDaemon, noStrayProcesses } from './harness';
import { tarOf } from '../fixtures/tar';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const CLI = path.resolve(__dirname, '../../../bin/sockpit.js');

let d: TestDaemon;

const NO_ZYGOTES = { zygotes: { enabled: false } };

before(async () => {
  d = await startDaemon(NO_ZYGOTES);
});
after(async () => {
  await d?.stop();
});

test('status reports the cgroup mode, the base and the pool', async () => {
  const s = await d.client.status();
  assert.equal(s.pid, d.pid);
  assert.match(s.cgroupMode, /^(v1|v2|hybrid)$/);
  assert.equal(s.python, '/usr/bin/python3');
  assert.ok(s.pool.size >= 4, `pool size ${s.pool.size}`);
});

test('status reports the kernel and every protection active on this host (Landlock ABI 6+); the CLI prints them', async () => {
  const s = await d.client.status();
  assert.ok(s.kernel.landlockAbi >= 6, `this host's Landlock ABI is ${s.kernel.landlockAbi}`);
  assert.equal(s.kernel.landlockAbiUsed, s.kernel.landlockAbi);
  assert.equal(s.kernel.release, (await import('node:os')).release());
  assert.ok(s.kernel.userns && s.kernel.seccomp && s.kernel.pidfd, JSON.stringify(s.kernel));
  // cgroup.kill and cgroup.freeze are there only where sandboxes join a v2 hierarchy; elsewhere (v1, and a hybrid
  // host whose controllers are all on v1: cgroups/layout.ts) the driver's fallbacks cover them
  assert.deepEqual(
    s.protections.map((p) => `${p.name}: ${p.state}`),
    [
      ...['filesystem reads', 'abstract unix sockets', 'signals', 'system call filter', 'process handles'].map((n) => `${n}: active`),
      `cgroup kill: ${s.kernel.cgroupKill ? 'active' : 'covered'}`,
      `cgroup freeze: ${s.kernel.cgroupFreeze ? 'active' : 'covered'}`,
    ],
  );
  assert.equal(s.zygotes.offBecause, 'zygotes.enabled is false');
  const { stdout } = await promisify(execFile)(process.execPath, [CLI, 'status', '--socket', d.socket]);
  assert.match(stdout, new RegExp(`^kernel \\S+: Landlock ABI ${s.kernel.landlockAbi}, user namespaces yes, seccomp yes`, 'm'));
  for (const p of s.protections) {
    const state = p.state === 'covered' ? `covered by ${p.coveredBy}` : p.state;
    assert.ok(stdout.includes(`protection ${p.name}: ${state} (`), `${p.name} in:\n${stdout}`);
  }
  assert.match(d.log(), /^sockpitd: protection signals: active \(Landlock ABI \d+/m);
});

test('told to use Landlock ABI 2 (as on Debian 12), it starts with scoping covered by namespaces and runs functions through its Zygotes', async () => {
  const old = await startDaemon({ kernel: { assumeLandlockAbi: 2 } });
  try {
    const s = await old.client.status();
    assert.equal(s.kernel.landlockAbiUsed, 2);
    const states = Object.fromEntries(s.protections.map((p) => [p.name, p.state === 'covered' ? `covered by ${p.coveredBy}` : p.state]));
    assert.equal(states['abstract unix sockets'], 'covered by a network namespace per sandbox');
    assert.equal(states.signals, 'covered by a PID namespace per instance, no CAP_KILL in Zygotes');
    assert.equal(states['filesystem reads'], 'active');
    assert.equal(s.zygotes.enabled, true);
    await old.deploy('echo', { 'f.py': 'def f(event):\n    return event\n' });
    const r = await old.client.run('echo', 'on ABI 2');
    assert.equal(r.status, 200, JSON.stringify(r.error));
    assert.equal(r.result, 'on ABI 2');
    assert.equal(r.tier, 'zygote', 'forked by a Zygote confined by a Landlock ABI 2 ruleset');
  } finally {
    await old.stop();
  }
});

test('with Landlock below ABI 6 and network.mode host it refuses to start, naming the kernel feature', async () => {
  await assert.rejects(
    startDaemon({ ...NO_ZYGOTES, network: { mode: 'host' }, kernel: { assumeLandlockAbi: 5 } }),
    /will not start on this kernel: Landlock ABI 6 \(abstract unix socket scoping\), kernel 6\.12\+, is missing .*network\.mode to "isolated"/,
  );
});

test('a function runs cold, then warm, with the tier and phase timings', async () => {
  await d.deploy('echo', { 'f.py': 'def f(event):\n    return {"got": event}\n' });
  const cold = await d.client.run('echo', { name: 'x' });
  assert.equal(cold.status, 200, JSON.stringify(cold.error));
  assert.deepEqual(cold.result, { got: { name: 'x' } });
  assert.equal(cold.tier, 'cold');
  for (const phase of ['sandbox', 'spawn', 'boot', 'load', 'exec', 'total']) assert.ok(phase in cold.timings, `cold has ${phase}`);
  const warm = await d.client.run('echo', [1, 2, 3]);
  assert.equal(warm.tier, 'warm');
  assert.deepEqual(warm.result, { got: [1, 2, 3] });
  assert.equal(warm.sandbox, cold.sandbox, 'the warm call reuses the same sandbox');
  assert.ok(('thaw' in warm.timings || 'reuse' in warm.timings) && !('spawn' in warm.timings));
  // once idle past the grace period it is frozen, and the next call thaws it
  await eventually(() => frozenStates(d.stateDir).some(Boolean), 'the idle instance to be frozen');
  const thawed = await d.client.run('echo', 'again');
  assert.equal(thawed.tier, 'warm');
  assert.ok('thaw' in thawed.timings, `timings: ${JSON.stringify(thawed.timings)}`);
});

test('an idle instance is frozen between calls', async () => {
  await d.deploy('idle', { 'f.py': 'import os\ndef f(event):\n    return os.getpid()\n' });
  await d.client.run('idle');
  const frozen = fs
    .readFileSync(`/proc/${d.pid}/mountinfo`, 'utf8')
    .includes('/sandboxes/');
  assert.ok(frozen, 'the idle sandbox is still mounted');
  // freezing completes asynchronously
  await eventually(() => frozenStates(d.stateDir).length >= 1 && frozenStates(d.stateDir).every(Boolean), 'idle sandboxes to be frozen');
});

test('the environment of ol.yaml reaches the function; redeploy picks up new code', async () => {
  await d.deploy('env', { 'f.py': 'import os\ndef f(e):\n    return os.environ.get("GREETING")\n', 'ol.yaml': 'environment:\n  GREETING: hi\n' });
  assert.equal((await d.client.run('env')).result, 'hi');
  assert.equal((await d.client.run('env')).tier, 'warm');
  await d.deploy('env', { 'f.py': 'def f(e):\n    return "v2"\n' });
  const after = await d.client.run('env');
  assert.equal(after.result, 'v2');
  assert.equal(after.tier, 'cold', 'a redeploy retires the warm instances of the old code');
  assert.equal((await d.client.getFunction('env')).version, 2);
});

test('a function that raises answers 422 with the traceback, and its instance stays usable', async () => {
  await d.deploy('raises', { 'f.py': 'def f(e):\n    if e == "boom":\n        raise KeyError("boom")\n    return "fine"\n' });
  const bad = await d.client.run('raises', 'boom');
  assert.equal(bad.status, 422);
  assert.equal(bad.error?.code, 'function_error');
  assert.match((bad.error?.detail as { traceback: string }).traceback, /KeyError: 'boom'/);
  const good = await d.client.run('raises', 'ok');
  assert.equal(good.status, 200);
  assert.equal(good.tier, 'warm');
});

test('broken code: a syntax error and a missing f are load errors (422), not crashes', async () => {
  await d.deploy('syntax', { 'f.py': 'def f(e) return 1\n' });
  const r = await d.client.run('syntax');
  assert.equal(r.status, 422);
  assert.match(r.error!.message, /failed to load: SyntaxError/);
  await d.deploy('nof', { 'f.py': 'x = 1\n' });
  assert.match((await d.client.run('nof')).error!.message, /defines no callable f/);
  await d.deploy('exits', { 'f.py': 'import sys\nsys.exit(3)\n' });
  assert.equal((await d.client.run('exits')).status, 422);
});

test('a return value that is not JSON-serialisable is a clear error', async () => {
  await d.deploy('badreturn', { 'f.py': 'def f(e):\n    return {1, 2}\n' });
  const r = await d.client.run('badreturn');
  assert.equal(r.status, 422);
  assert.match(r.error!.message, /TypeError.*not JSON serializable/);
});

test('malformed requests get 400, unknown functions 404, bad deploys 400', async () => {
  await d.deploy('ok', { 'f.py': 'def f(e):\n    return e\n' });
  assert.equal((await d.client.runRaw('ok', '{"unclosed": ')).status, 400);
  assert.equal((await d.client.run('missing')).status, 404);
  assert.equal((await d.client.request('POST', '/run/Bad..Name', '{}')).status, 400);
  assert.equal((await d.client.request('PUT', '/v1/functions/x', 'not json')).status, 400);
  // a folder is sent, never named: the old {"path"} form is refused whatever the path
  assert.equal((await d.client.request('PUT', '/v1/functions/x', JSON.stringify({ path: path.join(d.dir, 'src', 'ok') }))).status, 400, 'no deploy by path');
  assert.equal((await d.client.request('PUT', '/v1/functions/x', await tarOf([{ name: 'g.py', content: '' }]), { 'content-type': 'application/x-tar' })).status, 400, 'no f.py');
  assert.equal((await d.client.request('GET', '/v1/nothing')).status, 404);
  // a body over the limit is refused from its Content-Length, before it is read (a client that keeps writing
  // then sees the connection close, so this speaks HTTP by hand)
  const answer = await new Promise<string>((resolve, reject) => {
    const sock = net.connect(d.socket, () => sock.write('POST /run/ok HTTP/1.1\r\nHost: x\r\nContent-Length: 7340032\r\n\r\n'));
    let text = '';
    sock.on('data', (chunk) => {
      text += chunk;
      if (text.includes('\r\n\r\n')) {
        sock.destroy();
        resolve(text);
      }
    });
    sock.on('error', reject);
  });
  assert.match(answer, /^HTTP\/1\.1 413/);
  // and the daemon still serves
  assert.equal((await d.client.run('ok', 'still here')).result, 'still here');
});

test('requirements.txt with packages is refused clearly until packages are supported', async () => {
  await assert.rejects(d.deploy('needs', { 'f.py': 'def f(e):\n    return 1\n', 'requirements.txt': 'requests==2.31.0\n' }), /requests==2\.31\.0/);
  await d.deploy('comments', { 'f.py': 'def f(e):\n    return 1\n', 'requirements.txt': '# nothing yet\n\n' });
});

test('ls and rm: a removed function answers 404 and its code snapshot is gone', async () => {
  await d.deploy('gone', { 'f.py': 'def f(e):\n    return 1\n' });
  await d.client.run('gone');
  assert.ok((await d.client.listFunctions()).some((f) => f.name === 'gone'));
  await d.client.remove('gone');
  assert.ok(!(await d.client.listFunctions()).some((f) => f.name === 'gone'));
  assert.equal((await d.client.run('gone')).status, 404);
  await eventually(() => !fs.existsSync(path.join(d.stateDir, 'functions', 'gone', 'v1')), 'the snapshot to go');
});

test('concurrent calls each get an answer, from separate instances', async () => {
  await d.deploy('slow', { 'f.py': 'import time, os\ndef f(e):\n    time.sleep(0.2)\n    return e\n' });
  const runs = await Promise.all([0, 1, 2, 3].map((i) => d.client.run('slow', i)));
  assert.deepEqual(runs.map((r) => r.result), [0, 1, 2, 3]);
  assert.equal(new Set(runs.map((r) => r.sandbox)).size, 4);
});

test('functions survive a restart; SIGKILL leaves nothing the restart does not reclaim', async () => {
  await d.deploy('durable', { 'f.py': 'def f(e):\n    return "still deployed"\n' });
  await d.client.run('durable');
  const oldPid = d.pid;
  await d.killAndRestart();
  assert.notEqual(d.pid, oldPid);
  const r = await d.client.run('durable');
  assert.equal(r.result, 'still deployed');
  assert.equal(r.tier, 'cold');
  // the old daemon's sandboxes are gone: every process in our cgroups belongs to the new daemon's instances
  const s = await d.client.status();
  await noStrayProcesses(d);
});

test('with no warm budget every call is cold and nothing stays idle', async () => {
  const lean = await startDaemon({ ...NO_ZYGOTES, warm: { memoryBudgetMb: 0 } });
  try {
    await lean.deploy('f', { 'f.py': 'def f(e):\n    return e\n' });
    assert.equal((await lean.client.run('f', 1)).tier, 'cold');
    assert.equal((await lean.client.run('f', 2)).tier, 'cold');
    await eventually(async () => (await lean.client.status()).instances.live === 0, 'evicted instances destroyed');
    assert.equal((await lean.client.status()).instances.idle, 0);
  } finally {
    await lean.stop();
  }
});

test('over its concurrency limit the daemon answers 429 instead of queueing without bound', async () => {
  const small = await startDaemon({ ...NO_ZYGOTES, maxConcurrentCalls: 2 });
  try {
    await small.deploy('slow', { 'f.py': 'import time\ndef f(e):\n    time.sleep(0.5)\n    return e\n' });
    const runs = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => small.client.run('slow', i)));
    const statuses = runs.map((r) => r.status).sort();
    assert.equal(statuses.filter((s) => s === 200).length, 2, `two served: ${statuses}`);
    assert.equal(statuses.filter((s) => s === 429).length, 4, `the rest refused: ${statuses}`);
    assert.ok(runs.filter((r) => r.status === 429).every((r) => r.error?.code === 'overloaded'));
    // and once the load is gone it serves again
    assert.equal((await small.client.run('slow', 'again')).status, 200);
  } finally {
    await small.stop();
  }
});

test('a clean stop leaves no cgroup, process, mount or scratch directory', async () => {
  const other = await startDaemon();
  await other.deploy('x', { 'f.py': 'def f(e):\n    return 1\n' });
  await other.client.run('x');
  assert.ok(processesOf(other.stateDir).length >= 1);
  assert.ok(mountsOf(other.pid, other.stateDir).length >= 1);
  const stateDir = other.stateDir;
  await other.stop({ keepFiles: true });
  try {
    assert.deepEqual(cgroupsOf(stateDir), []);
    assert.deepEqual(processesOf(stateDir), []);
    assert.ok(!fs.existsSync(path.join(stateDir, 'sandboxes')), 'no scratch directory left');
    assert.ok(!fs.existsSync(path.join(stateDir, 'base')), 'no base image left');
    assert.ok(fs.existsSync(path.join(stateDir, 'sockpit.db')), 'the functions are kept');
  } finally {
    fs.rmSync(other.dir, { recursive: true, force: true });
  }
});
