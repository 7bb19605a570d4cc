// GET /v1/status: what the daemon runs on and with, as its parts report it (cgroup driver, kernel probe and the
// protections decided from it, network namespace pools, Zygotes).

import type { ZygoteStats } from './zygotes';

export type CgroupMode = 'v2' | 'hybrid' | 'v1';

/** how the daemon's cgroup driver works here (service/src/cgroups/driver.ts) */
export interface DriverInfo {
  mode: CgroupMode;
  tag: string;
  hierarchies: string[];
  memory: 'v1' | 'v2';
  cpu: 'v1' | 'v2';
  freezer: 'v1' | 'v2';
  killer: 'cgroup.kill' | 'freeze+SIGKILL';
}

/** what the kernel offers, probed at start-up (service/src/kernel/probe.ts) */
export interface KernelProbe {
  /** os.release() */
  release: string;
  /** the kernel's Landlock ABI, 0 when it has none */
  landlockAbi: number;
  /** whether root can make a user namespace (user.max_user_namespaces > 0) */
  userns: boolean;
  /** seccomp in the kernel and sockpit's filters written for this architecture */
  seccomp: boolean;
  /** cgroup.freeze in the v2 hierarchy sandboxes join (else the v1 freezer); none joined on a v1 or hybrid-v1 host */
  cgroupFreeze: boolean;
  /** cgroup.kill in the v2 hierarchy sandboxes join (else freeze + SIGKILL) */
  cgroupKill: boolean;
  /** pidfd_open works */
  pidfd: boolean;
}

export type ProtectionState = 'active' | 'covered' | 'missing';

/** one protection and how the daemon has it (service/src/kernel/protections.ts decides) */
export interface Protection {
  name: string;
  state: ProtectionState;
  /** what covers it when the kernel feature is not there */
  coveredBy?: string;
  detail: string;
}

/** a pool of network namespaces (service/src/network/netns-pool.ts) */
export interface NetnsPoolStats {
  /** ready with egress (without egress: ready, loopback only) */
  free: number;
  /** ready, loopback only, for `network: none` functions (0 without egress: `free` are all bare) */
  freeBare: number;
  inUse: number;
  /** being made, their egress being started: counted against max */
  starting: number;
  /** made on a call's path because none was ready (the pool was drained faster than it refills) */
  madeOnDemand: number;
  /** egress helpers (slirp4netns) running: one per namespace with egress, free or in use */
  helpers: number;
  /** namespaces discarded because their helper died, or could not be made ready */
  failed: number;
}

export interface StatusBody {
  version: string;
  pid: number;
  uptimeSeconds: number;
  cgroupMode: string;
  /** how the daemon's cgroup driver works here: which hierarchies, freezer and killer (cgroup.kill on Linux 5.14+) */
  cgroups: DriverInfo;
  base: string;
  python: string;
  pool: { size: number; free: number; inUse: number };
  instances: { live: number; idle: number; idleMemoryBytes: number };
  functions: number;
  /** offBecause: why the Zygote tier is off when the config wants it (the kernel lacks what it needs) */
  zygotes: { enabled: boolean; offBecause?: string } & ZygoteStats;
  /** what the kernel offers (probed at start-up); landlockAbiUsed is lower only under kernel.assumeLandlockAbi */
  kernel: KernelProbe & { landlockAbiUsed: number };
  /** each protection: active (the kernel's), covered (by coveredBy), never missing in a running daemon */
  protections: Protection[];
  packages: { packages: number; bytes: number; installing: number };
  /** isolated: a network namespace per sandbox, from pools (free, in use, made on a call's path); host: none */
  network?: { mode: 'isolated' | 'host'; egress: boolean; cold: NetnsPoolStats | null; zygote: NetnsPoolStats | null };
}
