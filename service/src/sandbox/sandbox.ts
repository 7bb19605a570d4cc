// A lean container: a cgroup from the pool + a root stitched from bind mounts + a network namespace from the
// pool (network/netns-pool.ts; with an egress path unless the function says `network: none`) + one instance host started into it (cgroup join, the network namespace, new
// PID/UTS/IPC namespaces, chroot, unprivileged uid, no_new_privs). Sandboxes are
// disposables: whatever create() acquired, destroy() releases, on every path.

import fs from 'node:fs';
import path from 'node:path';
import * as native from '../../../native';
import { FunctionLimits } from '../config';
import { SockpitError, wrap } from '../errors';
import type { Cgroup, CgroupDriver, CgroupPool, Limits } from '../cgroups';
import { findEgressTools, type EgressOptions } from '../network/egress';
import { HostAddressWatch } from '../network/host-addresses';
import { NetnsPool, NetnsPoolStats } from '../network/netns-pool';
import { decodeErrorBody, Reply } from '../protocol';
import { Instance } from './instance';
import { killPending, ProcessHandle } from './process';
import { buildFilter, filtersSupported } from './seccomp';
import { INSTANCE_ENTRY } from './entry';
import { mountCode, mountSandboxRoot, resizeScratch, SandboxDirs, unmountSandboxRoot } from './rootfs';
import { DEFAULT_SCRATCH, sameScratchSize, scratchMountData, scratchSize, ScratchPolicy, ScratchSize } from './scratch';

export interface SandboxSpec {
  /** the function's code snapshot, mounted at /handler; null for a Zygote */
  codeDir: string | null;
  /** sys.path entries for the function's packages (/packages/name==version) */
  paths: string[];
  environment: Record<string, string>;
  limits: FunctionLimits;
  /** none: loopback only (ol.yaml `network: none`); egress (default): outbound connections past the deny list */
  network?: 'egress' | 'none';
}

export interface SandboxFactoryOptions {
  baseDir: string;
  sandboxesDir: string;
  python: string;
  uid: number;
  gid: number;
  /** largest result a function may return (default 6 MB) */
  maxResultBytes?: number;
  /** the unprivileged host ids root inside a Zygote's user namespace maps to */
  zygoteUid?: number;
  zygoteGid?: number;
  /**
   * isolated: every sandbox in a network namespace of its own, with an egress path when `egress` is set (else
   * loopback only); host: the host's (benchmarks)
   */
  network?: { mode: 'isolated' | 'host'; ready: number; max: number; egress?: { allow: string[] } | null };
  /** how big each sandbox's own /tmp + /host tmpfs is, from its memory limit */
  scratch?: ScratchPolicy;
  /** the highest Landlock ABI sandboxes use (cold and Zygote-forked); default the kernel's (kernel/protections.ts) */
  landlockAbi?: number;
}

/**
 * Where a sandbox's network namespace comes from: `cold`, the pool of ours (joined by the daemon's spawn);
 * `zygote`, the pool owned by the Zygotes' user namespace (joined by the Zygote's child); `own`, a new one the
 * process makes as it starts (the first Zygote, which creates the Zygotes' user namespace itself).
 */
export type NetnsSource = 'cold' | 'zygote' | 'own';

/** A sandbox's network namespace: an fd that holds it, and the pool it goes back to. */
interface HeldNetns {
  fd: number;
  pool: NetnsPool;
}

/** Phase durations in milliseconds, in the order they happened. */
export type Phases = Record<string, number>;

/** no site module (no host site-packages), isolated mode (no PYTHON* variables, no user site), no .pyc writes */
const PYTHON_FLAGS = ['-S', '-I', '-B'];
const KILL_WATCH_MS = 1000;
/** what every function's environment starts from (ol.yaml adds to it) */
export const BASE_ENV: Readonly<Record<string, string>> = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: '/tmp',
  LANG: 'C.UTF-8',
  PYTHONDONTWRITEBYTECODE: '1',
};

/** The environment of an instance of a function. */
export function instanceEnvironment(spec: SandboxSpec): Record<string, string> {
  return { ...BASE_ENV, ...spec.environment, SOCKPIT_PATHS: spec.paths.join(':') };
}

