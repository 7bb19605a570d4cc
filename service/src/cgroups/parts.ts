// One part per controller per version (runc's one-file-per-controller, kept small): each knows its files only.
// The driver picks one part per controller from the layout and never looks at versions itself.

import { SockpitError } from '../errors';
import { cgExists, cgRead, cgWrite, keyedValue } from './files';

export const CPU_PERIOD_US = 100_000;

/** v1 reports "no limit" as a huge page-aligned number; anything above this is unlimited. */
const V1_UNLIMITED = 2 ** 62;

export interface MemoryPart {
  readonly version: 1 | 2;
  /** bytes = Infinity for no limit; the cgroup must be empty or its usage below bytes on v1 */
  setLimit(dir: string, bytes: number): void;
  limit(dir: string): number;
  usage(dir: string): number;
  oomKills(dir: string): number;
}

export interface PidsPart {
  setLimit(dir: string, max: number): void;
  limit(dir: string): number;
}

export interface CpuPart {
  readonly version: 1 | 2;
  /** cpus = Infinity for no limit; 1.0 = one core */
  setLimit(dir: string, cpus: number): void;
  limit(dir: string): number;
}

export interface FreezerPart {
  readonly version: 1 | 2;
  freeze(dir: string): void;
  thaw(dir: string): void;
  /** 'frozen' once every member is (freezing is asynchronous on both versions); 'thawed' costs one read */
  state(dir: string): FreezeState;
}

export type FreezeState = 'thawed' | 'freezing' | 'frozen';

function bytesText(bytes: number, unlimited: string): string {
  return bytes === Infinity ? unlimited : String(Math.floor(bytes));
}

export const memoryV1: MemoryPart = {
  version: 1,
  setLimit(dir, bytes) {
    const value = bytesText(bytes, '-1');
    const writeLimit = (): void => {
      try {
        cgWrite(dir, 'memory.limit_in_bytes', value);
      } catch (err) {
        // v1 refuses a limit below usage (EBUSY). Our callers only lower it on an empty cgroup, where what is
        // left is page cache charged to it: drop that and retry once. Any other errno is not ours to tolerate.
        if ((err as SockpitError).errno !== 'EBUSY') throw err;
        cgWrite(dir, 'memory.force_empty', '0');
        cgWrite(dir, 'memory.limit_in_bytes', value);
      }
    };
    // With swap accounting, memsw (memory+swap) must stay >= the memory limit, and we set both equal so a
    // sandbox cannot spill into swap: raise memsw first, lower it last.
    if (!cgExists(dir, 'memory.memsw.limit_in_bytes')) return writeLimit();
    if (bytes > this.limit(dir)) {
      cgWrite(dir, 'memory.memsw.limit_in_bytes', value);
      writeLimit();
    } else {
      writeLimit();
      cgWrite(dir, 'memory.memsw.limit_in_bytes', value);
    }
  },
  limit(dir) {
    const n = Number(cgRead(dir, 'memory.limit_in_bytes'));
    return n >= V1_UNLIMITED ? Infinity : n;
  },
  usage: (dir) => Number(cgRead(dir, 'memory.usage_in_bytes')),
  oomKills: (dir) => keyedValue(cgRead(dir, 'memory.oom_control'), 'oom_kill') ?? 0,
};

export const memoryV2: MemoryPart = {
  version: 2,
  setLimit(dir, bytes) {
    cgWrite(dir, 'memory.max', bytesText(bytes, 'max'));
    // no swapping past the limit (the file is absent without swap accounting)
    if (cgExists(dir, 'memory.swap.max')) cgWrite(dir, 'memory.swap.max', '0');
  },
  limit(dir) {
    const t = cgRead(dir, 'memory.max').trim();
    return t === 'max' ? Infinity : Number(t);
  },
  usage: (dir) => Number(cgRead(dir, 'memory.current')),
  oomKills: (dir) => keyedValue(cgRead(dir, 'memory.events'), 'oom_kill') ?? 0,
};

/** pids uses the same files on v1 and v2 */
export const pidsPart: PidsPart = {
  setLimit: (dir, max) => cgWrite(dir, 'pids.max', max === Infinity ? 'max' : String(Math.floor(max))),
  limit(dir) {
    const t = cgRead(dir, 'pids.max').trim();
    return t === 'max' ? Infinity : Number(t);
  },
};

function quotaUs(cpus: number): number {
  return Math.max(1000, Math.round(cpus * CPU_PERIOD_US)); // the kernel's minimum quota is 1 ms
}

export const cpuV1: CpuPart = {
  version: 1,
  setLimit(dir, cpus) {
    if (Number(cgRead(dir, 'cpu.cfs_period_us')) !== CPU_PERIOD_US) {
      cgWrite(dir, 'cpu.cfs_period_us', String(CPU_PERIOD_US));
    }
    cgWrite(dir, 'cpu.cfs_quota_us', cpus === Infinity ? '-1' : String(quotaUs(cpus)));
  },
  limit(dir) {
    const quota = Number(cgRead(dir, 'cpu.cfs_quota_us'));
    return quota < 0 ? Infinity : quota / Number(cgRead(dir, 'cpu.cfs_period_us'));
  },
};

export const cpuV2: CpuPart = {
  version: 2,
  setLimit(dir, cpus) {
    cgWrite(dir, 'cpu.max', `${cpus === Infinity ? 'max' : quotaUs(cpus)} ${CPU_PERIOD_US}`);
  },
  limit(dir) {
    const [quota, period] = cgRead(dir, 'cpu.max').trim().split(/\s+/);
    return quota === 'max' ? Infinity : Number(quota) / Number(period);
  },
};

export const freezerV1: FreezerPart = {
  version: 1,
  freeze: (dir) => cgWrite(dir, 'freezer.state', 'FROZEN'),
  thaw: (dir) => cgWrite(dir, 'freezer.state', 'THAWED'),
  state(dir) {
    const s = cgRead(dir, 'freezer.state').trim();
    return s === 'THAWED' ? 'thawed' : s === 'FROZEN' ? 'frozen' : 'freezing';
  },
};

export const freezerV2: FreezerPart = {
  version: 2,
  freeze: (dir) => cgWrite(dir, 'cgroup.freeze', '1'),
  thaw: (dir) => cgWrite(dir, 'cgroup.freeze', '0'),
  state(dir) {
    if (cgRead(dir, 'cgroup.freeze').trim() === '0') return 'thawed';
    return keyedValue(cgRead(dir, 'cgroup.events'), 'frozen') === 1 ? 'frozen' : 'freezing';
  },
};
