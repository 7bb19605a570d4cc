// The cgroup room's public API. readLayout() is the only I/O of detection; the decision is detectLayout's.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { wrap } from '../errors';
import { detectLayout, unifiedOwnDir, type CgroupLayout } from './layout';

export { CONTROLLERS, detectLayout, layoutForSandboxes, withoutUnified } from './layout';
export type { CgroupLayout, CgroupMode, Controller, Placement, UnifiedPlacement } from './layout';
export { createDriver } from './driver';
export type { Cgroup, CgroupDriver, CgroupPaths, DriverInfo, DriverOptions, FreezeState, Limits } from './driver';
export { CgroupPool, PoolBook } from './pool';
export type { PoolOptions, PoolStats } from './pool';

function read(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw wrap(err, `Can't read ${file}`, { op: 'cgroup.detect', path: file });
  }
}

/** Reads /proc/self/cgroup, /proc/self/mountinfo and our own unified cgroup's cgroup.controllers; detects. */
export function readLayout(proc = '/proc/self'): CgroupLayout {
  const procSelfCgroup = read(path.join(proc, 'cgroup'));
  const mountinfo = read(path.join(proc, 'mountinfo'));
  // The controllers we may use are those enabled for our own cgroup (what a delegation gave us), which is
  // detectLayout's own idea of where we are; an unmounted unified hierarchy has none.
  let unifiedControllers = '';
  const probe = unifiedOwnDir(procSelfCgroup, mountinfo);
  if (probe !== undefined) {
    try {
      unifiedControllers = fs.readFileSync(path.join(probe, 'cgroup.controllers'), 'utf8');
    } catch {
      unifiedControllers = ''; // no cgroup.controllers: no v2 controllers
    }
  }
  return detectLayout(procSelfCgroup, mountinfo, unifiedControllers);
}
