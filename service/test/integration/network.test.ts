// What a function can reach on the network: nothing of the host, and no other sandbox. No traffic leaves this
// machine and its own interfaces are never touched: each daemon runs in a network namespace this test makes, the
// stand-in for the host, with a loopback, an interface holding a private, a link-local (cloud metadata) and an
// IPv6 address, and a server listening on all of them and on an abstract unix socket.
// The suite runs for instances forked from Zygotes and for cold instances; a daemon in network.mode "host" shows
// that the same probes do reach all of it when sandboxes share the host's network.

import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { buildWheelhouse } from '../fixtures/wheels';
import { cgroupsOf, eventually, noStrayProcesses, processesOf, startDaemon, TestDaemon } from './harness';

const HOST_NET = [
  'ip link set lo up',
  'ip link add h0 type veth peer name h1',
  'ip addr add 10.77.0.1/24 dev h0',
  'ip addr add 169.254.169.254/32 dev h0',
  'ip -6 addr add fd77::1/64 dev h0 nodad',
  'ip link set h0 up',
  'ip link set h1 up',
].join('\n');
const PORT = 47_080;
const PEER_PORT = 47_081;
const ABSTRACT = `sockpit-net-test-${process.pid}`;
const TARGETS = [
  { name: 'loopback', host: '127.0.0.1' },
  { name: 'loopback6', host: '::1' },
  { name: 'private', host: '10.77.0.1' },
  { name: 'linklocal', host: '169.254.169.254' },
  { name: 'ipv6', host: 'fd77::1' },
].map((t) => ({ ...t, port: PORT }));

/** connects to each target and to an abstract unix socket; lists the interfaces it sees */
const PROBE = `
import socket
def connect(family, address):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(address)
        return "connected"
    except OSError as exc:
        return type(exc).__name__
    finally:
        s.close()
def f(e):
    out = {t["name"]: connect(socket.AF_INET6 if ":" in t["host"] else socket.AF_INET, (t["host"], t["port"])) for t in e["targets"]}
    if "abstract" in e:
        out["abstract"] = connect(socket.AF_UNIX, "\\0" + e["abstract"])
    out["interfaces"] = sorted(name for _, name in socket.if_nameindex())
    return out
`;

/** listens on every address of its namespace and on an abstract unix socket; says "ready" */
const SERVER = `
import socket, sys, threading
tcp = socket.socket(socket.AF_INET6)
tcp.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
tcp.bind(("::", int(sys.argv[1])))
tcp.listen(64)
unix = socket.socket(socket.AF_UNIX)
unix.bind("\\0" + sys.argv[2])
unix.listen(64)
def serve(s):
    while True:
        s.accept()[0].close()
threading.Thread(target=serve, args=(unix,), daemon=True).start()
print("ready", flush=True)
serve(tcp)
`;

/** the stand-in host's server, in the daemon's network namespace */
async function startHostServer(d: TestDaemon): Promise<ChildProcess> {
  const server = spawn('nsenter', [`--net=/proc/${d.pid}/ns/net`, '/usr/bin/python3', '-c', SERVER, String(PORT), ABSTRACT], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    server.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    server.once('exit', (code) => reject(new Error(`the test's host server exited with ${code}`)));
  });
  return server;
}

function stopServer(server: ChildProcess | undefined): Promise<void> {
  if (!server || server.exitCode !== null || server.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((r) => server.once('exit', () => r()));
  server.kill('SIGKILL');
  return exited;
}

const netnsOf = (pid: number | string) => fs.readlinkSync(`/proc/${pid}/ns/net`);

/** the daemon's pool cgroup a process is in (its line of /proc/<pid>/cgroup for the freezer or v2) */
function sandboxOf(pid: number): string {
  return fs
    .readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .filter((l) => l.includes('/pool-'))
    .sort()[0];
}

/** network namespace fds the daemon holds */
function netnsFdsOf(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('net:');
    } catch {
      return false;
    }
  }).length;
}

/**
 * What package code imported into a Zygote (root in the Zygotes' user namespace, which owns every Zygote-world
 * network namespace) tries at import time: a pidfd of another process, to setns into its network namespace;
 * and the capabilities to make a veth pair and move its other end into another process's namespace by pid.
 */
