// The peers the sandbox benchmark compares sockpit against: bubblewrap and crun (plus the spawn baselines),
// each started with child_process.spawnSync, so Node's own fork+exec+wait overhead is part of every sample
// (the `true` baseline shows how much). Set-up and clean-up of what each peer needs live here too.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as native from '../../../native';
import { removeTree } from '../sandbox/rootfs';
import { which } from '../paths';

/** the one command line every runtime runs */
export const PYTHON = '/usr/bin/python3';
export const PYTHON_ARGS = ['-S', '-I', '-c', 'pass'];

const RUN_TIMEOUT_MS = 30_000;

export interface Timed {
  ms: number;
  status: number | null;
  signal: NodeJS.Signals | null;
  /** captured only by probes; measurement runs send everything to /dev/null */
  stderr: string;
}

/** One spawnSync, timed from just before the spawn to just after the exit. */
export function timedSpawn(file: string, args: readonly string[], capture = false): Timed {
  const t0 = performance.now();
  const r = spawnSync(file, args, {
    stdio: capture ? ['ignore', 'ignore', 'pipe'] : 'ignore',
    timeout: RUN_TIMEOUT_MS,
    killSignal: 'SIGKILL',
  });
  const ms = performance.now() - t0;
  if (r.error && (r.error as NodeJS.ErrnoException).code !== 'ETIMEDOUT') throw r.error;
  return { ms, status: r.status, signal: r.signal, stderr: capture && r.stderr ? r.stderr.toString().trim() : '' };
}

function ok(t: Timed): boolean {
  return t.status === 0;
}

function describeFailure(t: Timed): string {
  const how = t.signal ? `killed by ${t.signal}` : `exit ${t.status}`;
  return t.stderr ? `${how}: ${t.stderr.split('\n').slice(-3).join(' | ')}` : how;
}

export { which };

/**
 * Makes sure bwrap and crun are installed: when one is missing, one `apt-get install -y bubblewrap crun`.
 * Returns what it did, for the report's notes.
 */
export function ensurePeerTools(): string[] {
  const missing = [
    ['bwrap', 'bubblewrap'],
    ['crun', 'crun'],
  ].filter(([bin]) => which(bin) === null);
  if (missing.length === 0) return [];
  const packages = missing.map(([, pkg]) => pkg);
  const r = spawnSync('apt-get', ['install', '-y', ...packages], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 300_000 });
  const still = missing.filter(([bin]) => which(bin) === null).map(([bin]) => bin);
  const outcome = still.length === 0 ? 'installed' : `still missing afterwards: ${still.join(', ')} (${r.error?.message ?? r.stderr?.toString().trim().split('\n').pop() ?? `exit ${r.status}`})`;
  return [`ran \`apt-get install -y ${packages.join(' ')}\` (${missing.map(([b]) => b).join(', ')} missing): ${outcome}`];
}

/** A measured runtime: probe() once (decides the variant, or why it is unavailable), then run() per sample. */
export interface PeerRunner {
  readonly key: string;
  label: string;
  available: boolean;
  /** why the peer is unavailable, or how it deviates from the requested set-up */
  notes: string[];
  /** the command line a sample runs */
  command: string[];
  /** one cold start; ms from spawn to exit. Throws when the run failed. */
  probe?(): void | Promise<void>;
  run(): number;
  cleanup(): void | Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// spawn baselines

export class SpawnRunner implements PeerRunner {
  available = true;
  notes: string[] = [];
  command: string[];
  constructor(
    readonly key: string,
    public label: string,
    file: string,
    args: string[],
  ) {
    this.command = [file, ...args];
  }

  run(): number {
    const t = timedSpawn(this.command[0], this.command.slice(1));
    if (!ok(t)) {
      const probe = timedSpawn(this.command[0], this.command.slice(1), true);
      throw new Error(`${this.label}: ${describeFailure(probe)}`);
    }
    return t.ms;
  }