/** A runtime process just started: the process, the daemon's end of its channel, its output pipe. */
export interface RuntimeProcess {
  process: ProcessHandle;
  channelFd: number;
  outputFd: number;
}

export class SandboxFactory {
  private seq = 0;
  private readonly devNull: number;
  /** seccomp filters, built once (none on an architecture they are not written for) */
  private readonly filters = filtersSupported()
    ? { instance: buildFilter('instance'), zygote: buildFilter('zygote'), zygoteServing: buildFilter('zygote-serving') }
    : null;
  /** the uid and gid function code runs as */
  get uid(): number {
    return this.opts.uid;
  }
  get gid(): number {
    return this.opts.gid;
  }
  /** open cgroup.procs fds per pool cgroup: opened once, passed to every process that joins it */
  private readonly joinFds = new Map<Cgroup, number[]>();
  readonly live = new Set<Sandbox>();
  /** network namespaces for cold sandboxes, and for the Zygotes' world (made once their user namespace exists) */
  private readonly coldNetns: NetnsPool | null;
  private zygoteNetns: NetnsPool | null = null;
  /** stopped Zygote pools that may still have namespaces in use or helpers exiting (close() waits for them) */
  private readonly oldPools = new Set<NetnsPool>();
  /** what both pools' egress paths share: the allow list and the watch on the host's addresses */
  private readonly egress: EgressOptions | null;

  /**
   * The cgroup v1 freezer holds a SIGKILL sent to a frozen process (by a user, the OOM killer, a test) until the
   * thaw, and nothing tells the daemon: such a Zygote or idle instance would live on, frozen, with its spares. So
   * the frozen sandboxes are checked every second, and one whose member waits on a SIGKILL is thawed to die.
   */
  private readonly killWatch = setInterval(() => this.thawKilled(), KILL_WATCH_MS).unref();

  constructor(
    readonly pool: CgroupPool,
    readonly driver: CgroupDriver,
    private readonly opts: SandboxFactoryOptions,
  ) {
    fs.mkdirSync(opts.sandboxesDir, { recursive: true, mode: 0o700 });
    const net = opts.network;
    this.egress = net?.mode === 'isolated' && net.egress ? { allow: net.egress.allow, ...findEgressTools(), hosts: new HostAddressWatch() } : null;
    try {
      this.coldNetns = net?.mode === 'isolated' ? new NetnsPool({ name: 'cold', ready: net.ready, max: net.max, reuse: true, egress: this.egress }) : null;
    } catch (err) {
      this.egress?.hosts.close();
      throw err;
    }
    this.devNull = fs.openSync('/dev/null', 'r+');
  }

  private thawKilled(): void {
    for (const sandbox of this.live) {
      if (!sandbox.frozen || !sandbox.members().some(killPending)) continue;
      try {
        sandbox.thaw();
      } catch (err) {
        console.error(`sockpitd: sandbox ${sandbox.id}: a killed process can't be thawed: ${(err as Error).message}`);
      }
    }
  }

  /** whether sandboxes get network namespaces of their own */
  get isolated(): boolean {
    return this.coldNetns !== null;
  }

  /**
   * The Zygotes' user namespace (an fd; the factory takes it) once their first process made it, or null when
   * it is gone: from then on sandboxes of the Zygotes' world get namespaces owned by it.
   */
  setZygoteUserns(usernsFd: number | null): void {
    for (const old of this.oldPools) if (old.stats().helpers + old.stats().inUse === 0) this.oldPools.delete(old);
    if (this.zygoteNetns) {
      this.zygoteNetns.stop(); // its namespaces in use are closed, their helpers killed, as they come back
      this.oldPools.add(this.zygoteNetns);
    }
    this.zygoteNetns = null;
    if (usernsFd === null) return;
    if (!this.opts.network || this.coldNetns === null) {
      fs.closeSync(usernsFd);
      return;
    }
    const { ready, max } = this.opts.network;
    this.zygoteNetns = new NetnsPool({ name: 'Zygote', ready, max, reuse: false, owner: usernsFd, egress: this.egress }); // closes it on failure too
  }

