// The Zygote tier end to end: packages from a local wheelhouse, instances forked from Zygotes into their own
// sandboxes, the tree growing and shrinking, versions side by side, and Zygote deaths that lose nothing.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { buildWheelhouse } from '../fixtures/wheels';
import { childrenOf, eventually, noStrayProcesses, pidInZygoteNamespace, processesOf, startDaemon, TestDaemon } from './harness';
import type { Published } from '../../src/telemetry/events';

let d: TestDaemon;
let wheels: string;

const fn = (body: string) => `import os\n${body}\n`;
/** the default host uid of root inside the Zygotes' user namespace */
const ZYGOTE_HOST_UID = 400_000;
/** the default uid of instances */
const SANDBOX_UID = 65534;

before(async () => {
  wheels = fs.mkdtempSync('/tmp/sockpit-wheels-');
  buildWheelhouse(wheels, [
    {
      name: 'slowimport',
      version: '1.0',
      modules: { 'slowimport/__init__.py': 'import os, time\ntime.sleep(1.0)\nIMPORTED_BY = os.getpid()\n' },
    },
    { name: 'verpkg', version: '1.0', modules: { 'verpkg/__init__.py': 'VERSION = "1.0"\n' } },
    { name: 'verpkg', version: '2.0', modules: { 'verpkg/__init__.py': 'VERSION = "2.0"\n' } },
    { name: 'dep', version: '1.0', modules: { 'dep/__init__.py': 'VALUE = 42\n' } },
    { name: 'usesdep', version: '1.0', requires: ['dep>=1.0'], modules: { 'usesdep/__init__.py': 'import dep\nVALUE = dep.VALUE + 1\n' } },
    { name: 'raisesonimport', version: '1.0', modules: { 'raisesonimport/__init__.py': 'raise RuntimeError("broken at import")\n' } },
  ]);
  d = await startDaemon({ packages: { findLinks: wheels }, zygotes: { replyTimeoutMs: 5000 } });
});

after(async () => {
  await d?.stop();
  fs.rmSync(wheels, { recursive: true, force: true });
});

function procStatus(pid: number) {
  const read = (f: string) => fs.readFileSync(`/proc/${pid}/${f}`, 'utf8');
  return {
    uid: Number(/^Uid:\s+(\d+)/m.exec(read('status'))![1]),
    memoryCgroup: read('cgroup')
      .split('\n')
      .find((l) => l.split(':')[1] === 'memory')!,
    root: fs.readlinkSync(`/proc/${pid}/root`),
    pidNs: fs.readlinkSync(`/proc/${pid}/ns/pid`),
  };
}

test('a function without packages is forked from the base Zygote', async () => {
  await d.deploy('plain', { 'f.py': fn('def f(e):\n    return os.getpid()') });
  const r = await d.client.run('plain');
  assert.equal(r.status, 200, JSON.stringify(r.error));
  assert.equal(r.tier, 'zygote');
  assert.equal(r.result, 1, 'PID 1 of its own namespace');
  assert.ok('fork' in r.timings && !('spawn' in r.timings));
  const tree = await d.client.zygotes();
  assert.equal(tree.length, 1);
  assert.deepEqual(tree[0].packages, []);
  assert.ok(tree[0].functions.includes('plain'));
});

