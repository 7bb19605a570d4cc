// sockpitd: owns every sandbox, cgroup, mount and instance. Start-up order matters: refuse to run beside a live
// daemon on the same socket or state, reclaim what a crashed run left, assemble the base, open the pool, then
// listen. Stop undoes it all.

import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Config } from '../config';
import { SockpitError } from '../errors';
import { CgroupDriver, CgroupMode, CgroupPool, createDriver, layoutForSandboxes, readLayout } from '../cgroups';
import { FunctionStore } from '../functions/store';
import { deployFunction, INCOMING, Upload } from '../functions/deploy';
import { Caller, checkMayManage } from '../functions/ownership';
import { validateName } from '../functions/spec';
import { SandboxFactory } from '../sandbox/sandbox';
import { assembleBase, removeBase, removeTree } from '../sandbox/rootfs';
import { Provisioner } from '../provision/provisioner';
import { PackageCache, ResolvedPackage } from '../packages';
import { ZygoteManager } from '../zygotes/manager';
import { EventBus } from '../telemetry/events';
import { Stats } from '../telemetry/stats';
import { createMetrics, Metrics } from '../telemetry/metrics';
import * as native from '../../../native';
import type { StatusBody } from '../../../api';
import { ApiBackend, buildApi } from '../api/server';
import { BenchmarkJobs } from '../bench/jobs';
import { PeerAudit } from '../api/peers';
import { connectionCeiling, openFileLimit } from '../api/admission';

import { RUNTIME_DIR, VERSION } from '../paths';
import { inPrivateMountNamespace, rootMountIsPrivate } from './mountns';
import { DaemonLock } from './lock';
import { probeKernel } from '../kernel/probe';
import { decideProtections, KernelPolicy, KernelProbe } from '../kernel/protections';

export { VERSION };

export interface DaemonPaths {
  baseDir: string;
  sandboxesDir: string;
  functionsDir: string;
  database: string;
  packagesDir: string;
}

export function pathsOf(cfg: Config): DaemonPaths {
  return {
    baseDir: path.join(cfg.stateDir, 'base'),
    sandboxesDir: path.join(cfg.stateDir, 'sandboxes'),
    functionsDir: path.join(cfg.stateDir, 'functions'),
    database: path.join(cfg.stateDir, 'sockpit.db'),
    packagesDir: path.join(cfg.stateDir, 'packages'),
  };
}

/** The cgroup subtree's name: the same state directory gives the same tag, so a restart finds its leftovers. */
export function cgroupTag(stateDir: string): string {
  return `sockpit-${crypto.createHash('sha256').update(path.resolve(stateDir)).digest('hex').slice(0, 10)}`;
}

export class Daemon implements ApiBackend {
  private readonly startedAt = Date.now();
  private api: FastifyInstance | null = null;
  private stopping: Promise<void> | null = null;
  /** held from before the first change to the state directory until the last step of stop() */
  private lock: DaemonLock | null = null;
  private readonly stats = new Stats();
  private readonly metrics: Metrics;
  /** POST /v1/benchmarks: one suite at a time as a child process; finished jobs kept in the state dir */
  private readonly benchmarks: BenchmarkJobs;
  /** who connects (SO_PEERCRED): audit lines on stderr and per-uid counters in /v1/stats */
  private readonly audit = new PeerAudit({ identify: native.peerCredentials });

  private constructor(
    readonly config: Config,
    readonly paths: DaemonPaths,
    private readonly hostCgroupMode: CgroupMode,
    private readonly driver: CgroupDriver,
    private readonly pool: CgroupPool,
    private readonly store: FunctionStore,
    private readonly factory: SandboxFactory,
    readonly provisioner: Provisioner,
    private readonly cache: PackageCache,
    readonly zygotes: ZygoteManager | null,
    readonly bus: EventBus,
    /** what the kernel offers and what the daemon made of it, decided once at start-up */
    private readonly kernel: { probe: KernelProbe; policy: KernelPolicy },
  ) {
    this.stats.attach(bus);
    this.benchmarks = new BenchmarkJobs({ bus, historyFile: path.join(config.stateDir, 'benchmarks.json') });
    this.metrics = createMetrics(bus, () => ({
      pool: pool.stats(),
      instances: provisioner.stats(),
      zygotes: zygotes?.stats() ?? { count: 0, memoryBytes: 0, processes: 0 },
      cache: cache.stats(),
    }));
  }

