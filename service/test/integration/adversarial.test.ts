// Untrusted code stays in its box: functions and packages (including import-time code that runs inside a
// Zygote) try to get out, and each attempt must be contained with a clear error while the daemon keeps serving.
// The whole suite runs twice: instances forked from Zygotes, and cold instances.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { buildWheelhouse } from '../fixtures/wheels';
import { ApiError } from '../../src/client';
import { eventually, pidInZygoteNamespace, processesOf, startDaemon, TestDaemon, noStrayProcesses } from './harness';

/** a listener on the host's abstract namespace: says "ready", then answers every connection with "host secret" */
const ABSTRACT_LISTENER = `import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind("\\0" + sys.argv[1])
s.listen()
print("ready", flush=True)
while True:
    c, _ = s.accept()
    c.sendall(b"host secret")
    c.close()
`;

const CLI = path.resolve(__dirname, '../../../bin/sockpit.js');

// Runs in the sandbox: tries one thing and reports what happened instead of raising.
const ATTEMPT = `
import ctypes, errno, os, socket
libc = ctypes.CDLL(None, use_errno=True)

def attempt(fn):
    try:
        result = fn()
        if isinstance(result, int) and result < 0:
            return "refused: " + errno.errorcode.get(ctypes.get_errno(), "?")
        return "done"
    except OSError as e:
        return "refused: " + (errno.errorcode.get(e.errno, "?") if e.errno else type(e).__name__)
`;

// Import-time code of a package: in a Zygote it runs with the Zygote's rights, so it tries a chroot escape
// there, then reads and writes host files from wherever it landed.
const ESCAPER = `
import os, ctypes
RESULT = {"pid": os.getpid()}
try:
    os.makedirs("/tmp/escape", exist_ok=True)
    os.chroot("/tmp/escape")
    for _ in range(64):
        os.chdir("..")
    os.chroot(".")
    RESULT["chroot"] = "escaped"
except OSError as e:
    RESULT["chroot"] = "refused: " + type(e).__name__
for name, probe in [("shadow", lambda: open("/etc/shadow").read(1)), ("etc_write", lambda: open("/etc/sockpit-escape", "w").write("x")),
                    ("root_home", lambda: os.listdir("/root")), ("proc_1", lambda: open("/proc/1/environ", "rb").read(1)),
                    ("world_readable", lambda: open("/etc/os-release").read(1)), ("host_proc", lambda: os.listdir("/proc/self/fd"))]:
    try:
        probe()
        RESULT[name] = "done"
    except OSError as e:
        RESULT[name] = "refused: " + type(e).__name__
`;

// Writes frames of its own choosing on the instance's channel (fd 3), as function code can: its own request id
// is found in the serving loop's frame, as a hostile function would find it.
const FORGER = `
import json, os, sys

def frame(header, body=b"1"):
    payload = json.dumps(header).encode() + b"\\n" + body
    return len(payload).to_bytes(4, "big") + payload

def send(data):
    view = memoryview(data)
    while view:
        view = view[os.write(3, view):]

def own_id():
    f = sys._getframe(1)
    while "request_id" not in f.f_locals:
        f = f.f_back
    return f.f_locals["request_id"]

def f(e):
    kind, rid = e.get("forge"), own_id()
    if kind == "nested":
        send(frame({"id": rid, "status": "error", "load_ms": 1, "exec_ms": 1}, b'{"type": "E", "message": ' + b"[" * 2000000 + b"]" * 2000000 + b"}"))
    elif kind == "timing":
        send(frame({"id": rid, "status": "ok", "load_ms": 1e308, "exec_ms": 1e308}))
    elif kind == "late":
        send(frame({"id": rid, "status": "ok", "load_ms": 0, "exec_ms": 0}, b'"forged"'))
    elif kind == "next":
        send(frame({"id": "%016x" % (int(rid, 16) + 1), "status": "ok", "load_ms": 0, "exec_ms": 0}, b'"for the next call"'))
    return {"n": e.get("n")}
`;