test('a miss grows the tree; the instance gets the import done by its Zygote, in its own cgroup, root and PID namespace', async () => {
  await d.deploy('slow', {
    'f.py': fn('import slowimport\ndef f(e):\n    return {"imported_by": slowimport.IMPORTED_BY, "me": os.getpid(), "uid": os.getuid()}'),
    'requirements.txt': 'slowimport==1.0\n',
  });
  const first = await d.client.run('slow');
  assert.equal(first.status, 200, JSON.stringify(first.error));
  assert.equal(first.tier, 'zygote');
  assert.ok('grow' in first.timings, `the tree grew: ${JSON.stringify(first.timings)}`);
  const tree = await d.client.zygotes();
  const node = tree.find((z) => z.packages.join() === 'slowimport==1.0');
  assert.ok(node, `a Zygote for slowimport: ${JSON.stringify(tree)}`);
  const result = first.result as { imported_by: number; me: number; uid: number };
  assert.equal(result.imported_by, pidInZygoteNamespace(node.pid!), 'the module was imported by the Zygote, not by the instance');
  assert.equal(result.me, 1);
  assert.notEqual(result.uid, 0);

  // find the instance on the host: the process whose root is the call's sandbox
  const instancePid = processesOf(d.stateDir).find((pid) => procStatus(pid).root.includes(`/sandboxes/${first.sandbox}/`));
  assert.ok(instancePid, 'the instance runs in its sandbox root');
  const zygote = procStatus(node.pid!);
  const inst = procStatus(instancePid);
  assert.notEqual(inst.memoryCgroup, zygote.memoryCgroup, 'own cgroup');
  assert.notEqual(inst.root, zygote.root, 'own root');
  assert.notEqual(inst.pidNs, zygote.pidNs, 'own PID namespace');
  assert.notEqual(inst.uid, 0);
  assert.equal(zygote.uid, ZYGOTE_HOST_UID, 'a Zygote is root only in its own user namespace');

  // warm next; after a redeploy a Zygote hit without growing, fast because slowimport is already imported
  assert.equal((await d.client.run('slow')).tier, 'warm');
  await d.deploy('slow', {
    'f.py': fn('import slowimport\ndef f(e):\n    return "v2"'),
    'requirements.txt': 'slowimport==1.0\n',
  });
  const hit = await d.client.run('slow');
  assert.equal(hit.tier, 'zygote');
  assert.ok(!('grow' in hit.timings));
  assert.ok(hit.timings.total < 900, `a hit does not import again (1 s): ${hit.timings.total} ms`);
});

test('two functions pin different versions of one package, and both work', async () => {
  await d.deploy('v1', { 'f.py': fn('import verpkg\ndef f(e):\n    return verpkg.VERSION'), 'requirements.txt': 'verpkg==1.0\n' });
  await d.deploy('v2', { 'f.py': fn('import verpkg\ndef f(e):\n    return verpkg.VERSION'), 'requirements.txt': 'verpkg==2.0\n' });
  assert.equal((await d.client.run('v1')).result, '1.0');
  assert.equal((await d.client.run('v2')).result, '2.0');
  const keys = (await d.client.zygotes()).map((z) => z.packages.join());
  assert.ok(keys.includes('verpkg==1.0') && keys.includes('verpkg==2.0'), `both versions have a Zygote: ${keys}`);
  assert.deepEqual((await d.client.getFunction('v2')).packages, ['verpkg==2.0']);
});

test('a bare name resolves to its closure from the wheelhouse', async () => {
  await d.deploy('closure', { 'f.py': fn('import usesdep\ndef f(e):\n    return usesdep.VALUE'), 'requirements.txt': 'usesdep\n' });
  assert.deepEqual((await d.client.getFunction('closure')).packages, ['dep==1.0', 'usesdep==1.0']);
  assert.equal((await d.client.run('closure')).result, 43);
});

test('a package that does not exist fails the deploy clearly', async () => {
  await assert.rejects(
    d.deploy('missing', { 'f.py': fn('def f(e):\n    return 1'), 'requirements.txt': 'nosuchpackage==1.0\n' }),
    /nosuchpackage/,
  );
  await assert.rejects(d.client.getFunction('missing'), /no function/);
});

test('a package whose import raises: no Zygote for it, and the call reports the import error', async () => {
  await d.deploy('badimport', { 'f.py': fn('import raisesonimport\ndef f(e):\n    return 1'), 'requirements.txt': 'raisesonimport==1.0\n' });
  const r = await d.client.run('badimport');
  assert.equal(r.status, 422);
  assert.match(r.error!.message, /failed to load: RuntimeError: broken at import/);
  assert.ok(!(await d.client.zygotes()).some((z) => z.packages.includes('raisesonimport==1.0')));
  assert.equal((await d.client.run('plain')).status, 200);
});

test('killing a Zygote while it imports loses no request', async () => {
  const before = new Set(processesOf(d.stateDir));
  const known = new Set((await d.client.zygotes()).map((z) => z.pid));
  await d.deploy('victim', {
    'f.py': fn('import slowimport, verpkg\ndef f(e):\n    return verpkg.VERSION'),
    'requirements.txt': 'slowimport==1.0\nverpkg==1.0\n',
  });
  const call = d.client.run('victim');
  // the new Zygote: a Zygote-uid process in our cgroups that is neither a known Zygote nor there before
  let killed = 0;
  await eventually(() => {
    for (const pid of processesOf(d.stateDir)) {
      if (before.has(pid) || known.has(pid)) continue;
      try {
        if (procStatus(pid).uid === ZYGOTE_HOST_UID) {
          process.kill(pid, 'SIGKILL');
          killed = pid;
          return true;
        }
      } catch {
        // gone already
      }
    }
    return false;
  }, 'the growing Zygote to appear');
  const r = await call;
  assert.ok(killed > 0);
  assert.equal(r.status, 200, JSON.stringify(r));
  assert.equal(r.result, '1.0');
  const events: Published[] = [];
  const ac = new AbortController();
  void d.client.followEvents((e) => events.push(e), { signal: ac.signal, since: 0 }).catch(() => {});
  await eventually(() => events.some((e) => e.type === 'zygote' && e.action === 'died'), 'a died event', 3000).finally(() => ac.abort());
});

