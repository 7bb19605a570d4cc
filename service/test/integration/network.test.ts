// What a function can reach on the network: the internet (egress), but nothing of the host and no other sandbox.
// No traffic leaves this machine and its own interfaces are never touched: each daemon runs in a network namespace
// this test makes, the stand-in for the host, with a loopback, an interface holding a private, a link-local (cloud
// metadata) and an IPv6 address, and a server listening on all of them and on an abstract unix socket. Behind a
// second veth (the host's end holds 203.0.113.1, a documentation address: one of the host's own addresses that is
// no private one) another namespace the test makes stands in for the internet: a server on 203.0.113.10, and on
// 10.88.0.10, a private API a daemon may allow-list.
// The suite runs for instances forked from Zygotes and for cold instances; a daemon in network.mode "host" shows
// that the same probes do reach all of it when sandboxes share the host's network.

import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { buildWheelhouse } from '../fixtures/wheels';
import { cgroupsOf, cmdlineOf, eventually, noStrayProcesses, processesOf, startDaemon, TestDaemon } from './harness';

const PORT = 47_080;
const HOST_NET = [
  'ip link set lo up',
  'ip link add h0 type veth peer name h1',
  'ip addr add 10.77.0.1/24 dev h0',
  'ip addr add 169.254.169.254/32 dev h0',
  'ip -6 addr add fd77::1/64 dev h0 nodad',
  'ip link set h0 up',
  'ip link set h1 up',
  // the way to the stand-in internet; its end i1 moves into the internet's namespace once that exists
  'ip link add i0 type veth peer name i1',
  'ip addr add 203.0.113.1/24 dev i0',
  'ip link set i0 up',
  'ip route add 10.88.0.0/24 dev i0',
].join('\n');
/** run in the internet's namespace once i1 is in it */
const INTERNET_NET = ['ip link set lo up', 'ip addr add 203.0.113.10/24 dev i1', 'ip addr add 10.88.0.10/24 dev i1', 'ip link set i1 up'].join('\n');
const INTERNET = { name: 'internet', host: '203.0.113.10', port: PORT };
const PRIVATE_API = { name: 'privateApi', host: '10.88.0.10', port: PORT };
const PEER_PORT = 47_081;
const ABSTRACT = `sockpit-net-test-${process.pid}`;
const TARGETS = [
  { name: 'loopback', host: '127.0.0.1' },
  { name: 'loopback6', host: '::1' },
  { name: 'private', host: '10.77.0.1' },
  { name: 'linklocal', host: '169.254.169.254' },
  { name: 'ipv6', host: 'fd77::1' },
  { name: 'ownAddress', host: '203.0.113.1' },
].map((t) => ({ ...t, port: PORT }));
/** slirp4netns's addresses for the host (10.0.2.2) and its DNS forwarder (10.0.2.3, port 53 only) */
const SLIRP_TARGETS = [
  { name: 'gateway', host: '10.0.2.2', port: PORT },
  { name: 'dnsOtherPort', host: '10.0.2.3', port: PORT },
];

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
    out["capEff"] = capabilities()
    return out
def capabilities():
    import ctypes
    header, data = (ctypes.c_uint32 * 2)(0x20080522, 0), (ctypes.c_uint32 * 6)()
    ctypes.CDLL(None, use_errno=True).syscall(125, header, data)  # capget: no /proc in a sandbox
    return data[0] | data[3]
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

/**
 * The stand-in internet: a namespace of its own, made by `unshare --net` below the host's, which gets the host's
 * veth end i1 (moved by the test into it by pid) and then runs the same server.
 */