  netnsStats(): { cold: NetnsPoolStats | null; zygote: NetnsPoolStats | null } {
    return { cold: this.coldNetns?.stats() ?? null, zygote: this.zygoteNetns?.stats() ?? null };
  }

  /** Everything before Python starts: a network namespace (see NetnsSource), a cgroup from the pool and the mounts. */
  async prepare(spec: SandboxSpec, netnsFrom: NetnsSource = 'cold'): Promise<Sandbox> {
    const id = `${process.pid.toString(36)}-${(++this.seq).toString(36)}`;
    const netns = await this.takeNetns(netnsFrom, spec.network ?? 'egress');
    let cgroup: Cgroup | undefined;
    let dirs: SandboxDirs;
    const scratch = this.scratchSizeOf(spec.limits);
    try {
      cgroup = this.pool.acquire(poolLimits(spec.limits));
      dirs = mountSandboxRoot(this.opts.baseDir, path.join(this.opts.sandboxesDir, id), spec.codeDir, this.opts.uid, this.opts.gid, scratchMountData(scratch));
    } catch (err) {
      if (cgroup) this.pool.release(cgroup).catch((e) => console.error(`sockpitd: sandbox ${id}: ${(e as Error).message}`));
      if (netns) netns.pool.release(netns.fd);
      throw err;
    }
    const sandbox = new Sandbox(this, id, cgroup, dirs, spec, scratch, netns, netnsFrom === 'own' && this.isolated);
    this.live.add(sandbox);
    return sandbox;
  }

  private async takeNetns(from: NetnsSource, network: 'egress' | 'none'): Promise<HeldNetns | null> {
    if (from === 'own' || this.coldNetns === null) return null;
    const pool = from === 'cold' ? this.coldNetns : this.zygoteNetns;
    if (pool === null) throw new SockpitError('unavailable', "the Zygotes' network namespaces are not ready (no Zygote user namespace)");
    return { fd: await pool.acquire(network === 'none' ? 'bare' : 'egress'), pool };
  }

  /** pids of the egress helpers (slirp4netns) the pools run */
  egressHelperPids(): number[] {
    return [...(this.coldNetns?.helperPids() ?? []), ...(this.zygoteNetns?.helperPids() ?? [])];
  }

  scratchSizeOf(limits: FunctionLimits): ScratchSize {
    return scratchSize(limits, this.opts.scratch ?? DEFAULT_SCRATCH);
  }

  /** Starts the instance host into a prepared sandbox: cgroup join, new namespaces, chroot, uid, exec. */
  start(sandbox: Sandbox): Instance {
    const env = instanceEnvironment(sandbox.spec);
    const started = this.spawnRuntime(sandbox, 'instance.py', {
      uid: this.opts.uid,
      gid: this.opts.gid,
      pidNamespace: true,
      env,
      seccomp: this.filters?.instance,
      // the scope zygote.py gives the instances it forks: the same on the cold path
      landlock: true,
      landlockAbi: this.opts.landlockAbi,
      // the same bounding set a forked instance gets (zygote.py child()): an empty one
      clearBoundingSet: true,
    });
    return this.instance(started.process, started.channelFd, started.outputFd);
  }

  /** An instance object over a started process (cold, or forked by a Zygote). Takes ownership of the fds. */
  instance(process: ProcessHandle, channelFd: number, outputFd: number): Instance {
    return new Instance(process, channelFd, outputFd, this.opts.maxResultBytes ?? 6 * 2 ** 20);
  }