test('a Zygote killed between calls leaves the tree; its requests fall back and the base restarts', async () => {
  const tree = await d.client.zygotes();
  const base = tree.find((z) => z.parent === null)!;
  // An idle Zygote may be frozen: it dies when it is thawed for its next fork. The call must not be lost: one
  // of its spares serves it (they live in sandboxes of their own), or it falls back.
  process.kill(base.pid!, 'SIGKILL');
  await d.deploy('plain', { 'f.py': fn('def f(e):\n    return "after"') });
  const r = await d.client.run('plain');
  assert.equal(r.status, 200, JSON.stringify(r));
  assert.equal(r.result, 'after');
  await eventually(async () => !(await d.client.zygotes()).some((z) => z.id === base.id), 'the dead base to leave the tree');
  await d.deploy('plain', { 'f.py': fn('def f(e):\n    return "again"') });
  assert.equal((await d.client.run('plain')).result, 'again');
  assert.ok((await d.client.zygotes()).some((z) => z.parent === null && z.id !== base.id), 'a new base Zygote');
});

/** a spare: a child of the Zygote with no function's code in its sandbox yet */
const sparesOf = (pid: number) => childrenOf(pid).filter((c) => !fs.existsSync(`/proc/${c}/root/handler/f.py`));

test('a Zygote keeps two spares, instances forked ahead into sandboxes of their own: a call becomes the older one; they die with their Zygote', async () => {
  await d.deploy('spare', { 'f.py': fn('def f(e):\n    return os.getpid()') });
  const base = (await d.client.zygotes()).find((z) => z.parent === null)!;
  assert.equal((await d.client.run('spare')).tier, 'zygote', 'the first call forks (and leaves spares behind)');
  let spares: number[] = [];
  await eventually(() => (spares = sparesOf(base.pid!)).length === 2, 'two spares');
  const [spare, second] = spares;
  const waiting = procStatus(spare);
  assert.equal(waiting.uid, SANDBOX_UID, 'a spare is unprivileged before any call');
  assert.notEqual(waiting.memoryCgroup, procStatus(base.pid!).memoryCgroup, "a spare waits in a cgroup of its own, not its Zygote's");
  assert.match(waiting.root, /\/sandboxes\/[^/]+\/root$/, 'chrooted into a sandbox of its own');
  assert.notEqual(waiting.pidNs, procStatus(base.pid!).pidNs, 'in a PID namespace of its own');
  await noStrayProcesses(d); // spares are counted among the daemon's processes
  await d.deploy('spare', { 'f.py': fn('def f(e):\n    return os.getuid()') }); // a new version: no warm instance
  const r = await d.client.run('spare');
  assert.equal(r.tier, 'zygote');
  assert.equal(r.result, SANDBOX_UID);
  assert.ok(procStatus(spare).root.endsWith(`/sandboxes/${r.sandbox}/root`), 'the call was served by the older spare, in its sandbox');
  // a spare's sandbox gets the limits of the function it is given (made with the defaults: 256 MB here)
  const secondSandbox = procStatus(second).root;
  await d.deploy('spare', {
    'f.py': fn('def f(e):\n    return len(bytearray(128 * 2**20))'),
    'ol.yaml': 'limits:\n  memory_mb: 64\n',
  });
  const hog = await d.client.run('spare');
  assert.equal(hog.tier, 'zygote');
  assert.ok(secondSandbox.endsWith(`/sandboxes/${hog.sandbox}/root`), 'served by the other spare');
  assert.equal(hog.status, 507, `128 MB past a 64 MB limit: ${JSON.stringify(hog)}`);
  let next = 0;
  await eventually(() => (next = sparesOf(base.pid!).find((pid) => pid !== second) ?? 0) > 0, 'a spare made in its place');
  process.kill(base.pid!, 'SIGKILL'); // (if it is frozen, it dies once the next fork thaws it)
  await d.deploy('spare', { 'f.py': fn('def f(e):\n    return "after"') });
  assert.equal((await d.client.run('spare')).result, 'after');
  await eventually(() => !fs.existsSync(`/proc/${next}`) && !fs.existsSync(`/proc/${second}`), 'the spares to end with their Zygote');
  await noStrayProcesses(d);
});

