// What a daemon owns on the host, found from outside it: its cgroups (named after its state directory's tag),
// the processes in them, the mounts of a process's namespace. The load bench and the integration tests use these
// to check that nothing is left behind after faults and a stop.

import fs from 'node:fs';
import path from 'node:path';
import { cgroupTag } from '../daemon/daemon';

/** Every cgroup directory of a daemon's tag, in every hierarchy. */
export function cgroupsOf(stateDir: string): string[] {
  const tag = cgroupTag(stateDir);
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 6) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = path.join(dir, e.name);
      if (e.name === tag) found.push(p);
      else walk(p, depth + 1);
    }
  };
  walk('/sys/fs/cgroup', 0);
  return found;
}

/**
 * Pids of processes in the daemon's sandboxes: their cgroup path names the daemon's tag. Not the daemon itself nor
 * its helpers: on pure cgroup v2 they sit in the tag's `daemon` leaf (the no-internal-processes rule).
 */
export function processesOf(stateDir: string): number[] {
  const tag = cgroupTag(stateDir);
  const inSandbox = new RegExp(`/${tag}/(?!daemon$)`, 'm');
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (inSandbox.test(fs.readFileSync(`/proc/${entry}/cgroup`, 'utf8'))) pids.push(Number(entry));
    } catch {
      // the process exited while we looked
    }
  }
  return pids;
}

/** The real uid of a process, or null when it is gone. */
export function uidOf(pid: number): number | null {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Mount points of a process's mount namespace under a directory. */
export function mountsOf(pid: number, under: string): string[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[4])
      .filter((p) => p !== undefined && p.startsWith(under));
  } catch {
    return [];
  }
}

/** Whether a process exists (and is not a zombie). */
export function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}
