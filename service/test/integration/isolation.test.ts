// What a function cannot do, each shown by a real function in a real sandbox, with the daemon still serving.
// The whole suite runs twice: with instances forked from Zygotes, and with Zygotes off (fresh interpreters).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, processesOf, startDaemon, TestDaemon, noStrayProcesses } from './harness';

for (const [label, config] of [
  ['instances forked from Zygotes', {}],
  ['cold instances (Zygotes off)', { zygotes: { enabled: false } }],
] as const) {
  describe(label, () => isolationSuite(config));
}

function isolationSuite(config: Record<string, unknown>): void {
  let d: TestDaemon;

  before(async () => {
    d = await startDaemon(config);
  });
  after(async () => {
    await d?.stop();
  });

  /** after a hostile call: the daemon answers, and only the sandboxes it reports live have processes */
  async function daemonUnharmed(): Promise<void> {
    await d.deploy('canary', { 'f.py': 'def f(e):\n    return "alive"\n' });
    assert.equal((await d.client.run('canary')).result, 'alive');
    await noStrayProcesses(d);
  }

  test('it runs as an unprivileged uid, as PID 1 of its own PID namespace, with its own hostname', async () => {
    await d.deploy('who', {
      'f.py': 'import os, socket\ndef f(e):\n    return {"uid": os.getuid(), "gid": os.getgid(), "euid": os.geteuid(), "pid": os.getpid(), "host": socket.gethostname()}\n',
    });
    const r = await d.client.run('who');
    assert.equal(r.status, 200, JSON.stringify(r.error));
    const who = r.result as Record<string, unknown>;
    assert.notEqual(who.uid, 0);
    assert.notEqual(who.euid, 0);
    assert.equal(who.uid, 65534);
    assert.equal(who.pid, 1);
    assert.equal(who.host, 'sockpit');
  });

  test('it cannot see or signal processes outside its sandbox', async () => {
    await d.deploy('signal', {
      'f.py': [
        'import os, signal',
        'def f(target):',
        '    out = {}',
        '    try:',
        '        os.kill(target, signal.SIGKILL)',
        '        out["kill"] = "sent"',
        '    except OSError as e:',
        '        out["kill"] = type(e).__name__',
        '    try:',
        '        os.kill(-1, signal.SIGKILL) if os.fork() == 0 else os.wait()',
        '    except OSError as e:',
        '        out["broadcast"] = type(e).__name__',
        '    out["proc"] = os.path.exists("/proc/self")',
        '    return out',
        '',
      ].join('\n'),
    });
    const r = await d.client.run('signal', d.pid);
    assert.equal(r.status, 200, JSON.stringify(r.error));
    const out = r.result as Record<string, unknown>;
    assert.equal(out.kill, 'ProcessLookupError', 'the daemon pid does not exist in the sandbox');
    assert.equal(out.proc, false, 'no /proc: it would show the host');
    process.kill(d.pid, 0); // the daemon is alive
    await daemonUnharmed();
  });

  test('its root is read-only except /tmp and /host', async () => {
    await d.deploy('writes', {
      'f.py': [
        'def f(e):',
        '    out = {}',
        '    for path in ["/x", "/usr/x", "/etc/passwd", "/handler/x", "/sockpit/x", "/packages/x", "/tmp/x", "/host/x"]:',
        '        try:',
        '            with open(path, "w") as fh:',
        '                fh.write("x")',
        '            out[path] = "written"',
        '        except OSError as e:',
        '            out[path] = type(e).__name__',
        '    return out',
        '',
      ].join('\n'),
    });
    const r = await d.client.run('writes');
    assert.equal(r.status, 200, JSON.stringify(r.error));
    const out = r.result as Record<string, string>;
    for (const denied of ['/x', '/usr/x', '/etc/passwd', '/handler/x', '/sockpit/x', '/packages/x']) {
      assert.notEqual(out[denied], 'written', `${denied} must not be writable`);
    }
    assert.equal(out['/tmp/x'], 'written');
    assert.equal(out['/host/x'], 'written');
  });

  test("it cannot see the host's other files, the host's Python packages or another function's code", async () => {
    await d.deploy('secret-holder', { 'f.py': 'def f(e):\n    return 1\n', 'secret.txt': 'the other function must not read this' });
    await d.deploy('snoop', {
      'f.py': [
        'import os, sys',
        'def f(state_dir):',
        '    found = []',
        '    for root, dirs, files in os.walk("/"):',
        '        if root.startswith(("/usr", "/sockpit")):',
        '            dirs[:] = []',
        '        found += [os.path.join(root, n) for n in files if n == "secret.txt"]',
        '    return {',
        '        "top": sorted(os.listdir("/")),',
        '        "secrets": found,',
        '        "state": os.path.exists(state_dir),',
        '        "shadow": os.path.exists("/etc/shadow"),',
        '        "home": os.path.exists("/root") or os.path.exists("/home"),',
        '        "dist": os.listdir("/usr/lib/python3/dist-packages") if os.path.isdir("/usr/lib/python3/dist-packages") else [],',
        '        "path": sys.path,',
        '    }',
        '',
      ].join('\n'),
    });
    const r = await d.client.run('snoop', d.stateDir);
    assert.equal(r.status, 200, JSON.stringify(r.error));
    const out = r.result as { top: string[]; secrets: string[]; state: boolean; shadow: boolean; home: boolean; dist: string[]; path: string[] };
    assert.deepEqual(out.secrets, []);
    assert.equal(out.state, false);
    assert.equal(out.shadow, false);
    assert.equal(out.home, false);
    assert.deepEqual(out.dist, [], "the host's dist-packages are hidden");
    assert.ok(!out.path.some((p) => p.includes('-packages')), `no site or dist packages on sys.path: ${out.path}`);
    assert.ok(!out.top.includes('proc') && !out.top.includes('var') && !out.top.includes('root'), `root: ${out.top}`);
  });

  test('a memory hog is stopped at the sandbox limit and the call gets 507', async () => {
    await d.deploy('hog', {
      'f.py': 'def f(e):\n    chunks = []\n    while True:\n        chunks.append(bytearray(8 * 2**20))\n',
      'ol.yaml': 'limits:\n  memory_mb: 64\n  timeout_ms: 20000\n',
    });
    const r = await d.client.run('hog');
    assert.equal(r.status, 507, JSON.stringify(r));
    assert.equal(r.error?.code, 'out_of_memory');
    await daemonUnharmed();
  });

  test("each sandbox's /tmp and /host are its own tmpfs, sized from its memory limit", async () => {
    const statvfs = 'import os\ndef f(e):\n    return {p: os.statvfs(p).f_blocks * os.statvfs(p).f_frsize // 2**20 for p in ("/tmp", "/host")}\n';
    await d.deploy('small-scratch', { 'f.py': statvfs, 'ol.yaml': 'limits:\n  memory_mb: 64\n' });
    await d.deploy('big-scratch', { 'f.py': statvfs, 'ol.yaml': 'limits:\n  memory_mb: 512\n' });
    // a Zygote's spare is made before its function is known: its scratch is resized when it is given one
    assert.deepEqual((await d.client.run('small-scratch')).result, { '/tmp': 32, '/host': 32 });
    assert.deepEqual((await d.client.run('big-scratch')).result, { '/tmp': 256, '/host': 256 });
  });

  // scratch is memory, never the host's disk, and each sandbox's own: a full one is no one else's problem
  test("a function that fills its scratch gets ENOSPC at its own size; another function's /tmp is untouched", async () => {
    await d.deploy('scratch-filler', {
      'f.py': [
        'import errno',
        'def f(e):',
        '    written, tmp = 0, None',
        '    try:',
        '        with open("/tmp/fill", "wb") as out:',
        '            while written < 256 * 2**20:',
        '                out.write(b"x" * 2**20)',
        '                out.flush()',
        '                written += 2**20',
        '    except OSError as err:',
        '        tmp = errno.errorcode.get(err.errno)',
        '    try:',
        '        with open("/host/more", "wb") as out:',
        '            out.write(b"x" * 2**20)',
        '            out.flush()',
        '        host = None',
        '    except OSError as err:',
        '        host = errno.errorcode.get(err.errno)',
        '    return {"tmp": tmp, "host": host, "mb": written // 2**20}',
        '',
      ].join('\n'),
      'ol.yaml': 'limits:\n  memory_mb: 128\n  timeout_ms: 20000\n',
    });
    const filled = await d.client.run('scratch-filler');
    assert.equal(filled.status, 200, JSON.stringify(filled));
    const out = filled.result as { tmp: string; host: string; mb: number };
    assert.equal(out.tmp, 'ENOSPC', JSON.stringify(out));
    assert.equal(out.host, 'ENOSPC', `/host shares the sandbox's scratch budget: ${JSON.stringify(out)}`);
    assert.ok(out.mb >= 60 && out.mb <= 64, `64 MB of scratch for a 128 MB sandbox, ${out.mb} MB written`);
    // the filler's instance stays warm, its scratch still full, while another function writes its own
    await d.deploy('scratch-writer', {
      'f.py': 'def f(e):\n    with open("/tmp/ten", "wb") as out:\n        out.write(b"y" * 10 * 2**20)\n    return "ok"\n',
    });
    const wrote = await d.client.run('scratch-writer');
    assert.equal(wrote.result, 'ok', JSON.stringify(wrote));
    await daemonUnharmed();
  });

  test('a fork bomb is stopped at the pids limit and the daemon is unharmed', async () => {
    await d.deploy('forkbomb', {
      'f.py': 'import os\ndef f(e):\n    while True:\n        os.fork()\n',
      'ol.yaml': 'limits:\n  pids: 16\n  timeout_ms: 3000\n',
    });
    const r = await d.client.run('forkbomb');
    assert.ok(r.status === 422 || r.status === 504, `a fork bomb ends in an error: ${JSON.stringify(r)}`);
    if (r.status === 422) assert.match(r.error!.message, /BlockingIOError|Resource temporarily unavailable/);
    await daemonUnharmed();
  });

  test('a call that runs past its timeout gets 504 and its instance is killed', async () => {
    await d.deploy('spin', { 'f.py': 'def f(e):\n    while True:\n        pass\n', 'ol.yaml': 'limits:\n  timeout_ms: 500\n' });
    const started = Date.now();
    const r = await d.client.run('spin');
    assert.equal(r.status, 504);
    assert.equal(r.error?.code, 'timeout');
    assert.notEqual(r.tier, 'warm');
    assert.ok(Date.now() - started < 5000);
    await daemonUnharmed();
    // the instance was killed: the next call starts afresh in a new sandbox
    const again = await d.client.run('spin');
    assert.notEqual(again.tier, 'warm');
    assert.notEqual(again.sandbox, r.sandbox);
  });

  test('a function that closes stdout or floods it still gets its answer through', async () => {
    await d.deploy('noisy', {
      'f.py': 'import os, sys\ndef f(e):\n    for _ in range(2000):\n        print("x" * 1000)\n    sys.stdout.flush()\n    os.close(1)\n    os.close(2)\n    return "done"\n',
    });
    const r = await d.client.run('noisy');
    assert.equal(r.status, 200, JSON.stringify(r.error));
    assert.equal(r.result, 'done');
  });

  test('a function that closes its control channel gets a clear error, not a hang', async () => {
    await d.deploy('closer', { 'f.py': 'import os\ndef f(e):\n    os.close(3)\n    return 1\n' });
    const r = await d.client.run('closer');
    assert.equal(r.status, 502);
    assert.equal(r.error?.code, 'instance_died');
    await daemonUnharmed();
  });

  test('after SIGKILL of the daemon, its instances die with it and the restart reclaims its cgroups', async () => {
    await d.deploy('lingering', { 'f.py': 'def f(e):\n    return 1\n' });
    await d.client.run('lingering');
    assert.ok(processesOf(d.stateDir).length >= 1);
    await d.killAndRestart();
    await noStrayProcesses(d);
    assert.equal((await d.client.run('lingering')).result, 1);
  });
}