test("a spare runs f.py from the bytecode the daemon sends it: the module is what an import of /handler/f.py makes", async () => {
  const source = [
    'import sys',
    'def f(e):',
    '    if e == "raise":',
    '        raise ValueError("boom")',
    '    return [__name__, __file__, __cached__, __spec__.origin, __spec__.cached, __loader__.path, __package__, sys.modules[__name__].f is f]',
  ].join('\n');
  await d.deploy('modattrs', { 'f.py': `${source}\n` });
  assert.equal((await d.client.run('modattrs')).tier, 'zygote');
  const base = (await d.client.zygotes()).find((z) => z.parent === null)!;
  await eventually(() => sparesOf(base.pid!).length === 2, 'two spares');
  await d.deploy('modattrs', { 'f.py': `${source}\n# v2\n` }); // a new version: no warm instance, a spare serves it
  const r = await d.client.run('modattrs');
  assert.equal(r.tier, 'zygote');
  const cached = /^\/handler\/__pycache__\/f\.cpython-\d+\.pyc$/;
  const [name, file, moduleCached, origin, specCached, loaderPath, pkg, registered] = r.result as [string, string, string, string, string, string, string, boolean];
  assert.deepEqual([name, file, origin, loaderPath, pkg, registered], ['f', '/handler/f.py', '/handler/f.py', '/handler/f.py', '', true]);
  assert.match(moduleCached, cached);
  assert.equal(specCached, moduleCached);
  // compiled by deploy outside the sandbox: tracebacks still name the file where the instance sees it
  const raised = await d.client.run('modattrs', 'raise');
  assert.equal(raised.status, 422);
  assert.match(String((raised.error?.detail as { traceback?: string }).traceback), /File "\/handler\/f\.py", line 4, in f/);
});

test('under a tiny memory budget the tree shrinks back: a grown Zygote is evicted after serving', async () => {
  const lean = await startDaemon({ packages: { findLinks: wheels }, zygotes: { memoryBudgetMb: 0 } });
  try {
    const events: Published[] = [];
    const ac = new AbortController();
    const following = lean.client.followEvents((e) => events.push(e), { signal: ac.signal }).catch(() => {});
    await lean.deploy('dep', { 'f.py': fn('import dep\ndef f(e):\n    return dep.VALUE'), 'requirements.txt': 'dep==1.0\n' });
    const r = await lean.client.run('dep');
    assert.equal(r.result, 42);
    assert.equal(r.tier, 'zygote');
    await eventually(
      () => events.some((e) => e.type === 'zygote' && e.action === 'evicted' && e.packages.includes('dep==1.0')),
      'the grown Zygote to be evicted',
    );
    assert.ok(events.some((e) => e.type === 'zygote' && e.action === 'created' && e.packages.includes('dep==1.0')));
    const tree = await lean.client.zygotes();
    assert.equal(tree.length, 1, 'only the base is left (it is never evicted)');
    ac.abort();
    await following;
  } finally {
    await lean.stop();
  }
});

test('with Zygotes off every cold start is a fresh interpreter', async () => {
  const off = await startDaemon({ packages: { findLinks: wheels }, zygotes: { enabled: false } });
  try {
    await off.deploy('dep', { 'f.py': fn('import dep\ndef f(e):\n    return dep.VALUE'), 'requirements.txt': 'dep==1.0\n' });
    const r = await off.client.run('dep');
    assert.equal(r.result, 42);
    assert.equal(r.tier, 'cold');
    assert.deepEqual(await off.client.zygotes(), []);
    assert.equal((await off.client.status()).zygotes.enabled, false);
  } finally {
    await off.stop();
  }
});

test('stats and metrics count the tiers', async () => {
  const stats = await d.client.stats();
  assert.ok(stats.invocations.byTier.zygote.count >= 3);
  assert.ok(stats.invocations.byTier.warm.count >= 1);
  const metrics = await d.client.metrics();
  assert.match(metrics, /sockpit_invocations_total\{[^}]*tier="zygote"/);
  assert.ok(fs.existsSync(path.join(d.stateDir, 'packages', 'store', 'verpkg==2.0')));
});