// Import-time code of a package that, inside a Zygote (root in its user namespace; an instance is not), writes
// forged answers on the Zygote's control socket (fd 3 there): an import time of 1e308 ms, an unknown request.
const ZYGOTE_FORGER = `
import os
if os.getuid() == 0:
    for answer in (b'{"id": "start", "ready": true, "import_ms": 1e308}', b'{"id": "f999999", "pid": 1}'):
        os.write(3, len(answer).to_bytes(4, "big") + answer)
`;

/** every number in the stats that is a duration (ms) is below a day: nothing forged got into them */
function assertSaneTimings(value: unknown, at = 'stats'): void {
  if (typeof value === 'number') assert.ok(Number.isFinite(value) && value < 86_400_000, `${at}: ${value}`);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) if (!/uptime|bytes|memory/i.test(k)) assertSaneTimings(v, `${at}.${k}`);
  }
}

let wheels: string;

before(() => {
  wheels = fs.mkdtempSync('/tmp/sockpit-adv-wheels-');
  buildWheelhouse(wheels, [
    { name: 'escaper', version: '1.0', modules: { 'escaper/__init__.py': ESCAPER } },
    { name: 'hangs', version: '1.0', modules: { 'hangs/__init__.py': 'import time\ntime.sleep(1000)\n' } },
    { name: 'zforger', version: '1.0', modules: { 'zforger/__init__.py': ZYGOTE_FORGER } },
    // 64 MB of zeros in a wheel of ~64 KB: a zip bomb for the package cache
    { name: 'zipbomb', version: '1.0', modules: { 'zipbomb/__init__.py': '', 'zipbomb/zeros.txt': '0'.repeat(64 * 2 ** 20) } },
  ]);
});
after(() => fs.rmSync(wheels, { recursive: true, force: true }));

for (const [label, zygotes] of [
  ['instances forked from Zygotes', true],
  ['cold instances', false],
] as const) {
  describe(label, () => adversarialSuite(zygotes));
}

