// The sandbox entry checklist (docs/ARCHITECTURE.md "Entering a sandbox") holds on both paths: a cold instance (the addon's spawn,
// Zygotes off) and an instance forked from a Zygote leave the same process state, read from the host's /proc and
// from inside. Only the differences the checklist names as deliberate are allowed, each asserted as it is.
//
// The forked function's Zygote imports `meddler`, a package that changes what a fork would inherit (a lower
// nofile and file size limit, a caught and an ignored signal, a blocked signal, umask 077, an open fd); the function itself
// never imports it, so a cold instance never sees it: whatever of it leaks into a forked instance is a difference.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { buildWheelhouse } from '../fixtures/wheels';
import { processesOf, startDaemon, TestDaemon } from './harness';

const MEDDLER = [
  'import os, resource, signal',
  'resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))',
  'resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 30, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))',
  'signal.signal(signal.SIGHUP, lambda *_: None)',
  'signal.signal(signal.SIGUSR1, signal.SIG_IGN)',
  'signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})',
  'os.umask(0o077)',
  'LEAKED = open(__file__)',
  '',
].join('\n');

/** What the function reports from inside: what /proc of the host cannot show. */
const REPORT = [
  'import ctypes, errno, os, socket',
  'libc = ctypes.CDLL(None, use_errno=True)',
  'PR_GET_PDEATHSIG, PR_GET_SECUREBITS = 2, 27',
  'def f(e):',
  '    mask = os.umask(0)',
  '    os.umask(mask)',
  '    pdeathsig = ctypes.c_int(-1)',
  '    libc.prctl(PR_GET_PDEATHSIG, ctypes.byref(pdeathsig), 0, 0, 0)',
  '    try:',
  '        os.close(os.pidfd_open(os.getpid()))',
  '        pidfd_open = "allowed"',
  '    except OSError as exc:',
  '        pidfd_open = errno.errorcode[exc.errno]',
  '    return {"umask": oct(mask), "cwd": os.getcwd(), "env": sorted(os.environ), "hostname": socket.gethostname(),',
  '            "securebits": libc.prctl(PR_GET_SECUREBITS, 0, 0, 0, 0), "pdeathsig": pdeathsig.value,',
  '            "pidfd_open": pidfd_open}',
  '',
].join('\n');

const STATUS_FIELDS = [
  'Uid', 'Gid', 'Groups', 'NoNewPrivs', 'Seccomp', 'Seccomp_filters',
  'CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'SigBlk', 'SigIgn', 'SigCgt',
];

interface Observed {
  status: Record<string, string>;
  limits: string;
  /** per namespace: whose it is ('host', 'daemon', 'parent': the Zygote that forked it, or 'own') */
  namespaces: Record<string, string>;
  /** fd → what it is ('/dev/null', 'pipe', 'socket') and its open flags */
  fds: Record<string, string>;
  inside: Record<string, unknown>;
  /** the Seccomp_filters of the process that started it (a Zygote, or sockpitd) */
  parentFilters: number;
  /** how many PID namespaces deep it is, counted from the host's (NSpid) */
  pidDepth: number;
}

function statusOf(pid: number): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const at = line.indexOf(':');
    if (at > 0) fields[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return fields;
}

function namespacesOf(pid: number, daemonPid: number, parentPid: number): Record<string, string> {
  const link = (p: number | 'self', ns: string) => fs.readlinkSync(`/proc/${p}/ns/${ns}`);
  const kinds: Record<string, string> = {};
  for (const ns of fs.readdirSync(`/proc/${pid}/ns`).sort()) {
    const mine = link(pid, ns);
    kinds[ns] = mine === link('self', ns) ? 'host' : mine === link(daemonPid, ns) ? 'daemon' : mine === link(parentPid, ns) ? 'parent' : 'own';
  }
  return kinds;
}