  static async start(config: Config): Promise<Daemon> {
    if (process.getuid?.() !== 0) throw new SockpitError('unavailable', 'sockpitd must run as root (it makes mounts and cgroups)');
    if (!inPrivateMountNamespace() || !rootMountIsPrivate(fs.readFileSync('/proc/self/mountinfo', 'utf8'))) {
      throw new SockpitError('unavailable', 'sockpitd must run in its own private mount namespace: start it with `sockpit daemon`');
    }
    // bind mounts are resolved by the daemon, so sandboxes need no access to the state directory itself
    fs.mkdirSync(config.stateDir, { recursive: true, mode: 0o700 });
    fs.chmodSync(config.stateDir, 0o700);
    fs.mkdirSync(path.dirname(config.socket), { recursive: true, mode: 0o755 });
    const lock = DaemonLock.acquire(config.stateDir, config.socket);
    try {
      await refuseIfServing(config.socket);
      const daemon = await Daemon.assemble(config);
      daemon.lock = lock;
      return daemon;
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  private static async assemble(config: Config): Promise<Daemon> {
    const paths = pathsOf(config);

    // Whatever a crashed run left: its mounts died with its mount namespace, except under a live process that
    // still holds it; those processes are in our cgroups and the pool's start kills them.
    const hostLayout = readLayout();
    const driver = createDriver(layoutForSandboxes(hostLayout), cgroupTag(config.stateDir));
    // before any cgroup or mount is made: a kernel that lacks a protection nothing replaces stops us here
    refuseOnKernel(probeKernel(driver.info()), config);
    let factory: SandboxFactory | undefined;
    const pool = new CgroupPool(driver, {
      initial: config.pool.initial,
      max: config.pool.max,
      onDiscard: (cg) => factory?.forgetCgroup(cg),
    });
    await pool.start();
    // probed again now that our cgroups exist: the driver reads cgroup.freeze and cgroup.kill in them (those two
    // only choose between mechanisms, so they never refuse: refuseOnKernel decided alone)
    const kernel = checkKernel(probeKernel(driver.info()), config);
    removeTree(paths.sandboxesDir);
    // Sandbox roots live in memory: a cold start makes and removes a few directories, which a busy disk turns
    // into milliseconds (ext4 here: ~0.5 ms each). Each sandbox's scratch (/host, /tmp) is a tmpfs of its own
    // mounted below (rootfs.ts, scratch.ts), charged to its own memory limit and bounded by its own size; this
    // one holds only directories and mount points.
    fs.mkdirSync(paths.sandboxesDir, { mode: 0o700 });
    native.mountTmpfs(paths.sandboxesDir, 'mode=0700,size=8m');

    const bus = new EventBus();
    const cache = new PackageCache({
      root: paths.packagesDir,
      pipPython: config.packages.pipPython,
      indexUrl: config.packages.indexUrl,
      findLinks: config.packages.findLinks,
      wheelsOnly: config.packages.wheelsOnly,
      limits: {
        maxPackageBytes: config.packages.maxPackageMb * 2 ** 20,
        maxPackageFiles: config.packages.maxPackageFiles,
        maxCacheBytes: config.packages.maxCacheMb * 2 ** 20,
      },
      // what deployed functions use is never evicted (deploys under way hold what they resolved: deploy())
      inUse: () => new Set(store.list().flatMap((fn) => fn.packages.map((p) => p.key))),
      onInstall: (e) => bus.publish({ type: 'install', package: e.key, ok: e.ok, ms: e.ms, error: e.error }),
    });
    cache.start();
    const packageStore = cache.storeDir;
    assembleBase({
      baseDir: paths.baseDir,
      rootfs: config.base,
      runtimeDir: RUNTIME_DIR,
      packagesDir: packageStore,
      python: config.python,
      uid: config.sandboxUid,
      gid: config.sandboxGid,
    });
    fs.mkdirSync(paths.functionsDir, { recursive: true, mode: 0o700 });
    const store = new FunctionStore(paths.database);
    removeUnusedCode(paths.functionsDir, store);
    factory = new SandboxFactory(pool, driver, {
      baseDir: paths.baseDir,
      sandboxesDir: paths.sandboxesDir,
      python: config.python,
      uid: config.sandboxUid,
      gid: config.sandboxGid,
      maxResultBytes: config.maxResultBytes,
      zygoteUid: config.zygotes.hostUid,
      zygoteGid: config.zygotes.hostGid,
      network: {
        mode: config.network.mode,
        ready: config.network.ready,
        max: config.pool.max,
        egress: config.network.egress ? { allow: config.network.allow } : null,
      },
      scratch: config.scratch,
      landlockAbi: kernel.policy.landlockAbi,
    });
    if (config.network.mode === 'host') {
      console.error(
        'sockpitd: WARNING: network.mode is "host": functions and Zygotes share the host\'s network. They can reach ' +
          "every service on the host's loopback, cloud metadata (169.254.169.254) and the host's networks. Use this " +
          'only to compare benchmarks, never with code you do not trust.',
      );
    }
    // instances forked by Zygotes are orphaned when their intermediate parent exits: we adopt and reap them
    native.setChildSubreaper();
    let zygotes: ZygoteManager | null = null;
    if (kernel.policy.zygotes.run) {
      zygotes = new ZygoteManager(
        factory,
        {
          budgetBytes: config.zygotes.memoryBudgetMb * 2 ** 20,
          growAfterMisses: config.zygotes.growAfterMisses,
          timeoutMs: config.zygotes.replyTimeoutMs,
          limits: { memoryMb: Math.max(256, config.zygotes.memoryBudgetMb), pids: 64, cpus: 1, timeoutMs: config.zygotes.replyTimeoutMs },
          spareLimits: config.limits,
        },
        bus,
      );
      // without a base Zygote every call is cold until one starts; the tier retries on the next call
      await zygotes.start().catch((err) => console.error(`sockpitd: the base Zygote did not start: ${(err as Error).message}`));
    }
    const provisioner = new Provisioner(factory, store, config, zygotes, bus);
    const daemon = new Daemon(config, paths, hostLayout.mode, driver, pool, store, factory, provisioner, cache, zygotes, bus, kernel);
    await daemon.listen();
    return daemon;
  }

  private async listen(): Promise<void> {
    const socket = this.config.socket;
    fs.mkdirSync(path.dirname(socket), { recursive: true, mode: 0o755 });
    fs.rmSync(socket, { force: true });
    this.api = buildApi(this, {
      maxBodyBytes: this.config.maxBodyBytes,
      audit: this.audit,
      admission: { ...this.config.api, connections: connectionCeiling(this.config.api.connections, openFileLimit()) },
      telemetry: {
        bus: this.bus,
        stats: () => ({
          ...this.stats.snapshot({
            pool: this.pool.stats(),
            cache: this.cache.stats(),
            zygotes: this.zygotes?.stats() ?? { count: 0, memoryBytes: 0, processes: 0 },
            instances: this.provisioner.stats(),
          }),
          requests: this.audit.snapshot(),
        }),
        metrics: () => this.metrics.text(),
        metricsContentType: this.metrics.contentType,
      },
      benchmarks: this.benchmarks,
    });
    await this.api.listen({ path: socket });
    fs.chmodSync(socket, 0o660);
    const gid = groupId(this.config.socketGroup);
    if (gid !== null) fs.chownSync(socket, 0, gid);
  }

  status(): StatusBody {
    return {
      version: VERSION,
      pid: process.pid,
      uptimeSeconds: (Date.now() - this.startedAt) / 1000,
      cgroupMode: this.hostCgroupMode,
      cgroups: this.driver.info(),
      base: this.config.base ?? 'host /usr',
      python: this.config.python,
      pool: this.pool.stats(),
      instances: this.provisioner.stats(),
      functions: this.store.list().length,
      zygotes: {
        enabled: this.zygotes !== null,
        ...(this.kernel.policy.zygotes.run ? {} : { offBecause: this.kernel.policy.zygotes.reason }),
        ...(this.zygotes?.stats() ?? { count: 0, memoryBytes: 0, processes: 0 }),
      },
      packages: this.cache.stats(),
      kernel: { ...this.kernel.probe, landlockAbiUsed: this.kernel.policy.landlockAbi },
      protections: this.kernel.policy.protections,
      network: { mode: this.config.network.mode, egress: this.config.network.mode === 'isolated' && this.config.network.egress, ...this.factory.netnsStats() },
    };
  }

  listFunctions() {
    return this.store.list();
  }

  getFunction(name: string) {
    return this.store.get(name);
  }

  async deploy(name: string, upload: Upload, caller: Caller | null) {
    const previous = this.store.get(validateName(name));
    const held: Array<() => void> = [];
    const fn = await deployFunction(this.store, name, upload, caller, {
      functionsDir: this.paths.functionsDir,
      limits: this.config.deploy,
      defaultLimits: this.config.limits,
      maxLimits: this.config.limits.max,
      python: this.config.packages.pipPython,
      compileUid: this.config.sandboxUid,
      compileGid: this.config.sandboxGid,
      resolvePackages: async (requirements) => {
        const closure = await this.cache.resolve(requirements);
        held.push(this.cache.hold(closure.map((p) => p.key))); // not evicted before the function is stored
        return closure.map(packageRef);
      },
    }).finally(() => held.forEach((release) => release()));
    await this.provisioner.retire(name, previous?.codeDir);
    this.bus.publish({ type: 'function', action: 'deployed', name: fn.name, version: fn.version });
    return fn;
  }

  async remove(name: string, caller: Caller | null): Promise<boolean> {
    const previous = this.store.get(name);
    if (!previous) return false;
    checkMayManage(caller, previous, 'delete');
    this.store.delete(name);
    await this.provisioner.retire(name, previous.codeDir);
    this.bus.publish({ type: 'function', action: 'removed', name, version: null });
    return true;
  }

  zygoteTree() {
    return this.zygotes?.snapshot() ?? [];
  }

  invoke(name: string, event: Buffer) {
    return this.provisioner.invoke(name, event);
  }

  /** Stops serving, destroys every sandbox, removes the pool's cgroups, the base mounts and the socket. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      // every step runs even when one before it failed: a half-stopped daemon must still let go of the rest
      const steps: Array<[string, () => unknown]> = [
        ['stop a running benchmark', () => this.benchmarks.close()],
        ['close the API', () => this.api?.close()],
        ['stop the metrics', () => this.metrics.close()],
        ['stop the Zygotes', () => this.zygotes?.close()],
        ['destroy sandboxes', () => this.provisioner.close()],
        ['close sandbox files', () => this.factory.close()],
        ['remove cgroups', () => this.pool.stop()],
        ['remove the base image', () => removeBase(this.paths.baseDir)],
        ['remove scratch', () => removeTree(this.paths.sandboxesDir)],
        ['close the database', () => this.store.close()],
        ['remove the socket', () => fs.rmSync(this.config.socket, { force: true })],
        ['release the lock', () => this.lock?.release()],
      ];
      const failures: string[] = [];
      for (const [what, step] of steps) {
        try {
          await step();
        } catch (err) {
          failures.push(`${what}: ${(err as Error).message}`);
        }
      }
      if (failures.length > 0) throw new SockpitError('internal', `stopping left work undone:\n  ${failures.join('\n  ')}`);
    })();
    return this.stopping;
  }
}

function packageRef(p: ResolvedPackage) {
  return { key: p.key, sandboxPath: p.sandboxPath, topLevel: p.topLevel };
}

/** Two daemons must never share a socket or a state directory: the second would tear down the first's sandboxes. */
async function refuseIfServing(socket: string): Promise<void> {
  const answered = await new Promise<boolean>((resolve) => {
    const probe = net.connect(socket);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  // only a daemon that predates the socket's lock file gets here
  if (answered) throw new SockpitError('conflict', `another sockpitd is already serving ${socket}`);
}

function groupId(name: string): number | null {
  try {
    const line = fs.readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
    return line ? Number(line.split(':')[2]) : null;
  } catch {
    return null;
  }
}

/** Code snapshots no deployed function points at (left by a crash between deploy and clean-up). */
function removeUnusedCode(functionsDir: string, store: FunctionStore): void {
  const keep = new Set(store.list().map((f) => f.codeDir));
  // uploads a crash interrupted
  fs.rmSync(path.join(functionsDir, INCOMING), { recursive: true, force: true });
  for (const name of fs.readdirSync(functionsDir)) {
    const dir = path.join(functionsDir, name);
    for (const version of fs.readdirSync(dir)) {
      const codeDir = path.join(dir, version);
      if (!keep.has(codeDir)) fs.rmSync(codeDir, { recursive: true, force: true });
    }
    if (fs.readdirSync(dir).length === 0) fs.rmdirSync(dir);
  }
}

function policyFor(probe: KernelProbe, config: Config): KernelPolicy {
  return decideProtections(probe, {
    networkMode: config.network.mode,
    zygotesEnabled: config.zygotes.enabled,
    assumeLandlockAbi: config.kernel.assumeLandlockAbi,
  });
}

/** Throws, naming the missing kernel feature, when the kernel lacks a protection nothing replaces. */
function refuseOnKernel(probe: KernelProbe, config: Config): void {
  if (policyFor(probe, config).refuse !== null) checkKernel(probe, config);
}

/**
 * Decides what the daemon uses of the kernel (protections.ts): one line per protection on stderr, the Zygote
 * tier's reason when it is off, and a refusal naming the missing kernel feature.
 */
function checkKernel(probe: KernelProbe, config: Config): { probe: KernelProbe; policy: KernelPolicy } {
  const policy = policyFor(probe, config);
  const assumed = policy.landlockAbi !== probe.landlockAbi ? ` (using ABI ${policy.landlockAbi}: kernel.assumeLandlockAbi)` : '';
  console.error(`sockpitd: kernel ${probe.release}, Landlock ABI ${probe.landlockAbi}${assumed}`);
  for (const p of policy.protections) {
    const state = p.state === 'covered' ? `covered by ${p.coveredBy}` : p.state;
    console.error(`sockpitd: protection ${p.name}: ${state} (${p.detail})`);
  }
  if (policy.refuse !== null) throw new SockpitError('unavailable', `sockpitd will not start on this kernel: ${policy.refuse}`, { op: 'kernel' });
  if (!policy.zygotes.run && config.zygotes.enabled) console.error(`sockpitd: Zygotes off: ${policy.zygotes.reason}`);
  return { probe, policy };
}