async function startInternet(d: TestDaemon): Promise<ChildProcess> {
  const script = `read go\n${INTERNET_NET}\nexec /usr/bin/python3 -c "$0" ${PORT} ${ABSTRACT}-internet`;
  const server = spawn('nsenter', [`--net=/proc/${d.pid}/ns/net`, 'unshare', '--net', '--', 'sh', '-ec', script, SERVER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const ready = new Promise<void>((resolve, reject) => {
    server.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    server.once('exit', (code) => reject(new Error(`the test's internet server exited with ${code}`)));
  });
  // nsenter and unshare exec what they run: the pid is the shell's, already in the new namespace once it reads
  await eventually(() => ![netnsOf(process.pid), netnsOf(d.pid)].includes(netnsOf(server.pid!)), 'the internet namespace');
  const moved = spawnSync('nsenter', [`--net=/proc/${d.pid}/ns/net`, 'ip', 'link', 'set', 'i1', 'netns', String(server.pid)], { encoding: 'utf8' });
  assert.equal(moved.status, 0, moved.stderr);
  server.stdin!.end('go\n');
  await ready;
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
    "kill": bool(data[0].effective & (1 << 5)) or bool(data[0].permitted & (1 << 5)),
}
`;

/** few namespaces kept ready, so the calls below drain the pools and make them refill */
const READY = 2;

// the cold suite's daemon allow-lists the private API, the Zygote suite's does not
for (const [label, config] of [
  ['instances forked from Zygotes', { network: { ready: READY } }],
  ['cold instances (Zygotes off)', { zygotes: { enabled: false }, network: { ready: READY, allow: [PRIVATE_API.host] } }],
] as const) {
  describe(label, () => isolatedSuite(config, label.startsWith('instances forked')));
}

/** slirp4netns processes the daemon runs (its children) */
function helpersOf(pid: number): number[] {
  return fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((p) => {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const [, comm, rest] = /^\d+ \((.*)\) (.*)$/s.exec(stat)!;
      return comm === 'slirp4netns' && Number(rest.split(' ')[1]) === pid;
    } catch {
      return false;
    }
  });
}

/** whether a process runs (a zombie does not: it waits for whoever adopted it to reap it) */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /s.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** network namespaces (their "net:[inode]") the daemon holds open */
function netnsHeldBy(pid: number): string[] {
  return fs.readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
    try {
      const link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      return link.startsWith('net:') ? [link] : [];
    } catch {
      return [];
    }
  });
}

/** the processes running now, by pid and start time */
function processesNow(): Map<number, string> {
  const out = new Map<number, string>();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      out.set(Number(e), startTimeOf(Number(e)));
    } catch {
      // gone while we looked
    }
  }
  return out;
}
const startTimeOf = (pid: number) => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[19];

/**
 * The processes of `among` (those that ran when the namespaces were noted: the kernel reuses a freed
 * namespace's inode number for new ones, other daemons' too) that are in, or hold an fd of, one of them.
 */
function holdersOf(namespaces: string[], among: Map<number, string>): number[] {
  const wanted = new Set(namespaces);
  return [...among.keys()].filter((p) => {
    try {
      if (startTimeOf(p) !== among.get(p)) return false; // another process with its pid
      if (wanted.has(netnsOf(p))) return true;
      return fs.readdirSync(`/proc/${p}/fd`).some((fd) => {
        try {
          return wanted.has(fs.readlinkSync(`/proc/${p}/fd/${fd}`));
        } catch {
          return false;
        }
      });
    } catch {
      return false;
    }
  });
}

function isolatedSuite(config: Record<string, unknown>, zygotes: boolean): void {
  let d: TestDaemon;
  let server: ChildProcess | undefined;
  let internet: ChildProcess | undefined;
  const allowed = JSON.stringify(config).includes(PRIVATE_API.host);
  const wheels = fs.mkdtempSync('/tmp/sockpit-wheels-');

  before(async () => {
    buildWheelhouse(wheels, [{ name: 'netsneak', version: '1.0', modules: { 'netsneak/__init__.py': SNEAK } }]);
    d = await startDaemon({ ...config, packages: { findLinks: wheels } }, { hostNetns: HOST_NET });
    server = await startHostServer(d);
    internet = await startInternet(d);
    await d.deploy('probe', { 'f.py': PROBE });
  });
  after(async () => {
    fs.rmSync(wheels, { recursive: true, force: true });
    await stopServer(server);
    await stopServer(internet);
    const stateDir = d?.stateDir;
    // a test may have restarted the daemon: its pools start their helpers anew, so wait for them to run
    if (d) await eventually(() => helpersOf(d.pid).length >= READY, "the pools' egress helpers to run", 30_000);
    const helpers = d ? helpersOf(d.pid) : [];
    const namespaces = d ? netnsHeldBy(d.pid) : [];
    const then = processesNow();
    await d?.stop();
    if (stateDir) {
      assert.deepEqual(processesOf(stateDir), [], 'no process of the daemon is left');
      assert.deepEqual(cgroupsOf(stateDir), [], 'no cgroup of the daemon is left');
      assert.ok(helpers.length >= READY, `egress helpers ran: ${helpers.length}`);
      assert.deepEqual(helpers.filter(running), [], 'no egress helper (slirp4netns) is left');
      const holders = holdersOf(namespaces, then);
      assert.deepEqual(holders, [], `nothing holds any of its network namespaces: ${holders.map((p) => cmdlineOf(p)).join('; ')}`);
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

  test('the stand-in internet serves on 203.0.113.10 and the private API on 10.88.0.10, reached from the host (control)', () => {
    const probe = spawnSync('nsenter', [`--net=/proc/${d.pid}/ns/net`, '/usr/bin/python3', '-c', `${PROBE}\nimport json, sys\nprint(json.dumps(f(json.loads(sys.argv[1]))))`, JSON.stringify({ targets: [INTERNET, PRIVATE_API] })], {
      encoding: 'utf8',
    });
    assert.equal(probe.status, 0, probe.stderr);
    const out = JSON.parse(probe.stdout) as Record<string, unknown>;
    assert.equal(out.internet, 'connected');
    assert.equal(out.privateApi, 'connected');
  });

  test("a function reaches the internet, and nothing of the host: not its loopback (v4, v6), private, link-local, IPv6 or own addresses, nor its abstract unix sockets", async () => {
    const r = await d.client.run('probe', { targets: [...TARGETS, ...SLIRP_TARGETS, INTERNET], abstract: ABSTRACT });
    assert.equal(r.status, 200, JSON.stringify(r.error));
    assert.equal(r.tier, zygotes ? 'zygote' : 'cold');
    const out = r.result as Record<string, unknown>;
    assert.equal(out.internet, 'connected', `egress: ${JSON.stringify(out)}`);
    for (const t of [...TARGETS, ...SLIRP_TARGETS].map((t) => t.name).concat('abstract')) assert.notEqual(out[t], 'connected', `${t}: ${JSON.stringify(out)}`);
    assert.deepEqual(out.interfaces, ['lo', 'tap0'], "it sees its own loopback and egress interface, none of the host's interfaces");
    assert.equal(out.loopback, 'ConnectionRefusedError', 'its own loopback is up (and empty)');
    assert.equal(out.capEff, 0, 'no capability: it cannot change its namespace (its egress rules) either');
  });

  test(allowed ? 'network.allow lets one private address through, and only it' : 'a private address off the host is refused too (no network.allow)', async () => {
    const r = await d.client.run('probe', { targets: [PRIVATE_API, { name: 'privateOther', host: '10.88.0.11', port: PORT }, ...TARGETS] });
    assert.equal(r.status, 200, JSON.stringify(r.error));
    const out = r.result as Record<string, unknown>;
    if (allowed) assert.equal(out.privateApi, 'connected', JSON.stringify(out));
    else assert.notEqual(out.privateApi, 'connected', JSON.stringify(out));
    for (const t of ['privateOther', ...TARGETS.map((t) => t.name)]) assert.notEqual(out[t], 'connected', `${t}: ${JSON.stringify(out)}`);
  });

  test('an address the host gains after the namespaces were made is refused too', async () => {
    const added = spawnSync('nsenter', [`--net=/proc/${d.pid}/ns/net`, 'ip', 'addr', 'add', '198.51.100.7/32', 'dev', 'h0'], { encoding: 'utf8' });
    assert.equal(added.status, 0, added.stderr);
    const target = { name: 'newAddress', host: '198.51.100.7', port: PORT };
    // the pools read the host's addresses again every 2 s and update every namespace they hold
    await eventually(async () => ((await d.client.run('probe', { targets: [target] })).result as Record<string, unknown>).newAddress !== 'connected', 'the new address to be refused', 10_000);
    for (let i = 0; i < 2 * READY; i++) {
      const r = await d.client.run('probe', { targets: [target, INTERNET] });
      const out = r.result as Record<string, unknown>;
      assert.notEqual(out.newAddress, 'connected', `call ${i}: ${JSON.stringify(out)}`);
      assert.equal(out.internet, 'connected');
    }
  });

  test('a function with `network: none` in ol.yaml gets loopback only: no internet', async () => {
    await d.deploy('offline', { 'f.py': PROBE, 'ol.yaml': 'network: none\n' });
    for (let i = 0; i < 2; i++) {
      const r = await d.client.run('offline', { targets: [INTERNET, ...TARGETS] });
      assert.equal(r.status, 200, JSON.stringify(r.error));
      if (i === 0) assert.equal(r.tier, zygotes ? 'zygote' : 'cold');
      const out = r.result as Record<string, unknown>;
      assert.deepEqual(out.interfaces, ['lo']);
      for (const t of ['internet', ...TARGETS.map((t) => t.name)]) assert.notEqual(out[t], 'connected', `${t}: ${JSON.stringify(out)}`);
    }
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
      // where Landlock cannot scope signals (ABI < 6), this is what keeps every instance (another uid) out of reach
      assert.equal(report.kill, false, 'nor CAP_KILL to signal a process of another uid (an instance)');
    });
  }

  test('after a run of calls the pools refill to what they keep ready, in the background', async () => {
    for (let i = 0; i < 3 * READY; i++) await d.client.run('probe', { targets: [] });
    await refilled();
    assert.doesNotMatch(d.log(), /network namespace/, 'no namespace failed to be made');
  });

  const refilled = () =>
    eventually(async () => {
      const s = (await d.client.status()).network!;
      return s.cold!.free >= READY && s.cold!.starting === 0 && (!zygotes || (s.zygote!.free === READY && s.zygote!.starting === 0));
    }, 'the pools to refill');

  test('the daemon holds exactly the network namespaces and egress helpers its pools account for', async () => {
    const s = await d.client.status();
    assert.equal(s.network?.mode, 'isolated');
    assert.equal(s.network?.egress, true);
    const pools = [s.network?.cold, s.network?.zygote].filter((p) => p !== null && p !== undefined);
    assert.equal(pools.length, zygotes ? 2 : 1);
    const held = pools.reduce((n, p) => n + p!.free + p!.freeBare + p!.inUse + p!.starting, 0);
    assert.equal(netnsFdsOf(d.pid), held);
    assert.equal(helpersOf(d.pid).length, pools.reduce((n, p) => n + p!.helpers, 0));
  });

  test('an egress helper that dies takes its namespace out of use: free ones are replaced, warm ones retired, and calls reach the internet again', async () => {
    const before = (await d.client.status()).network!;
    const failedBefore = before.cold!.failed + (before.zygote?.failed ?? 0);
    const victims = helpersOf(d.pid);
    for (const pid of victims) process.kill(pid, 'SIGKILL');
    await eventually(() => victims.every((pid) => !fs.existsSync(`/proc/${pid}`)), 'the helpers to be reaped');
    await refilled();
    const after = (await d.client.status()).network!;
    assert.ok(after.cold!.failed + (after.zygote?.failed ?? 0) > failedBefore, 'discarded namespaces are counted');
    assert.equal(netnsFdsOf(d.pid), [after.cold!, after.zygote].reduce((n, p) => n + (p ? p.free + p.freeBare + p.inUse + p.starting : 0), 0));
    const r = await d.client.run('probe', { targets: [INTERNET] });
    assert.equal(r.status, 200, JSON.stringify(r.error));
    assert.equal((r.result as Record<string, unknown>).internet, 'connected', 'the next call gets a namespace with a live helper');
  });

  if (!zygotes) {
    // last: the restarted daemon is in a new stand-in host, without the servers above
    test('a daemon killed with SIGKILL leaves no egress helper behind: each exits when the pipe only the daemon held closes', async () => {
      const helpers = helpersOf(d.pid);
      assert.ok(helpers.length >= READY);
      const namespaces = netnsHeldBy(d.pid);
      const then = processesNow();
      await d.killAndRestart();
      await eventually(() => !helpers.some(running), 'the helpers of the killed daemon to exit');
      await eventually(() => holdersOf(namespaces, then).length === 0, "nothing to hold the killed daemon's namespaces");
    });
  }
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

describe('network.egress false: loopback only for every function, no helper', () => {
  let d: TestDaemon;
  let internet: ChildProcess | undefined;
  before(async () => {
    d = await startDaemon({ network: { egress: false, ready: READY } }, { hostNetns: HOST_NET });
    internet = await startInternet(d);
    await d.deploy('probe', { 'f.py': PROBE });
  });
  after(async () => {
    await stopServer(internet);
    await d?.stop();
  });

  test('a function sees its loopback only and reaches neither the internet nor the host', async () => {
    const r = await d.client.run('probe', { targets: [INTERNET, ...TARGETS] });
    assert.equal(r.status, 200, JSON.stringify(r.error));
    const out = r.result as Record<string, unknown>;
    assert.deepEqual(out.interfaces, ['lo']);
    for (const t of ['internet', ...TARGETS.map((t) => t.name)]) assert.notEqual(out[t], 'connected', `${t}: ${JSON.stringify(out)}`);
    const s = (await d.client.status()).network!;
    assert.equal(s.egress, false);
    assert.equal(s.cold!.helpers + (s.zygote?.helpers ?? 0), 0);
    assert.deepEqual(helpersOf(d.pid), []);
  });
});