  cleanup(): void {}
}

// ---------------------------------------------------------------------------------------------------------
// bubblewrap

const BWRAP_FS = ['--ro-bind', '/usr', '/usr', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/sbin', '/sbin', '--tmpfs', '/tmp'];
const BWRAP_NS = ['--unshare-pid', '--unshare-uts', '--unshare-ipc'];
const BWRAP_IDS = ['--uid', '65534', '--gid', '65534'];

/**
 * bwrap with the requested flags. A non-setuid bwrap run by root refuses --uid without a user namespace;
 * `userns` false then drops --uid/--gid (the python runs as root inside), `userns` true adds --unshare-user
 * (keeps uid 65534 at the price of a user namespace).
 */
export class BwrapRunner implements PeerRunner {
  available = false;
  notes: string[] = [];
  command: string[] = [];
  label: string;

  constructor(
    readonly key: string,
    private readonly userns: boolean,
  ) {
    this.label = userns ? 'bwrap --unshare-user + python3' : 'bwrap + python3';
  }

  /** `requested` ran as asked, or not; decides this runner's command line. */
  probe(): void {
    const bwrap = which('bwrap');
    if (!bwrap) {
      this.notes.push('bwrap is not installed: unavailable');
      return;
    }
    const tail = ['--die-with-parent', PYTHON, ...PYTHON_ARGS];
    const asked = [bwrap, ...BWRAP_FS, ...BWRAP_NS, ...BWRAP_IDS, ...tail];
    const first = timedSpawn(asked[0], asked.slice(1), true);
    if (ok(first)) {
      if (this.userns) {
        this.notes.push('bwrap accepts --uid without --unshare-user here (setuid bwrap): the userns variant is not needed');
        return;
      }
      this.command = asked;
    } else {
      const cmd = this.userns
        ? [bwrap, ...BWRAP_FS, ...BWRAP_NS, '--unshare-user', ...BWRAP_IDS, ...tail]
        : [bwrap, ...BWRAP_FS, ...BWRAP_NS, ...tail];
      const second = timedSpawn(cmd[0], cmd.slice(1), true);
      if (!ok(second)) {
        this.notes.push(`bwrap failed as asked (${describeFailure(first)}) and ${this.userns ? 'with --unshare-user' : 'without --uid/--gid'} (${describeFailure(second)}): unavailable`);
        return;
      }
      this.command = cmd;
      this.notes.push(
        this.userns
          ? `bwrap refused --uid without a user namespace (${first.stderr || describeFailure(first)}); this row adds --unshare-user and keeps uid/gid 65534`
          : `bwrap refused --uid without a user namespace (${first.stderr || describeFailure(first)}); this row drops --uid/--gid: python3 runs as root inside bwrap`,
      );
    }
    this.available = true;
  }

  run(): number {
    const t = timedSpawn(this.command[0], this.command.slice(1));
    if (!ok(t)) throw new Error(`${this.label}: ${describeFailure(timedSpawn(this.command[0], this.command.slice(1), true))}`);
    return t.ms;
  }

  cleanup(): void {}
}

// ---------------------------------------------------------------------------------------------------------
// crun

interface CgroupLine {
  /** "memory", "cpu,cpuacct", "name=systemd"; "" for the unified hierarchy */
  controllers: string;
  own: string;
}

function parseProcCgroup(text: string): CgroupLine[] {
  const out: CgroupLine[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (m) out.push({ controllers: m[2], own: m[3] });
  }
  return out;
}

interface CgroupMount {
  mountpoint: string;
  /** the hierarchy's directory that is mounted there */
  root: string;
  fstype: 'cgroup' | 'cgroup2';
  /** v1: the super options without rw/ro etc.: ["memory"], ["name=systemd"] */
  controllers: string[];
}

function parseCgroupMounts(mountinfo: string): CgroupMount[] {
  const out: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const parts = line.split(' ');
    const dash = parts.indexOf('-');
    if (dash < 0) continue;
    const fstype = parts[dash + 1];
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    const superOpts = (parts[dash + 3] ?? '').split(',');
    out.push({
      mountpoint: unescape(parts[4]),
      root: unescape(parts[3]),
      fstype,
      controllers: superOpts.filter((o) => !['rw', 'ro', 'relatime', 'noatime', 'nosuid', 'nodev', 'noexec', 'clone_children', 'xattr'].includes(o) && !o.startsWith('release_agent=')),
    });
  }
  return out;
}

function within(root: string, p: string): string | null {
  if (root === '/') return p;
  if (p === root) return '/';
  return p.startsWith(`${root}/`) ? p.slice(root.length) : null;
}

/**
 * Where crun can put a container's cgroups so that they sit under this process's own cgroup in every
 * hierarchy. crun takes ONE cgroupsPath for all hierarchies and resolves it from each hierarchy's root, and
 * crun 1.x refuses a hybrid host whose unified hierarchy has controllers (even with --cgroup-manager=disabled).
 * So on a v1/hybrid host crun runs inside a helper mount namespace where the unified hierarchy is unmounted
 * (crun then sees a legacy v1 host) and each v1 hierarchy whose own cgroup is not its root has that own
 * directory bind-mounted over its mount point: there cgroupsPath "/sockpit-bench-crun-<id>" means
 * "<own>/sockpit-bench-crun-<id>" in every hierarchy. On pure v2 the path is simply <own>/<leaf>.
 */
interface CrunPlacement {
  /** shell commands run in the helper namespace before crun; empty when crun needs no helper */
  helperScript: string[];
  /** prefix for cgroupsPath, as crun will see it */
  prefix: string;
  /** the real directories the containers' cgroups appear under (for the leak check) */
  realParents: string[];
  /** why crun can't be placed under our own cgroup (then --cgroup-manager=disabled) */
  impossible?: string;
  needsUnifiedHidden: boolean;
}

function planCrunCgroups(): CrunPlacement {
  const lines = parseProcCgroup(fs.readFileSync('/proc/self/cgroup', 'utf8'));
  const mounts = parseCgroupMounts(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  const v1 = lines.filter((l) => l.controllers !== '');
  const unifiedLine = lines.find((l) => l.controllers === '');
  const unifiedMount = mounts.find((m) => m.fstype === 'cgroup2');
  if (v1.length === 0) {
    // pure v2
    if (!unifiedLine || !unifiedMount) return { helperScript: [], prefix: '', realParents: [], impossible: 'no cgroup hierarchy is mounted', needsUnifiedHidden: false };
    const rel = within(unifiedMount.root, unifiedLine.own);
    if (rel === null) return { helperScript: [], prefix: '', realParents: [], impossible: `our cgroup ${unifiedLine.own} is outside the mounted hierarchy`, needsUnifiedHidden: false };
    const own = unifiedLine.own.replace(/\/$/, '');
    return { helperScript: [], prefix: own, realParents: [path.join(unifiedMount.mountpoint, rel)], needsUnifiedHidden: false };
  }
  const script: string[] = [];
  const realParents: string[] = [];
  let needsUnifiedHidden = false;
  if (unifiedMount) {
    let controllers = '';
    try {
      controllers = fs.readFileSync(path.join(unifiedMount.mountpoint, 'cgroup.controllers'), 'utf8').trim();
    } catch {
      controllers = '';
    }
    if (controllers !== '') {
      needsUnifiedHidden = true;
      script.push(`umount -l ${shq(unifiedMount.mountpoint)}`);
    }
  }
  for (const line of v1) {
    const wanted = line.controllers.split(',');
    const mount = mounts.find((m) => m.fstype === 'cgroup' && wanted.every((c) => m.controllers.includes(c)));
    if (!mount) return { helperScript: [], prefix: '', realParents: [], impossible: `hierarchy ${line.controllers} is not mounted`, needsUnifiedHidden };
    if (mount.root !== '/') {
      return { helperScript: [], prefix: '', realParents: [], impossible: `hierarchy ${line.controllers} is mounted from ${mount.root}, not its root`, needsUnifiedHidden };
    }
    const ownDir = path.join(mount.mountpoint, line.own);
    realParents.push(ownDir);
    if (line.own !== '/') script.push(`mount --bind ${shq(ownDir)} ${shq(mount.mountpoint)}`);
  }
  return { helperScript: script, prefix: '', realParents, needsUnifiedHidden };
}

/** This process's own cgroup directory in every mounted hierarchy (v1 and unified). */
export function ownCgroupDirs(): string[] {
  const lines = parseProcCgroup(fs.readFileSync('/proc/self/cgroup', 'utf8'));
  const mounts = parseCgroupMounts(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  const dirs: string[] = [];
  for (const line of lines) {
    const wanted = line.controllers === '' ? [] : line.controllers.split(',');
    const mount = mounts.find((m) => (line.controllers === '' ? m.fstype === 'cgroup2' : m.fstype === 'cgroup' && wanted.every((c) => m.controllers.includes(c))));
    const rel = mount ? within(mount.root, line.own) : null;
    if (mount && rel !== null) dirs.push(path.join(mount.mountpoint, rel));
  }
  return dirs;
}

function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * crun with an OCI bundle: root = <dir>/rootfs (read-only; /usr bind-mounted into it read-only once, plus the
 * merged-/usr symlinks), the python command, uid/gid 65534, namespaces pid/ipc/uts/mount only, cgroups under
 * our own cgroup (see planCrunCgroups) or, when that is impossible, --cgroup-manager=disabled.
 */
export class CrunRunner implements PeerRunner {
  readonly key = 'crun';
  label = 'crun + python3';
  available = false;
  notes: string[] = [];
  command: string[] = [];
  /** commands that measure the launcher's own cost (nsenter into the helper namespace), when one is used */
  launcherBaseline: string[] | null = null;
  private crun: string | null = null;
  private readonly bundle: string;
  private readonly rootfs: string;
  private readonly stateRoot: string;
  private helper: ChildProcess | null = null;
  private seq = 0;
  private prefixArgs: string[] = [];
  private managerArgs: string[] = [];
  private cgroupsPrefix: string | null = null;
  private realParents: string[] = [];
  private usrMounted = false;
  cgroups: 'own' | 'disabled' | 'none' = 'none';

  constructor(private readonly dir: string) {
    this.bundle = path.join(dir, 'bundle');
    this.rootfs = path.join(this.bundle, 'rootfs');
    this.stateRoot = path.join(dir, 'state');
  }

  private id(): string {
    return `sockpit-bench-crun-${process.pid}-${++this.seq}`;
  }

  async probe(): Promise<void> {
    this.crun = which('crun');
    if (!this.crun) {
      this.notes.push('crun is not installed: unavailable');
      return;
    }
    fs.mkdirSync(this.rootfs, { recursive: true, mode: 0o755 });
    fs.mkdirSync(this.stateRoot, { recursive: true, mode: 0o700 });
    const spec = spawnSync(this.crun, ['spec'], { cwd: this.bundle, stdio: ['ignore', 'ignore', 'pipe'] });
    if (spec.status !== 0) {
      this.notes.push(`\`crun spec\` failed: ${spec.stderr?.toString().trim()}: unavailable`);
      return;
    }
    fs.mkdirSync(path.join(this.rootfs, 'usr'), { mode: 0o755 });
    native.bindMount('/usr', path.join(this.rootfs, 'usr'), { recursive: true, readonly: true });
    this.usrMounted = true;
    for (const link of ['lib', 'lib64', 'bin', 'sbin']) fs.symlinkSync(`usr/${link}`, path.join(this.rootfs, link));
    fs.mkdirSync(path.join(this.rootfs, 'tmp'), { mode: 0o1777 });

    const plan = planCrunCgroups();
    if (plan.helperScript.length > 0) {
      // before any crun run, and after /usr is mounted into the rootfs (the helper gets a copy of our mounts)
      await this.startHelper(plan.helperScript);
      this.prefixArgs = [which('nsenter') ?? '/usr/bin/nsenter', `--mount=/proc/${this.helper!.pid}/ns/mnt`, '--'];
      this.launcherBaseline = [...this.prefixArgs, '/usr/bin/true'];
      this.notes.push(
        `crun runs through nsenter into a helper mount namespace (${plan.needsUnifiedHidden ? 'the unified cgroup hierarchy has controllers, which crun refuses on a hybrid host, so it is unmounted there; ' : ''}` +
          `own v1 cgroups bind-mounted over their hierarchies' mount points so cgroupsPath lands under them); the nsenter exec is in every crun sample`,
      );
    }

    const attempts: Array<{ cgroups: 'own' | 'disabled'; why?: string }> = [];
    if (plan.impossible === undefined) attempts.push({ cgroups: 'own' });
    attempts.push({ cgroups: 'disabled', why: plan.impossible });
    let lastFailure = '';
    for (const attempt of attempts) {
      this.cgroups = attempt.cgroups;
      this.cgroupsPrefix = attempt.cgroups === 'own' ? plan.prefix : null;
      this.realParents = attempt.cgroups === 'own' ? plan.realParents : [];
      this.managerArgs = attempt.cgroups === 'disabled' ? ['--cgroup-manager=disabled'] : [];
      const id = this.id();
      this.writeConfig(id);
      const cmd = this.commandFor(id);
      const t = timedSpawn(cmd[0], cmd.slice(1), true);
      this.deleteQuietly(id);
      if (ok(t)) {
        this.command = this.commandFor('<id>');
        this.available = true;
        if (attempt.cgroups === 'disabled') {
          this.notes.push(`crun ran WITHOUT cgroups (--cgroup-manager=disabled): ${attempt.why ?? `with cgroups under our own it failed: ${lastFailure}`}`);
        } else {
          this.notes.push(`crun's cgroups: cgroupsPath ${this.cgroupsPrefix}/sockpit-bench-crun-<id>, i.e. under ${this.realParents.length > 3 ? `our own cgroup in each of ${this.realParents.length} hierarchies` : this.realParents.join(', ')}`);
        }
        return;
      }
      lastFailure = describeFailure(t);
    }
    this.notes.push(`crun failed: ${lastFailure}: unavailable`);
  }

  private startHelper(script: string[]): Promise<void> {
    // the helper lives until its stdin closes (also when the bench dies) or it is killed
    const body = `set -e; ${script.join('; ')}; echo ready; read _ || true`;
    const helper = spawn('unshare', ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', body], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.helper = helper;
    return new Promise((resolve, reject) => {
      let err = '';
      const timer = setTimeout(() => reject(new Error(`crun helper namespace: no answer in 5 s (${err.trim()})`)), 5000);
      helper.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      helper.stdout!.once('data', () => {
        clearTimeout(timer);
        resolve();
      });
      helper.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`crun helper namespace exited (${code}): ${err.trim()}`));
      });
      helper.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  private writeConfig(id: string): void {
    const file = path.join(this.bundle, 'config.json');
    const cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      process: { terminal: boolean; user: { uid: number; gid: number }; args: string[]; cwd: string };
      root: { path: string; readonly: boolean };
      linux: { namespaces: Array<{ type: string }>; cgroupsPath?: string };
    };
    cfg.process.terminal = false;
    cfg.process.user = { uid: 65534, gid: 65534 };
    cfg.process.args = [PYTHON, ...PYTHON_ARGS];
    cfg.process.cwd = '/';
    cfg.root = { path: this.rootfs, readonly: true };
    cfg.linux.namespaces = ['pid', 'ipc', 'uts', 'mount'].map((type) => ({ type }));
    if (this.cgroupsPrefix !== null) cfg.linux.cgroupsPath = `${this.cgroupsPrefix}/${id}`;
    else delete cfg.linux.cgroupsPath;
    fs.writeFileSync(file, JSON.stringify(cfg, null, 2));
  }

  private commandFor(id: string): string[] {
    return [...this.prefixArgs, this.crun!, ...this.managerArgs, '--root', this.stateRoot, 'run', '--bundle', this.bundle, id];
  }

  run(): number {
    const id = this.id();
    // cgroupsPath names the container: rewrite it per run (outside the timed part)
    if (this.cgroupsPrefix !== null) this.writeConfig(id);
    const cmd = this.commandFor(id);
    const t = timedSpawn(cmd[0], cmd.slice(1));
    if (!ok(t)) {
      this.deleteQuietly(id);
      throw new Error(`crun run ${id}: ${describeFailure(t)}`);
    }
    return t.ms;
  }

  private deleteQuietly(id: string): void {
    if (!this.crun) return;
    const cmd = [...this.prefixArgs, this.crun, ...this.managerArgs, '--root', this.stateRoot, 'delete', '-f', id];
    spawnSync(cmd[0], cmd.slice(1), { stdio: 'ignore', timeout: 10_000 });
  }

  /** leftovers: containers crun still lists, and cgroups named after our containers under our own cgroups */
  leftovers(): string[] {
    const left: string[] = [];
    if (this.crun && fs.existsSync(this.stateRoot)) {
      for (const name of fs.readdirSync(this.stateRoot)) if (name.startsWith('sockpit-bench-crun-')) left.push(`crun container ${name}`);
    }
    for (const parent of this.realParents) {
      try {
        for (const name of fs.readdirSync(parent)) if (name.startsWith(`sockpit-bench-crun-${process.pid}-`)) left.push(path.join(parent, name));
      } catch {
        // hierarchy gone
      }
    }
    return left;
  }

  async cleanup(): Promise<void> {
    let first: unknown;
    const attempt = (fn: () => void) => {
      try {
        fn();
      } catch (err) {
        first ??= err;
      }
    };
    attempt(() => {
      if (this.crun && fs.existsSync(this.stateRoot)) {
        for (const name of fs.readdirSync(this.stateRoot)) if (name.startsWith('sockpit-bench-crun-')) this.deleteQuietly(name);
      }
    });
    attempt(() => {
      // crun removes a container's cgroups when it is deleted; anything still there is empty or crun's to kill
      for (const parent of this.realParents) {
        let names: string[] = [];
        try {
          names = fs.readdirSync(parent).filter((n) => n.startsWith(`sockpit-bench-crun-${process.pid}-`));
        } catch {
          continue;
        }
        for (const name of names) fs.rmdirSync(path.join(parent, name));
      }
    });
    const helper = this.helper;
    this.helper = null;
    if (helper && helper.exitCode === null && helper.signalCode === null) {
      const gone = new Promise<void>((resolve) => helper.once('exit', () => resolve()));
      helper.stdin?.end();
      helper.kill('SIGKILL'); // by its pid: the unshare(1) → sh we started
      await gone; // its copy of our mounts goes with it
    }
    attempt(() => {
      if (this.usrMounted) removeTree(path.join(this.rootfs, 'usr'));
      this.usrMounted = false;
    });
    if (first !== undefined) throw first;
  }
}