  /**
   * Starts the first Zygote (service/runtime/zygote.py) into a prepared sandbox: PID 1 of a new PID namespace
   * owned by a new user namespace, where root is an unprivileged host uid: enough to chroot, to set the sandbox
   * uid for what it forks (the only other uid mapped) and to move between PID namespaces below its own, nothing
   * on the host. Every other Zygote is forked from it or from its descendants, so all share both namespaces.
   */
  startZygote(sandbox: Sandbox): RuntimeProcess {
    const env: Record<string, string> = { ...BASE_ENV };
    // the filter a Zygote installs in every instance it forks (it can't build one itself)
    if (this.filters) env.SOCKPIT_INSTANCE_SECCOMP = this.filters.instance.toString('base64');
    // the filter it stacks on itself once it holds its PID namespace, before any package code runs
    if (this.filters) env.SOCKPIT_ZYGOTE_SECCOMP = this.filters.zygoteServing.toString('base64');
    // the same Landlock ABI cold instances get, when the daemon uses less than the kernel's
    if (this.opts.landlockAbi !== undefined) env.SOCKPIT_LANDLOCK_MAX_ABI = String(this.opts.landlockAbi);
    const { uid, gid, zygoteUid = 400_000, zygoteGid = 400_000 } = this.opts;
    const userns = { uidMap: `0 ${zygoteUid} 1\n${uid} ${uid} 1\n`, gidMap: `0 ${zygoteGid} 1\n${gid} ${gid} 1\n` };
    // fd 4: a handle on the Zygotes' PID namespace, which every Zygote returns to after forking an instance into
    // a new one (zygote.py PID_NS_FD); opened by the child itself, so no pidfd is needed for it on any kernel
    return this.spawnRuntime(sandbox, 'zygote.py', { uid: 0, gid: 0, pidNamespace: true, ownPidNamespaceFd: true, env, userns, seccomp: this.filters?.zygote });
  }

  private spawnRuntime(
    sandbox: Sandbox,
    script: string,
    how: {
      uid: number;
      gid: number;
      pidNamespace: boolean;
      ownPidNamespaceFd?: boolean;
      env: Record<string, string>;
      userns?: { uidMap: string; gidMap: string };
      seccomp?: Buffer;
      landlock?: boolean;
      landlockAbi?: number;
      clearBoundingSet?: boolean;
    },
  ): RuntimeProcess {
    const [channelParent, channelChild] = native.socketpair();
    const [outputRead, outputWrite] = native.pipe();
    try {
      const env = Object.entries(how.env).map(([k, v]) => `${k}=${v}`);
      const { pid, pidfd } = native.spawn({
        file: this.opts.python,
        argv: [this.opts.python, ...PYTHON_FLAGS, `/sockpit/${script}`],
        env,
        root: sandbox.dirs.root,
        cwd: '/tmp',
        uid: how.uid,
        gid: how.gid,
        cgroupProcsFds: this.joinFdsOf(sandbox.cgroup),
        fds: [this.devNull, outputWrite, outputWrite, channelChild],
        namespaces: [...(how.pidNamespace ? ['pid' as const] : []), 'uts', 'ipc', ...(sandbox.ownNetns ? ['net' as const] : [])],
        ownPidNamespaceFd: how.ownPidNamespaceFd,
        netns: sandbox.netns?.fd,
        hostname: 'sockpit',
        // the first Zygote gets them too: it records them for the instances it and its children fork (zygote.py)
        umask: INSTANCE_ENTRY.umask,
        rlimits: INSTANCE_ENTRY.rlimits,
        clearBoundingSet: how.clearBoundingSet,
        dieWithParent: true,
        userns: how.userns,
        seccomp: how.seccomp,
        landlock: how.landlock,
        landlockAbi: how.landlockAbi,
      });
      return { process: new ProcessHandle(pid, pidfd), channelFd: channelParent, outputFd: outputRead };
    } catch (err) {
      fs.closeSync(channelParent);
      fs.closeSync(outputRead);
      throw wrap(err, `Can't start ${this.opts.python} in sandbox ${sandbox.id}`, { op: 'sandbox.start' });
    } finally {
      fs.closeSync(channelChild);
      fs.closeSync(outputWrite);
    }
  }

  /** Open join files of a pool cgroup (v1 `tasks`, v2 `cgroup.procs`), opened once and kept. */
  joinFdsOf(cgroup: Cgroup): number[] {
    let fds = this.joinFds.get(cgroup);
    if (!fds) {
      fds = this.driver.joinFiles(cgroup).map((file) => fs.openSync(file, fs.constants.O_WRONLY));
      this.joinFds.set(cgroup, fds);
    }
    return fds;
  }

  /** The pool may replace a cgroup that failed to reset: forget fds of cgroups it no longer has. */
  forgetCgroup(cgroup: Cgroup): void {
    const fds = this.joinFds.get(cgroup);
    if (fds) for (const fd of fds) fs.closeSync(fd);
    this.joinFds.delete(cgroup);
  }