function adversarialSuite(zygotes: boolean): void {
  let d: TestDaemon;

  before(async () => {
    d = await startDaemon({ packages: { findLinks: wheels, maxPackageMb: 16 }, zygotes: { enabled: zygotes, replyTimeoutMs: 2000 } });
  });
  after(async () => {
    assert.equal((await d.client.run('canary')).result, 'alive', 'the daemon still serves at the end');
    await d?.stop();
  });

  async function attempts(name: string, body: string): Promise<Record<string, string>> {
    await d.deploy(name, { 'f.py': `${ATTEMPT}\ndef f(e):\n${body}\n` });
    const r = await d.client.run(name);
    assert.equal(r.status, 200, JSON.stringify(r.error));
    await d.deploy('canary', { 'f.py': 'def f(e):\n    return "alive"\n' });
    assert.equal((await d.client.run('canary')).result, 'alive');
    return r.result as Record<string, string>;
  }

  // Issue 12's chain, one test per step (step 3, a deploy of a planted folder, is in deploy.test.ts).
  test("issue 12's chain, step 1: a function reaches no TCP service on the host's loopback", async () => {
    const banner = `host-service-${crypto.randomUUID()}`;
    const server = net.createServer((c) => c.end(banner));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as net.AddressInfo).port;
      await d.deploy('loopback-prober', {
        'f.py': [
          'import socket',
          'def f(e):',
          '    try:',
          '        with socket.create_connection(("127.0.0.1", e["port"]), timeout=3) as s:',
          '            return {"got": s.recv(200).decode()}',
          '    except OSError as err:',
          '        return {"refused": type(err).__name__}',
          '',
        ].join('\n'),
      });
      const run = await d.client.run('loopback-prober', { port });
      assert.equal(run.status, 200, JSON.stringify(run.error));
      const result = run.result as { got?: string; refused?: string };
      assert.ok(!String(result.got ?? '').includes(banner), `the function read the host's service: ${JSON.stringify(result)}`);
      assert.ok(result.refused, JSON.stringify(result));
    } finally {
      server.close();
    }
  });

  test("issue 12's chain, step 2: a function can't use the web panel to read other functions' environment", async () => {
    const secret = `k-${crypto.randomUUID()}`;
    await d.deploy('secretive', { 'f.py': 'def f(e):\n    return 1\n', 'ol.yaml': `environment:\n  API_KEY: ${secret}\n` });
    const runtime = fs.mkdtempSync('/tmp/sockpit-adv-panel-');
    const panel = spawn(process.execPath, [CLI, 'panel', '--socket', d.socket, '--port', '0', '--static-dir', runtime], {
      env: { ...process.env, XDG_RUNTIME_DIR: runtime },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        panel.stdout!.on('data', (chunk) => {
          out += chunk;
          const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
          if (m) resolve(Number(m[1]));
        });
        panel.once('exit', (code) => reject(new Error(`sockpit panel exited with ${code}: ${out}`)));
      });
      await d.deploy('panel-prober', {
        'f.py': [
          'import urllib.request',
          'def f(e):',
          '    out = {}',
          '    for path in ["/api/v1/functions", "/api/v1/functions/secretive"]:',
          '        req = urllib.request.Request("http://127.0.0.1:%d%s" % (e["port"], path), headers={"x-sockpit-panel": "1", "Host": "127.0.0.1:%d" % e["port"]})',
          '        try:',
          '            with urllib.request.urlopen(req, timeout=3) as r:',
          '                out[path] = r.read().decode()',
          '        except Exception as err:',
          '            out[path] = "unreachable: " + type(err).__name__ + " " + str(getattr(err, "code", ""))',
          '    return out',
          '',
        ].join('\n'),
      });
      const run = await d.client.run('panel-prober', { port });
      assert.equal(run.status, 200, JSON.stringify(run.error));
      const text = JSON.stringify(run.result);
      assert.ok(!text.includes(secret), `a function read another function's environment: ${text}`);
      for (const answer of Object.values(run.result as Record<string, string>)) assert.match(answer, /^unreachable: (?!HTTPError)/, text);
    } finally {
      panel.kill('SIGTERM');
      await new Promise((resolve) => panel.once('exit', resolve));
      fs.rmSync(runtime, { recursive: true, force: true });
    }
  });

  test('chroot escape, mount, ptrace, kernel modules, new namespaces and raw sockets are all refused', async () => {
    const out = await attempts(
      'kernel',
      `    os.makedirs("/tmp/x", exist_ok=True)
    return {
        "chroot": attempt(lambda: os.chroot("/tmp/x")),
        "mount": attempt(lambda: libc.mount(b"none", b"/tmp/x", b"tmpfs", 0, None)),
        "ptrace": attempt(lambda: libc.ptrace(16, 1, 0, 0)),
        "init_module": attempt(lambda: libc.syscall(313, -1, b"", 0)),
        "unshare_user": attempt(lambda: libc.unshare(0x10000000)),
        "unshare_net": attempt(lambda: libc.unshare(0x40000000)),
        "raw_socket": attempt(lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)),
        "packet_socket": attempt(lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)),
        "sethostname": attempt(lambda: libc.sethostname(b"evil", 4)),
        "setuid_root": attempt(lambda: os.setuid(0)),
        "bpf": attempt(lambda: libc.syscall(321, 0, 0, 0)),
    }`,
    );
    for (const [what, result] of Object.entries(out)) assert.match(result, /^refused: /, `${what}: ${result}`);
  });

  test('setuid binaries give nothing: the base is nosuid and no_new_privs is set', async () => {
    const out = await attempts(
      'setuid',
      `    import subprocess
    st = os.statvfs("/usr/bin")
    su = subprocess.run(["/usr/bin/su", "root", "-c", "id -u"], capture_output=True, stdin=subprocess.DEVNULL, timeout=10)
    status = open("/dev/null") and None
    return {"nosuid": "yes" if st.f_flag & os.ST_NOSUID else "no", "su": str(su.returncode), "euid": str(os.geteuid())}`,
    );
    assert.equal(out.nosuid, 'yes');
    assert.notEqual(out.su, '0');
    assert.notEqual(out.euid, '0');
  });

  test('it cannot signal or read other sandboxes', async () => {
    await d.deploy('holder', { 'f.py': 'import time\ndef f(e):\n    open("/tmp/secret", "w").write("s3cret")\n    return "ok"\n' });
    await d.client.run('holder');
    const out = await attempts(
      'prowler',
      `    signalled = [pid for pid in range(2, 4096) if attempt(lambda: os.kill(pid, 0)) == "done"]
    found = [os.path.join(r, n) for r, _, names in os.walk("/") if not r.startswith(("/usr", "/sockpit")) for n in names if n == "secret"]
    return {"signalled": str(signalled), "found": str(found), "proc": str(os.path.exists("/proc/1"))}`,
    );
    assert.equal(out.signalled, '[]', 'no process but itself (PID 1) exists for it');
    assert.equal(out.found, '[]');
    assert.equal(out.proc, 'False');
  });

  test('the base image and the package cache are read-only', async () => {
    await d.deploy('escaper-fn', { 'f.py': 'def f(e):\n    return 1\n', 'requirements.txt': 'escaper==1.0\n' });
    const out = await attempts(
      'writer',
      `    import glob
    targets = ["/usr/lib/python3.11/os.py", "/etc/passwd", "/sockpit/instance.py", "/handler/f.py", "/bin/sh"]
    targets += glob.glob("/packages/*/escaper/__init__.py") + ["/packages/new-file"]
    return {t: attempt(lambda t=t: open(t, "a").write("x")) for t in targets}`,
    );
    assert.ok(Object.keys(out).some((t) => t.startsWith('/packages/escaper')), `the package is visible: ${Object.keys(out)}`);
    for (const [what, result] of Object.entries(out)) assert.match(result, /^refused: (EROFS|EACCES|EPERM)/, `${what}: ${result}`);
  });

  test("a package's import-time chroot escape gets nothing from the host", async () => {
    await d.deploy('escape', { 'f.py': 'import escaper\ndef f(e):\n    return escaper.RESULT\n', 'requirements.txt': 'escaper==1.0\n' });
    const r = await d.client.run('escape');
    assert.equal(r.status, 200, JSON.stringify(r.error));
    const out = r.result as Record<string, string>;
    if (zygotes) {
      const tree = await d.client.zygotes();
      assert.ok(tree.some((z) => z.pid !== null && pidInZygoteNamespace(z.pid) === Number(out.pid)), 'the package was imported inside a Zygote');
    }
    // In a Zygote the chroot itself is allowed (root in its user namespace), but the climb out stops at the
    // daemon's 0700 directories (host root is not mapped there), and Landlock limits reads to the base anyway.
    for (const what of ['shadow', 'etc_write', 'root_home', 'proc_1', 'world_readable', 'host_proc']) {
      assert.match(out[what], /^refused: /, `${what}: ${JSON.stringify(out)}`);
    }
    assert.ok(!fs.existsSync('/etc/sockpit-escape'));
  });

  test("abstract unix sockets of other sandboxes and of the host are out of reach; AF_VSOCK and personas refused", async () => {
    const name = `sockpit-test-${crypto.randomBytes(6).toString('hex')}`;
    // a root listener on the host's abstract namespace, bound by Python as the dialer names it (Node pads
    // abstract names to the whole sun_path, which no short name reaches: a refusal would then prove nothing)
    const host = spawn('python3', ['-c', ABSTRACT_LISTENER, `${name}-host`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      host.stdout!.once('data', () => resolve());
      host.once('exit', (code) => reject(new Error(`the host's abstract listener exited with ${code}`)));
    });
    try {
      // the control: from the host the name answers, so a refusal below is the sandbox's
      const fromHost = spawnSync('python3', ['-c', 'import socket, sys\ns = socket.socket(socket.AF_UNIX)\ns.connect("\\0" + sys.argv[1])\nprint(s.recv(64).decode())', `${name}-host`], { encoding: 'utf8' });
      assert.equal(fromHost.stdout.trim(), 'host secret', fromHost.stderr);
      await d.deploy('abstract-listener', {
        'f.py': 'import socket\nS = None\ndef f(e):\n    global S\n    if S is None:\n        S = socket.socket(socket.AF_UNIX)\n        S.bind("\\0" + e)\n        S.listen()\n    return "listening"\n',
      });
      assert.equal((await d.client.run('abstract-listener', `${name}-fn`)).result, 'listening');
      const out = await attempts(
        'abstract-dialer',
        `    dial = lambda where: socket.socket(socket.AF_UNIX).connect("\\0" + where)
    return {
        "other_sandbox": attempt(lambda: dial("${name}-fn")),
        "host": attempt(lambda: dial("${name}-host")),
        "vsock": attempt(lambda: socket.socket(40, socket.SOCK_STREAM)),
        "persona_no_aslr": attempt(lambda: libc.personality(0x0040000)),
        "persona_read_implies_exec": attempt(lambda: libc.personality(0x0400000)),
        "persona_query": attempt(lambda: libc.personality(0xffffffff)),
    }`,
      );
      // Landlock's scope says EPERM; a network namespace of its own would say ECONNREFUSED
      assert.match(out.other_sandbox, /^refused: (EPERM|ECONNREFUSED)$/, JSON.stringify(out));
      assert.match(out.host, /^refused: (EPERM|ECONNREFUSED)$/, JSON.stringify(out));
      assert.equal(out.vsock, 'refused: EPERM');
      assert.equal(out.persona_no_aslr, 'refused: EPERM');
      assert.equal(out.persona_read_implies_exec, 'refused: EPERM');
      assert.equal(out.persona_query, 'done');
    } finally {
      const exited = new Promise((r) => host.once('exit', r));
      host.kill('SIGKILL');
      await exited;
    }
  });

  test('instances and Zygotes run with a seccomp filter and no_new_privs', async () => {
    await d.deploy('sleeper', { 'f.py': 'def f(e):\n    return 1\n' });
    await d.client.run('sleeper');
    const statuses = processesOf(d.stateDir).map((pid) => fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    assert.ok(statuses.length > 0);
    for (const status of statuses) {
      assert.match(status, /^Seccomp:\s+2$/m);
      assert.match(status, /^NoNewPrivs:\s+1$/m);
      assert.doesNotMatch(status, /^Uid:\s+0\s/m, 'nothing of ours runs as host root');
    }
  });

  test('a huge result is refused (413) and a result that is not JSON is a 422', async () => {
    await d.deploy('huge', { 'f.py': 'def f(e):\n    return "x" * (8 * 2**20)\n', 'ol.yaml': 'limits:\n  memory_mb: 512\n' });
    const huge = await d.client.run('huge');
    assert.equal(huge.status, 413, JSON.stringify(huge.error));
    assert.match(huge.error!.message, /larger than/);
    await d.deploy('nan', { 'f.py': 'def f(e):\n    return float("nan")\n' });
    const nan = await d.client.run('nan');
    assert.equal(nan.status, 422);
    assert.match(nan.error!.message, /JSON compliant|ValueError/);
  });

  test('forged replies on fd 3 are refused: no stall, no poisoned stats, the next call gets its own answer', async () => {
    await d.deploy('forger', { 'f.py': FORGER });
    const ownAnswer = async (n: number) => {
      const r = await d.client.run('forger', { n });
      assert.deepEqual(r.result, { n }, JSON.stringify(r));
    };
    await ownAnswer(1);
    // a deeply nested error body, with a status request at the same time: both are answered
    const [nested, status] = await Promise.all([d.client.run('forger', { forge: 'nested' }), d.client.status()]);
    assert.equal(nested.status, 502, JSON.stringify(nested.error));
    assert.match(nested.error!.message, /malformed reply.*nested/);
    assert.ok(status.pid > 0);
    await ownAnswer(2);
    const timing = await d.client.run('forger', { forge: 'timing' });
    assert.equal(timing.status, 502, JSON.stringify(timing.error));
    assert.match(timing.error!.message, /load_ms/);
    await ownAnswer(3);
    // its own call's id: it answers its own call (its right), and its real reply, late, kills the instance;
    // when the next call was already sent to it, that call fails (retryable), never with another's answer
    const late = await d.client.run('forger', { forge: 'late' });
    assert.equal(late.result, 'forged');
    const after = await d.client.run('forger', { n: 4 });
    if (after.status !== 200) assert.match(after.error!.message, /spoke out of turn/, JSON.stringify(after));
    else assert.deepEqual(after.result, { n: 4 });
    await ownAnswer(5);
    // a guess at the next call's id is a reply to no call waiting
    const next = await d.client.run('forger', { forge: 'next' });
    assert.equal(next.status, 502, JSON.stringify(next));
    assert.match(next.error!.message, /spoke out of turn/);
    await ownAnswer(6);
    assertSaneTimings(await d.client.stats());
    await noStrayProcesses(d);
  });

  test("forged answers from package code inside a Zygote kill that Zygote, and calls still get answers", async () => {
    await d.deploy('zforged', { 'f.py': 'import zforger\ndef f(e):\n    return e\n', 'requirements.txt': 'zforger==1.0\n' });
    for (let n = 0; n < 3; n++) {
      const r = await d.client.run('zforged', { n });
      // a Zygote killed mid-grow: the call falls back (or says to retry); never a forged answer
      if (r.status !== 200) assert.equal(r.status, 502, JSON.stringify(r));
      else assert.deepEqual(r.result, { n });
    }
    if (zygotes) await eventually(() => /Zygote \d+ sent (a malformed answer|an answer to request)/.test(d.log()), 'the Zygote killed for its forged answers');
    assertSaneTimings(await d.client.stats());
    assertSaneTimings(await d.client.zygotes());
  });

  test('a zip bomb of a wheel is refused from its zip directory: 507, nothing unpacked', async () => {
    const deploy = d.deploy('bombed', { 'f.py': 'import zipbomb\ndef f(e):\n    return 1\n', 'requirements.txt': 'zipbomb==1.0\n' });
    await assert.rejects(deploy, (e: ApiError) => e.status === 507 && /zipbomb==1\.0: its wheel: it unpacks to more than 16 MB.*packages\.maxPackageMb/.test(e.message));
    const store = `${d.stateDir}/packages/store`;
    assert.ok(!fs.readdirSync(store).some((p) => p.startsWith('zipbomb')), 'nothing of it in the cache');
    assert.deepEqual(fs.readdirSync(`${d.stateDir}/packages/tmp`), []);
  });

  test('a package whose import hangs ends in a clear timeout, and nothing hangs after it', async () => {
    await d.deploy('hanging', { 'f.py': 'import hangs\ndef f(e):\n    return 1\n', 'requirements.txt': 'hangs==1.0\n', 'ol.yaml': 'limits:\n  timeout_ms: 3000\n' });
    const started = Date.now();
    const r = await d.client.run('hanging');
    assert.equal(r.status, 504, JSON.stringify(r));
    assert.ok(Date.now() - started < 15_000);
    await noStrayProcesses(d, 10_000);
  });
}
