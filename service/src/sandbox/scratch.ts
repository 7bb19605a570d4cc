// How big a sandbox's scratch is. Each sandbox's /tmp and /host live on a tmpfs of its own, sized from the
// sandbox's memory limit, so one tenant filling its scratch gets ENOSPC at its own size and never takes the
// space of another (one tmpfs shared by all sandboxes let a single function fill it for everyone). Pure.

import type { FunctionLimits } from '../config';

export interface ScratchPolicy {
  /** the share of the sandbox's memory limit its scratch may hold (the pages are charged to that limit too) */
  memoryShare: number;
  /** inodes per MB of the memory limit: files cost kernel memory even when empty */
  inodesPerMb: number;
}

export const DEFAULT_SCRATCH: ScratchPolicy = { memoryShare: 0.5, inodesPerMb: 256 };

export interface ScratchSize {
  megabytes: number;
  inodes: number;
}

export function scratchSize(limits: Pick<FunctionLimits, 'memoryMb'>, policy: ScratchPolicy): ScratchSize {
  return {
    megabytes: Math.max(1, Math.floor(limits.memoryMb * policy.memoryShare)),
    inodes: Math.max(64, Math.floor(limits.memoryMb * policy.inodesPerMb)),
  };
}

/** tmpfs mount data for a scratch of this size (mode: only root traverses it; the sandbox sees its binds) */
export function scratchMountData(size: ScratchSize): string {
  return `size=${size.megabytes}m,nr_inodes=${size.inodes},mode=0700`;
}

export function sameScratchSize(a: ScratchSize, b: ScratchSize): boolean {
  return a.megabytes === b.megabytes && a.inodes === b.inodes;
}
