// Where each cgroup controller sockpit needs lives on this host. Pure: it parses the text of /proc/self/cgroup,
// /proc/self/mountinfo and the unified hierarchy's cgroup.controllers (index.ts reads them). This is the one place
// that decides between pure v2, hybrid and pure v1 (crun's "detected in exactly one function").

import * as path from 'node:path';
import type { CgroupMode } from '../../../api';
import { SockpitError } from '../errors';

export type { CgroupMode } from '../../../api';

/** The controllers sockpit uses. `freezer` is a core feature on v2 (cgroup.freeze), a controller on v1. */
export const CONTROLLERS = ['memory', 'pids', 'cpu', 'freezer'] as const;
export type Controller = (typeof CONTROLLERS)[number];

export interface Placement {
  version: 1 | 2;
  /** where the hierarchy is mounted, e.g. /sys/fs/cgroup/memory */
  mountpoint: string;
  /** the process's own cgroup in that hierarchy as /proc/self/cgroup names it, e.g. /process_api/x */
  own: string;
  /** the directory of `own` on disk: mountpoint + own taken relative to the mount's root */
  dir: string;
}

export interface UnifiedPlacement {
  mountpoint: string;
  own: string;
  dir: string;
}

export interface CgroupLayout {
  mode: CgroupMode;
  controllers: Record<Controller, Placement>;
  /** the cgroup2 hierarchy, when one is mounted (freeze and kill work there even without controllers) */
  unified?: UnifiedPlacement;
}

interface Mount {
  root: string;
  mountpoint: string;
  fstype: string;
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash as \ooo */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountinfo(mountinfo: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of mountinfo.split('\n')) {
    if (line.trim() === '') continue;
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    if (left.length < 6 || right.length < 3) continue;
    mounts.push({
      root: unescapeMountField(left[3]),
      mountpoint: unescapeMountField(left[4]),
      fstype: right[0],
      superOptions: right[2].split(','),
    });
  }
  return mounts;
}

/** /proc/self/cgroup: "hierarchy-id:controller-list:path"; v2 is "0::/path". */
export function parseProcCgroup(procSelfCgroup: string): { v1: Map<string, string>; v2?: string } {
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of procSelfCgroup.split('\n')) {
    if (line.trim() === '') continue;
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const id = line.slice(0, first);
    const ctrls = line.slice(first + 1, second);
    const cgPath = line.slice(second + 1).replace(/ \(deleted\)$/, '');
    if (id === '0' && ctrls === '') v2 = cgPath;
    else for (const c of ctrls.split(',')) if (c !== '') v1.set(c, cgPath);
  }
  return { v1, v2 };
}

/** The directory of cgroup `own` under a mount whose root is `root` (root is "/" unless bind-mounted or namespaced). */
function dirOf(mount: Mount, own: string): string | undefined {
  const rel = path.posix.relative(mount.root, own);
  if (rel.startsWith('..')) return undefined;
  return rel === '' ? mount.mountpoint : path.posix.join(mount.mountpoint, rel);
}

function pickMount(mounts: Mount[], own: string): { mount: Mount; dir: string } | undefined {
  // Several mounts of one hierarchy can exist (bind mounts): take the first one that shows our own cgroup.
  for (const mount of mounts) {
    const dir = dirOf(mount, own);
    if (dir !== undefined) return { mount, dir };
  }
  return undefined;
}

/** The directory of our own cgroup in the cgroup2 hierarchy, if one is mounted (readLayout reads its controllers). */
export function unifiedOwnDir(procSelfCgroup: string, mountinfo: string): string | undefined {
  const own = parseProcCgroup(procSelfCgroup).v2;
  if (own === undefined) return undefined;
  return pickMount(
    parseMountinfo(mountinfo).filter((m) => m.fstype === 'cgroup2'),
    own,
  )?.dir;
}

/**
 * Detects, per controller, which hierarchy serves it and where this process's own cgroup is in it.
 * `unifiedControllers` is the content of cgroup.controllers of our own cgroup in the cgroup2 hierarchy ('' if none).
 * A controller bound to a v1 hierarchy wins; otherwise it must be listed in the unified hierarchy's controllers.
 * The freezer needs no listing on v2: cgroup.freeze exists in every non-root cgroup.
 */
export function detectLayout(procSelfCgroup: string, mountinfo: string, unifiedControllers = ''): CgroupLayout {
  const proc = parseProcCgroup(procSelfCgroup);
  const mounts = parseMountinfo(mountinfo);
  const v2Available = new Set(unifiedControllers.split(/\s+/).filter((c) => c !== ''));

  let unified: UnifiedPlacement | undefined;
  if (proc.v2 !== undefined) {
    const found = pickMount(
      mounts.filter((m) => m.fstype === 'cgroup2'),
      proc.v2,
    );
    if (found) unified = { mountpoint: found.mount.mountpoint, own: proc.v2, dir: found.dir };
  }

  const controllers: Partial<Record<Controller, Placement>> = {};
  const missing: string[] = [];
  for (const ctrl of CONTROLLERS) {
    const own = proc.v1.get(ctrl);
    const v1 =
      own === undefined
        ? undefined
        : pickMount(
            mounts.filter((m) => m.fstype === 'cgroup' && m.superOptions.includes(ctrl)),
            own,
          );
    if (v1 && own !== undefined) {
      controllers[ctrl] = { version: 1, mountpoint: v1.mount.mountpoint, own, dir: v1.dir };
    } else if (unified && (ctrl === 'freezer' || v2Available.has(ctrl))) {
      controllers[ctrl] = { version: 2, ...unified };
    } else {
      missing.push(ctrl);
    }
  }
  if (missing.length > 0) {
    throw new SockpitError('internal', `cgroup controllers not available: ${missing.join(', ')}`, {
      op: 'cgroup.detect',
      detail: { missing, unified: unified?.mountpoint ?? null, unifiedControllers: [...v2Available] },
    });
  }
  const placed = controllers as Record<Controller, Placement>;
  const anyV1 = CONTROLLERS.some((c) => placed[c].version === 1);
  const mode: CgroupMode = !anyV1 ? 'v2' : unified ? 'hybrid' : 'v1';
  return { mode, controllers: placed, unified };
}

/** The same layout with the cgroup2 hierarchy ignored: how a pure v1 host looks (tests drive the v1 paths with it). */
export function withoutUnified(layout: CgroupLayout): CgroupLayout {
  if (CONTROLLERS.some((c) => layout.controllers[c].version === 2)) {
    throw new SockpitError('internal', 'cannot drop the unified hierarchy: it serves controllers', {
      op: 'cgroup.detect',
    });
  }
  return { mode: 'v1', controllers: layout.controllers };
}

/**
 * The layout sandboxes use. On a hybrid host whose controllers are all on v1, sandboxes stay out of the
 * controller-less v2 hierarchy: joining it costs an RCU grace period per process (cgroup.procs takes the global
 * threadgroup lock; measured ~7 ms here), while the v1 freezer and a freeze + SIGKILL killer do the same work
 * and v1 hierarchies are joined cheaply through `tasks`.
 */
export function layoutForSandboxes(layout: CgroupLayout): CgroupLayout {
  if (layout.mode !== 'hybrid' || CONTROLLERS.some((c) => layout.controllers[c].version === 2)) return layout;
  return withoutUnified(layout);
}