  async destroyAll(): Promise<void> {
    await Promise.allSettled([...this.live].map((s) => s.destroy()));
  }

  /** Closes what it holds; resolves once the pools' egress helpers have exited. */
  async close(): Promise<void> {
    clearInterval(this.killWatch);
    const pools = [this.coldNetns, this.zygoteNetns, ...this.oldPools];
    this.coldNetns?.stop();
    this.setZygoteUserns(null);
    this.egress?.hosts.close();
    for (const cgroup of [...this.joinFds.keys()]) this.forgetCgroup(cgroup);
    fs.closeSync(this.devNull);
    await Promise.all(pools.map((p) => p?.helpersExited()));
  }
}

export class Sandbox {
  instance: Instance | null = null;
  /** the reply to an event sent ahead (sendAhead), which the next call() waits for instead of sending */
  private ahead: Promise<Reply> | null = null;
  private destroying: Promise<void> | null = null;
  private oomBaseline: number;
  frozen = false;
  private freezeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly factory: SandboxFactory,
    readonly id: string,
    readonly cgroup: Cgroup,
    readonly dirs: SandboxDirs,
    private assigned: SandboxSpec,
    private scratch: ScratchSize,
    /** its network namespace from a pool (null: the host's, or one of its own: ownNetns) */
    readonly netns: HeldNetns | null = null,
    /** its first process makes a network namespace of its own as it starts */
    readonly ownNetns = false,
  ) {
    this.oomBaseline = factory.driver.oomKills(cgroup);
  }

  get spec(): SandboxSpec {
    return this.assigned;
  }

  /**
   * Gives a sandbox prepared with no function (a spare's, zygotes/spare.ts) to one: its code read-only at
   * /handler and its limits. Its process has not looked at /handler yet: this runs before it gets its request.
   */
  assign(spec: SandboxSpec): void {
    if (this.assigned.codeDir !== null) throw new SockpitError('internal', `sandbox ${this.id} already runs a function`);
    if ((spec.network ?? 'egress') !== (this.assigned.network ?? 'egress')) {
      throw new SockpitError('internal', `sandbox ${this.id} has another network (${this.assigned.network ?? 'egress'}) than its function's`);
    }
    try {
      if (spec.codeDir !== null) mountCode(spec.codeDir, this.dirs);
      this.factory.pool.setLimits(this.cgroup, poolLimits(spec.limits));
      const scratch = this.factory.scratchSizeOf(spec.limits);
      if (!sameScratchSize(scratch, this.scratch)) {
        resizeScratch(this.dirs, scratchMountData(scratch));
        this.scratch = scratch;
      }
    } catch (err) {
      throw wrap(err, `Can't give sandbox ${this.id} its function`, { op: 'sandbox.assign' });
    }
    this.assigned = spec;
  }

  start(): Instance {
    this.instance = this.factory.start(this);
    return this.instance;
  }

  /** Takes an instance started some other way (forked from a Zygote) as this sandbox's own. */
  adopt(instance: Instance): void {
    this.instance = instance;
  }

  /** its instance runs, and its network is whole (a namespace whose egress helper died is not used again) */
  get alive(): boolean {
    return this.destroying === null && (this.instance?.alive ?? false) && (this.netns?.pool.intact(this.netns.fd) ?? true);
  }

  /**
   * Sends the next call's event now, before the instance is ready (it was just forked): the event waits in
   * the channel, and the instance finds it there the moment it is, one round trip sooner. The next call()
   * is then the reply to this event (whatever event it is given).
   */
  sendAhead(event: Buffer): void {
    if (!this.instance) throw new SockpitError('internal', `sandbox ${this.id} has no instance`);
    this.ahead = this.instance.call(event);
    this.ahead.catch(() => {}); // awaited by call(); never an unhandled rejection if that never comes
  }

  /**
   * One call with the sandbox's timeout. A timeout, an OOM kill or a crash leaves the sandbox dead: the caller
   * destroys it. A function that raised leaves it healthy.
   */
  async call(event: Buffer): Promise<Reply> {
    const instance = this.instance;
    if (!instance) throw new SockpitError('internal', `sandbox ${this.id} has no instance`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        instance.kill();
        reject(new SockpitError('timeout', `the call ran past its ${this.spec.limits.timeoutMs} ms timeout; its instance was killed`));
      }, this.spec.limits.timeoutMs);
    });
    try {
      const sent = this.ahead ?? instance.call(event);
      this.ahead = null;
      const reply = await Promise.race([sent, timeout]);
      if (reply.status === 'error' && isMemoryError(reply.body)) {
        throw new SockpitError('out_of_memory', `the function ran out of memory (limit ${this.spec.limits.memoryMb} MB)`, {
          detail: decodeErrorBody(reply.body),
        });
      }
      return reply;
    } catch (err) {
      if (err instanceof SockpitError && err.code === 'instance_died') {
        await instance.exited();
        if (this.factory.driver.oomKills(this.cgroup) > this.oomBaseline) {
          throw new SockpitError('out_of_memory', `the sandbox hit its ${this.spec.limits.memoryMb} MB memory limit and its instance was killed`, {
            detail: err.detail,
          });
        }
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Freezes the idle sandbox after a short grace period: a call that follows right away (the common case
   * under load) then skips a freeze and a thaw, two cgroup writes on its hot path.
   */
  freezeWhenIdle(graceMs: number): void {
    clearTimeout(this.freezeTimer);
    this.freezeTimer = setTimeout(() => {
      this.freezeTimer = undefined;
      if (this.destroying !== null) return;
      try {
        this.factory.driver.freeze(this.cgroup);
        this.frozen = true;
      } catch {
        this.instance?.kill(); // a sandbox that can't be frozen can't be trusted to sit idle
      }
    }, graceMs);
    this.freezeTimer.unref();
  }

  /** Makes the sandbox runnable again; false when it was not frozen yet (nothing to do). */
  thaw(): boolean {
    if (this.freezeTimer !== undefined) {
      clearTimeout(this.freezeTimer);
      this.freezeTimer = undefined;
      return false;
    }
    if (!this.frozen) return false;
    this.factory.driver.thaw(this.cgroup);
    this.frozen = false;
    return true;
  }

  /** processes in the sandbox; more than one after a call means the function left children running */
  processCount(): number {
    return this.factory.driver.members(this.cgroup).length;
  }

  /** the pids in the sandbox's cgroup; none once it is gone */
  members(): number[] {
    try {
      return this.factory.driver.members(this.cgroup);
    } catch {
      return [];
    }
  }

  memoryBytes(): number {
    return this.factory.driver.memoryBytes(this.cgroup);
  }

  /**
   * Kills everything in the sandbox, returns the cgroup to the pool, unmounts, removes the scratch. Never rejects:
   * a teardown has nobody to hand a failure to (a cgroup or mount that vanished under the daemon), so each failed
   * step is logged once, here, and the steps after it still run.
   */
  destroy(): Promise<void> {
    this.destroying ??= (async () => {
      clearTimeout(this.freezeTimer);
      const step = async (run: () => unknown): Promise<boolean> => {
        try {
          await run();
          return true;
        } catch (err) {
          console.error(`sockpitd: sandbox ${this.id}: ${(err as Error).message}`);
          return false;
        }
      };
      await step(() => this.instance?.kill());
      // kills every member and waits until the cgroup is empty (thawed): only then is the exit sure to come
      const emptied = await step(() => this.factory.pool.release(this.cgroup));
      if (emptied) await step(() => this.instance?.exited());
      // the network namespace is reused only when every process that was in it is known to be gone
      if (this.netns) await step(() => this.netns!.pool.release(this.netns!.fd, { reusable: emptied }));
      await step(() => unmountSandboxRoot(this.dirs));
      this.factory.live.delete(this);
    })();
    return this.destroying;
  }
}

function poolLimits(limits: FunctionLimits): Limits {
  return { memoryBytes: limits.memoryMb * 1024 * 1024, pids: limits.pids, cpus: limits.cpus };
}

function isMemoryError(body: Buffer): boolean {
  try {
    return decodeErrorBody(body).type === 'MemoryError';
  } catch {
    return false;
  }
}