const SNEAK = `
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
def outcome(result):
    return "ok" if result >= 0 else errno.errorcode[ctypes.get_errno()]
class Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]
class Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]
header, data = Header(0x20080522, 0), (Data * 2)()
libc.syscall(125, ctypes.byref(header), data)
REPORT = {
    "uid": __import__("os").getuid(),
    "pidfd_open": outcome(libc.syscall(434, 1, 0)),
    "net_admin": bool(data[0].effective & (1 << 12)) or bool(data[0].permitted & (1 << 12)),
    "net_raw": bool(data[0].effective & (1 << 13)),
    "sys_admin": bool(data[0].effective & (1 << 21)),
}
`;

/** few namespaces kept ready, so the calls below drain the pools and make them refill */
const READY = 2;

for (const [label, config] of [
  ['instances forked from Zygotes', { network: { ready: READY } }],
  ['cold instances (Zygotes off)', { zygotes: { enabled: false }, network: { ready: READY } }],
] as const) {
  describe(label, () => isolatedSuite(config, label.startsWith('instances forked')));
}

function isolatedSuite(config: Record<string, unknown>, zygotes: boolean): void {
  let d: TestDaemon;
  let server: ChildProcess | undefined;
  const wheels = fs.mkdtempSync('/tmp/sockpit-wheels-');

  before(async () => {
    buildWheelhouse(wheels, [{ name: 'netsneak', version: '1.0', modules: { 'netsneak/__init__.py': SNEAK } }]);
    d = await startDaemon({ ...config, packages: { findLinks: wheels } }, { hostNetns: HOST_NET });
    server = await startHostServer(d);
    await d.deploy('probe', { 'f.py': PROBE });
  });
  after(async () => {
    fs.rmSync(wheels, { recursive: true, force: true });
    await stopServer(server);
    const stateDir = d?.stateDir;
    await d?.stop();
    if (stateDir) {
      assert.deepEqual(processesOf(stateDir), [], 'no process of the daemon is left');
      assert.deepEqual(cgroupsOf(stateDir), [], 'no cgroup of the daemon is left');
    }
  });

  test('the stand-in host serves on its loopback, private, link-local and IPv6 addresses (control)', () => {
    const probe = spawnSync('nsenter', [`--net=/proc/${d.pid}/ns/net`, '/usr/bin/python3', '-c', `${PROBE}\nimport json, sys\nprint(json.dumps(f(json.loads(sys.argv[1]))))`, JSON.stringify({ targets: TARGETS, abstract: ABSTRACT })], {
      encoding: 'utf8',
    });
    assert.equal(probe.status, 0, probe.stderr);
    const out = JSON.parse(probe.stdout) as Record<string, unknown>;
    for (const t of [...TARGETS.map((t) => t.name), 'abstract']) assert.equal(out[t], 'connected', t);
  });

  test('a function reaches nothing of the host: not its loopback (v4, v6), private, link-local or IPv6 addresses, nor its abstract unix sockets', async () => {
    const r = await d.client.run('probe', { targets: TARGETS, abstract: ABSTRACT });
    assert.equal(r.status, 200, JSON.stringify(r.error));
    assert.equal(r.tier, zygotes ? 'zygote' : 'cold');
    const out = r.result as Record<string, unknown>;
    for (const t of [...TARGETS.map((t) => t.name), 'abstract']) assert.notEqual(out[t], 'connected', `${t}: ${JSON.stringify(out)}`);
    assert.deepEqual(out.interfaces, ['lo'], "it sees only its own loopback, none of the host's interfaces");
    assert.equal(out.loopback, 'ConnectionRefusedError', 'its own loopback is up (and empty)');
  });

  test('two sandboxes cannot reach each other', async () => {
    await d.deploy('listener', {
      'f.py': [
        'import socket',
        'held = []',
        'def f(e):',
        '    if not held:',
        '        s = socket.socket()',
        `        s.bind(("127.0.0.1", ${PEER_PORT}))`,
        '        s.listen(16)',
        '        u = socket.socket(socket.AF_UNIX)',
        `        u.bind("\\0${ABSTRACT}-peer")`,
        '        u.listen(16)',
        '        held.extend([s, u])',
        `    c = socket.create_connection(("127.0.0.1", ${PEER_PORT}), timeout=5)`,
        '    c.close()',
        '    return "listening"',
        '',
      ].join('\n'),
    });
    const listening = await d.client.run('listener');
    assert.equal(listening.result, 'listening', JSON.stringify(listening.error));
    const r = await d.client.run('probe', { targets: [{ name: 'peer', host: '127.0.0.1', port: PEER_PORT }], abstract: `${ABSTRACT}-peer` });
    assert.equal(r.status, 200, JSON.stringify(r.error));
    const out = r.result as Record<string, unknown>;
    assert.equal(out.peer, 'ConnectionRefusedError');
    assert.notEqual(out.abstract, 'connected');
    // the listener's instance still listens: warm, it reaches its own server
    assert.equal((await d.client.run('listener')).result, 'listening');
  });

  test("every process of the daemon's sandboxes (Zygotes too) is in a network namespace of its sandbox's own, none the host's", async () => {
    await noStrayProcesses(d);
    const host = netnsOf(d.pid);
    const owner = new Map<string, string>();
    const pids = processesOf(d.stateDir);
    assert.ok(pids.length >= (zygotes ? 4 : 2), `sandboxes run: ${pids.length}`);
    for (const pid of pids) {
      let ns: string;
      try {
        ns = netnsOf(pid);
      } catch {
        continue; // exited while we looked
      }
      assert.notEqual(ns, host, `process ${pid} is in the host's network namespace`);
      const sandbox = sandboxOf(pid);
      assert.equal(owner.get(ns) ?? sandbox, sandbox, `process ${pid} shares a network namespace with another sandbox`);
      owner.set(ns, sandbox);
    }
  });

  if (zygotes) {
    test("package code in a Zygote (root in the Zygotes' user namespace) can name no other process's network namespace nor link one to its own", async () => {
      await d.deploy('sneak', { 'f.py': 'import netsneak\ndef f(e):\n    return netsneak.REPORT\n', 'requirements.txt': 'netsneak==1.0\n' });
      const r = await d.client.run('sneak');
      assert.equal(r.status, 200, JSON.stringify(r.error));
      assert.equal(r.tier, 'zygote');
      assert.ok((await d.client.zygotes()).some((z) => z.packages.includes('netsneak==1.0')), 'it was imported in a Zygote of its own');
      const report = r.result as Record<string, unknown>;
      assert.equal(report.uid, 0, 'imported as root of the Zygotes\' user namespace');
      assert.equal(report.sys_admin, true, 'which may setns (into what it is given)');
      assert.equal(report.pidfd_open, 'EPERM', 'but gets no pidfd to setns into another process\'s namespace');
      assert.equal(report.net_admin, false, 'nor CAP_NET_ADMIN to move a veth end into one by pid');
      assert.equal(report.net_raw, false);
    });
  }

  test('after a run of calls the pools refill to what they keep ready, in the background', async () => {
    for (let i = 0; i < 3 * READY; i++) await d.client.run('probe', { targets: [] });
    await eventually(async () => {
      const s = (await d.client.status()).network!;
      return s.cold!.free >= READY && (!zygotes || s.zygote!.free === READY);
    }, 'the pools to refill');
    assert.doesNotMatch(d.log(), /network namespace/, 'no namespace failed to be made');
  });

  test('the daemon holds exactly the network namespaces its pools account for', async () => {
    const s = await d.client.status();
    assert.equal(s.network?.mode, 'isolated');
    const pools = [s.network?.cold, s.network?.zygote].filter((p) => p !== null && p !== undefined);
    assert.equal(pools.length, zygotes ? 2 : 1);
    const held = pools.reduce((n, p) => n + p!.free + p!.inUse, 0);
    assert.equal(netnsFdsOf(d.pid), held);
  });
}

describe('network.mode host (comparison benchmarks only)', () => {
  let d: TestDaemon;
  let server: ChildProcess | undefined;
  before(async () => {
    d = await startDaemon({ network: { mode: 'host' } }, { hostNetns: HOST_NET });
    server = await startHostServer(d);
    await d.deploy('probe', { 'f.py': PROBE });
  });
  after(async () => {
    await stopServer(server);
    await d?.stop();
  });

  test('says so loudly, and the same probe then reaches the host: the isolated results above are real', async () => {
    assert.match(d.log(), /WARNING: network.mode is "host"/);
    const r = await d.client.run('probe', { targets: TARGETS });
    assert.equal(r.status, 200, JSON.stringify(r.error));
    const out = r.result as Record<string, unknown>;
    for (const t of TARGETS) assert.equal(out[t.name], 'connected', t.name);
    assert.equal((await d.client.status()).network?.cold, null);
  });
});
