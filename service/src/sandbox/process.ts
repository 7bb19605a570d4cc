// A process the daemon watches through a pidfd: it learns of the exit without SIGCHLD and signals it without
// pid-reuse races. The pidfd is closed once the process has exited and been reaped.

import fs from 'node:fs';
import * as native from '../../../native';

export type ExitStatus = native.ExitStatus;

export class ProcessHandle {
  private status: ExitStatus | null = null;
  /** resolves once the process has exited (and been reaped when it was ours to reap) */
  readonly exited: Promise<ExitStatus>;

  /** Takes ownership of pidfd. */
  constructor(
    readonly pid: number,
    private readonly pidfd: number,
  ) {
    this.exited = new Promise((resolve) => {
      native.watchExit(pidfd, (status, error) => {
        // error: waitid refused (the process was not our child yet when it exited); it is gone all the same
        this.status = error ? { pid, code: null, signal: null } : status;
        fs.closeSync(pidfd);
        resolve(this.status);
      });
    });
  }

  /** A handle for a process this one did not start (forked by a Zygote), by the pid it reported. */
  static adopt(pid: number): ProcessHandle {
    return new ProcessHandle(pid, native.pidfdOpen(pid));
  }

  get alive(): boolean {
    return this.status === null;
  }

  kill(): void {
    if (this.alive) native.pidfdKill(this.pidfd, 'SIGKILL');
  }
}

/**
 * Whether a SIGKILL waits in /proc/<pid>/status's pending sets (SigPnd: the thread's, ShdPnd: the process's).
 * A task frozen by the cgroup v1 freezer does not act on it until thawed.
 */
export function sigkillPending(status: string): boolean {
  const bit = 1n << BigInt(9 - 1);
  for (const key of ['SigPnd', 'ShdPnd']) {
    const hex = new RegExp(`^${key}:\\s+([0-9a-f]+)$`, 'm').exec(status)?.[1];
    if (hex !== undefined && (BigInt(`0x${hex}`) & bit) !== 0n) return true;
  }
  return false;
}

/** sigkillPending for a live process; false when it is gone. */
export function killPending(pid: number): boolean {
  try {
    return sigkillPending(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** The NSpid line of /proc/<pid>/status: the process's pid in each PID namespace it is in, ours first. */
export function parseNsPids(status: string): number[] {
  const line = /^NSpid:\s+(.*)$/m.exec(status)?.[1];
  return line ? line.trim().split(/\s+/).map(Number) : [];
}

/**
 * Of `candidates` (pids as we see them), the one whose pid one PID namespace below ours is `innerPid`: how a
 * process that a Zygote reported by its pid in the Zygotes' namespace is found among its cgroup's members.
 */
export function findByInnerPid(candidates: readonly number[], innerPid: number): number | null {
  for (const pid of candidates) {
    let status: string;
    try {
      status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      continue; // gone already
    }
    if (parseNsPids(status)[1] === innerPid) return pid;
  }
  return null;
}