function fdsOf(pid: number): Record<string, string> {
  const root = fs.readlinkSync(`/proc/${pid}/root`);
  const fds: Record<string, string> = {};
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    const target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`).replace(/^(\w+):\[\d+\]$/, '$1');
    const inRoot = target.startsWith(`${root}/`) ? target.slice(root.length) : target;
    const flags = /^flags:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))![1];
    fds[fd] = `${inRoot} flags ${flags}`;
  }
  return fds;
}

/** Runs the function once and reads the state of the instance that served it. */
async function observe(d: TestDaemon, name: string, tier: string): Promise<Observed> {
  const r = await d.client.run(name);
  assert.equal(r.status, 200, JSON.stringify(r.error));
  assert.equal(r.tier, tier, `${name} ran on the ${tier} path`);
  const pid = processesOf(d.stateDir).find((p) => {
    try {
      return fs.readlinkSync(`/proc/${p}/root`).includes(`/sandboxes/${r.sandbox}/`);
    } catch {
      return false; // another sandbox's process, gone meanwhile
    }
  });
  assert.ok(pid, `the instance of sandbox ${r.sandbox} is found on the host`);
  // /proc is read while the daemon goes on (parking the instance, refilling spares), and the process that forked
  // the instance may end meanwhile: its vanishing mid-read (ENOENT, ESRCH) is that race, not a finding, so the
  // state is read again (the instance's PPid is then its new parent). The instance itself must stay.
  for (let attempt = 1; ; attempt++) {
    try {
      return { ...stateOf(pid, d.pid), inside: r.result as Record<string, unknown> };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (attempt >= 3 || (code !== 'ENOENT' && code !== 'ESRCH') || !fs.existsSync(`/proc/${pid}`)) throw err;
    }
  }
}

function stateOf(pid: number, daemonPid: number): Omit<Observed, 'inside'> {
  const status = statusOf(pid);
  const parentPid = Number(status.PPid);
  return {
    status: Object.fromEntries(STATUS_FIELDS.map((f) => [f, status[f]])),
    limits: fs.readFileSync(`/proc/${pid}/limits`, 'utf8'),
    namespaces: namespacesOf(pid, daemonPid, parentPid),
    fds: fdsOf(pid),
    parentFilters: Number(statusOf(parentPid).Seccomp_filters),
    pidDepth: status.NSpid.split(/\s+/).length,
  };
}

/** The differences docs/ARCHITECTURE.md "Entering a sandbox" names as deliberate, asserted as they are, then taken out of the comparison. */
function withoutDeliberateDifferences(cold: Observed, forked: Observed): [Observed, Observed] {
  // seccomp filters stack: a forked instance keeps its Zygotes' (which allow more) under its own
  assert.equal(cold.status.Seccomp_filters, '1', 'a cold instance has exactly the instance filter');
  assert.equal(Number(forked.status.Seccomp_filters), forked.parentFilters + 1, "a forked instance: its Zygote's filters and the instance filter");
  // a forked instance lives in the Zygotes' user namespace; a cold one in the host's
  assert.equal(cold.namespaces.user, 'host');
  assert.equal(forked.namespaces.user, 'parent');
  // both are PID 1 of a PID namespace of their own: a forked one's is nested in the Zygotes'
  assert.equal(cold.pidDepth, 2);
  assert.equal(forked.pidDepth, 3);
  // PDEATHSIG: a cold instance dies with sockpitd; a forked one with the Zygotes' PID namespace, whose PID 1 does
  assert.equal(cold.inside.pdeathsig, 9, 'SIGKILL when sockpitd dies');
  assert.equal(forked.inside.pdeathsig, 0, 'none: its parent is a Zygote, which may go before it');
  const strip = (o: Observed): Observed => ({
    ...o,
    status: { ...o.status, Seccomp_filters: '(stacked)' },
    namespaces: { ...o.namespaces, user: '(deliberate)' },
    inside: { ...o.inside, pdeathsig: '(deliberate)' },
    parentFilters: 0,
    pidDepth: 0,
  });
  return [strip(cold), strip(forked)];
}

let wheels: string;
let cold: TestDaemon;
let forked: TestDaemon;

before(async () => {
  wheels = fs.mkdtempSync('/tmp/sockpit-wheels-');
  buildWheelhouse(wheels, [{ name: 'meddler', version: '1.0', modules: { 'meddler/__init__.py': MEDDLER } }]);
  const packages = { findLinks: wheels };
  cold = await startDaemon({ packages, zygotes: { enabled: false } });
  forked = await startDaemon({ packages, zygotes: { replyTimeoutMs: 5000 } });
});

after(async () => {
  await cold?.stop();
  await forked?.stop();
  if (wheels) fs.rmSync(wheels, { recursive: true, force: true });
});

for (const [label, files] of [
  ['a function without packages (a spare of the base Zygote)', { 'f.py': REPORT }],
  ['a function whose Zygote imported a meddling package', { 'f.py': REPORT, 'requirements.txt': 'meddler==1.0\n' }],
] as const) {
  describe(label, () => {
    let c: Observed;
    let f: Observed;
    const name = label.includes('meddling') ? 'meddled' : 'plain';

    before(async () => {
      await cold.deploy(name, files);
      await forked.deploy(name, files);
      c = await observe(cold, name, 'cold');
      f = await observe(forked, name, 'zygote');
      [c, f] = withoutDeliberateDifferences(c, f);
    });

    test('uid, gid, groups, no_new_privs, seccomp mode, capabilities and signals are the same', () => {
      assert.deepEqual(f.status, c.status);
      assert.notEqual(c.status.Uid.split(/\s+/)[0], '0');
      assert.equal(c.status.Groups, '');
      assert.equal(c.status.NoNewPrivs, '1');
      assert.equal(c.status.Seccomp, '2');
      for (const set of ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb']) assert.equal(c.status[set], '0000000000000000', set);
      assert.equal(c.status.SigBlk, '0000000000000000', 'no signal blocked');
    });

    test('rlimits are the same', () => {
      assert.equal(f.limits, c.limits);
      assert.match(c.limits, /^Max core file size\s+0\s+0\s/m);
      assert.match(c.limits, /^Max open files\s+1024\s+1024\s/m);
    });

    test('namespaces are of the same kind: pid, uts, ipc and net its own, mnt the daemon\'s', () => {
      assert.deepEqual(f.namespaces, c.namespaces);
      for (const ns of ['pid', 'pid_for_children', 'uts', 'ipc', 'net']) assert.equal(c.namespaces[ns], 'own', ns);
      assert.equal(c.namespaces.mnt, 'daemon');
    });

    test('open fds are the same: /dev/null, the output pipe twice, the channel', () => {
      assert.deepEqual(f.fds, c.fds);
      assert.deepEqual(Object.keys(c.fds).sort(), ['0', '1', '2', '3']);
    });

    test('umask, cwd, environment keys, hostname, securebits and the seccomp policy are the same', () => {
      assert.deepEqual(f.inside, c.inside);
      assert.equal(c.inside.umask, '0o22');
      assert.equal(c.inside.cwd, '/tmp');
      assert.equal(c.inside.hostname, 'sockpit');
      assert.equal(c.inside.pidfd_open, 'EPERM', 'refused by the instance filter (a Zygote refuses it too)');
    });
  });
}
