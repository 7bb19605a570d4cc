import * as fs from 'node:fs';
// The cgroup driver: one interface over pure v2, hybrid and pure v1 hosts (runc's Manager), assembled by one
// factory from per-controller parts (parts.ts) chosen by the layout (layout.ts). Everything it creates lives at
// <mountpoint><own>/<tag>/... in each hierarchy it uses, never elsewhere.

import * as path from 'node:path';
import type { DriverInfo } from '../../../api';
import { SockpitError, errnoOf, wrap } from '../errors';
import { cgExists, cgMkdir, cgProcs, cgRead, cgRmdir, cgWalk, cgWrite } from './files';
import { CONTROLLERS, type CgroupLayout, type CgroupMode, type Controller } from './layout';
import {
  cpuV1,
  cpuV2,
  freezerV1,
  freezerV2,
  memoryV1,
  memoryV2,
  pidsPart,
  type CpuPart,
  type FreezeState,
  type FreezerPart,
  type MemoryPart,
} from './parts';

export interface Limits {
  /** bytes; Infinity = no limit */
  memoryBytes: number;
  /** max tasks; Infinity = no limit */
  pids: number;
  /** cores: 1.0 = one core (v1 cfs_quota_us = period, v2 cpu.max "100000 100000"); Infinity = no limit */
  cpus: number;
}

export interface CgroupPaths {
  memory: string;
  pids: string;
  cpu: string;
  freezer: string;
  unified?: string;
}

export interface Cgroup {
  /** path below <own>/<tag>, e.g. "pool-3" */
  readonly name: string;
  /** the directory serving each controller (the same one for all on pure v2) */
  readonly paths: Readonly<CgroupPaths>;
  /** one directory per hierarchy in use, no duplicates */
  readonly dirs: readonly string[];
}

export type { FreezeState } from './parts';
export type { DriverInfo } from '../../../api';

export interface CgroupDriver {
  readonly mode: CgroupMode;
  readonly tag: string;
  /** Creates <own>/<tag> in every hierarchy in use. When controllers are on v2, first moves this process into
   * the leaf <own>/<tag>/daemon and enables them in <own> and <own>/<tag> (no processes in inner cgroups). */
  setup(): void;
  /** mkdir <own>/<tag>/<name> in every hierarchy (an existing one is reused) */
  create(name: string): Cgroup;
  /** the cgroup.procs files a process writes its pid to, to join: one per hierarchy in use */
  /** the files a single-threaded process writes "0" into to join the cgroup itself, one per hierarchy */
  joinFiles(cg: Cgroup): string[];
  /** writes only the limits that differ from the ones last written to this cgroup */
  setLimits(cg: Cgroup, limits: Limits): void;
  /** the limits as the kernel reports them (read from the files) */
  readLimits(cg: Cgroup): Limits;
  freeze(cg: Cgroup): void;
  thaw(cg: Cgroup): void;
  freezeState(cg: Cgroup): FreezeState;
  /** kills every member; resolves once cgroup.procs is empty everywhere, rejects if it does not empty in time */
  kill(cg: Cgroup): Promise<void>;
  /** members, over all hierarchies */
  pids(cg: Cgroup): number[];
  /** processes in the cgroup, read from one hierarchy: every member joins all of them (cheap; for hot paths) */
  members(cg: Cgroup): number[];
  memoryBytes(cg: Cgroup): number;
  /** cumulative OOM kills in this cgroup */
  oomKills(cg: Cgroup): number;
  /** rmdir everywhere (the cgroup must be empty) */
  destroy(cg: Cgroup): void;
  /** crash recovery: kills the members of and removes every cgroup under <own>/<tag>, deepest first, in every
   * hierarchy (not the daemon's own leaf); resolves to how many cgroups it removed */
  removeStale(): Promise<number>;
  /** removeStale, then the <tag> directories themselves (on v2, the one holding the daemon's leaf stays) */
  teardown(): Promise<void>;
  info(): DriverInfo;
}

export interface DriverOptions {
  /** how long kill() waits for a cgroup to empty (a safety net: it takes milliseconds, longer only under heavy load); default 10 s */
  killTimeoutMs?: number;
}

const NAME_RE = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;
const DAEMON_LEAF = 'daemon';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function checkName(name: string, what: string, valid = true): void {
  if (!valid || !NAME_RE.test(name) || name.split('/').some((p) => p === '.' || p === '..')) {
    throw new SockpitError('bad_request', `invalid cgroup ${what} ${JSON.stringify(name)}`, { op: 'cgroup.create' });
  }
}

function checkLimits(l: Limits): void {
  for (const [k, v] of Object.entries(l) as [keyof Limits, number][]) {
    if (typeof v !== 'number' || Number.isNaN(v) || v <= 0) {
      throw new SockpitError('bad_request', `invalid cgroup limit ${k}=${String(v)}: must be > 0 (Infinity = none)`, {
        op: 'cgroup.set',
      });
    }
  }
}

/** SIGKILL by pid; a process that is already gone is fine. Never ourselves or init. */
function sigkill(pid: number): void {
  if (pid <= 1 || pid === process.pid) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch (err) {
    if (errnoOf(err) !== 'ESRCH') throw wrap(err, `Can't kill pid ${pid}`, { op: 'cgroup.kill' });
  }
}

interface Killer {
  readonly kind: DriverInfo['killer'];
  signal(cg: Cgroup, pids: number[]): void;
}

class CgroupfsDriver implements CgroupDriver {
  readonly mode: CgroupMode;
  private readonly memory: MemoryPart;
  private readonly cpu: CpuPart;
  /** per hierarchy in use: the directory of our own cgroup */
  private readonly owns: { key: keyof CgroupPaths; dir: string }[] = [];
  private readonly ownDir: Record<keyof CgroupPaths, string | undefined>;
  /** controllers served by the unified hierarchy (they need the daemon out of <own>) */
  private readonly v2Controllers: Controller[];
  private readonly killTimeoutMs: number;
  private readonly written = new Map<string, Partial<Limits>>();
  private freezerPart?: FreezerPart;
  private killerPart?: Killer;

  constructor(
    private readonly layout: CgroupLayout,
    readonly tag: string,
    options: DriverOptions,
  ) {
    checkName(tag, 'tag', !tag.includes('/'));
    this.mode = layout.mode;
    this.killTimeoutMs = options.killTimeoutMs ?? 10_000;
    const c = layout.controllers;
    this.memory = c.memory.version === 1 ? memoryV1 : memoryV2;
    this.cpu = c.cpu.version === 1 ? cpuV1 : cpuV2;
    this.v2Controllers = CONTROLLERS.filter((k) => k !== 'freezer' && c[k].version === 2);

    // After setup() on v2 the daemon sits in <own>/<tag>/daemon; a restarted daemon reads that as its own cgroup.
    const suffix = `/${tag}/${DAEMON_LEAF}`;
    const strip = (dir: string, own: string): string =>
      this.v2Controllers.length > 0 && own.endsWith(suffix) ? dir.slice(0, dir.length - suffix.length) : dir;
    const unifiedDir = layout.unified ? strip(layout.unified.dir, layout.unified.own) : undefined;
    const dirFor = (k: Controller): string => (c[k].version === 2 ? unifiedDir! : c[k].dir);
    this.ownDir = {
      memory: dirFor('memory'),
      pids: dirFor('pids'),
      cpu: dirFor('cpu'),
      freezer: dirFor('freezer'),
      unified: unifiedDir,
    };
    for (const key of ['memory', 'pids', 'cpu', 'freezer', 'unified'] as const) {
      const dir = this.ownDir[key];
      if (dir !== undefined && !this.owns.some((o) => o.dir === dir)) this.owns.push({ key, dir });
    }
  }

  private tagDir(own: string): string {
    return path.join(own, this.tag);
  }

  private at(name: string): Cgroup {
    const p = (key: keyof CgroupPaths): string | undefined => {
      const own = this.ownDir[key];
      return own === undefined ? undefined : path.join(own, this.tag, name);
    };
    const paths: CgroupPaths = { memory: p('memory')!, pids: p('pids')!, cpu: p('cpu')!, freezer: p('freezer')! };
    const unified = p('unified');
    if (unified !== undefined) paths.unified = unified;
    return { name, paths, dirs: this.owns.map((o) => path.join(o.dir, this.tag, name)) };
  }

  /** v2 freezer when the unified hierarchy has cgroup.freeze (Linux 5.2+), else the v1 freezer controller */
  private freezer(cg: Cgroup): { part: FreezerPart; dir: string } {
    if (!this.freezerPart) {
      const useV2 = cg.paths.unified !== undefined && cgExists(cg.paths.unified, 'cgroup.freeze');
      if (!useV2 && this.layout.controllers.freezer.version !== 1) {
        throw new SockpitError('internal', 'no cgroup freezer: cgroup.freeze is missing (Linux < 5.2?)', {
          op: 'cgroup.freeze',
          path: cg.paths.unified,
        });
      }
      this.freezerPart = useV2 ? freezerV2 : freezerV1;
    }
    return { part: this.freezerPart, dir: this.freezerPart.version === 2 ? cg.paths.unified! : cg.paths.freezer };
  }

  /** cgroup.kill when the unified hierarchy has it (Linux 5.14+); else freeze, SIGKILL each member, thaw */
  private killer(cg: Cgroup): Killer {
    if (!this.killerPart) {
      const unified = cg.paths.unified;
      if (unified !== undefined && cgExists(unified, 'cgroup.kill')) {
        this.killerPart = {
          kind: 'cgroup.kill',
          signal: (target, pids) => {
            cgWrite(target.paths.unified!, 'cgroup.kill', '1');
            // a process that joined only the v1 hierarchies is not reached by cgroup.kill
            const inUnified = new Set(cgProcs(target.paths.unified!));
            for (const pid of pids) if (!inUnified.has(pid)) sigkill(pid);
          },
        };
      } else {
        this.killerPart = {
          kind: 'freeze+SIGKILL',
          signal: (target) => {
            // frozen members cannot fork between our reading cgroup.procs and the signals; they die on thaw
            const { part, dir } = this.freezer(target);
            part.freeze(dir);
            try {
              for (const pid of this.pids(target)) sigkill(pid);
            } finally {
              part.thaw(dir);
            }
          },
        };
      }
    }
    return this.killerPart;
  }

  setup(): void {
    for (const o of this.owns) cgMkdir(this.tagDir(o.dir));
    if (this.v2Controllers.length === 0) return; // hybrid / v1: the daemon stays where it is
    const own = this.ownDir.unified!;
    const tagDir = this.tagDir(own);
    const leaf = path.join(tagDir, DAEMON_LEAF);
    const realRoot = !cgExists(own, 'cgroup.type'); // the host's root cgroup is exempt from the rule
    if (!realRoot) {
      cgMkdir(leaf);
      if (!cgProcs(leaf).includes(process.pid)) {
        const others = cgProcs(own).filter((p) => p !== process.pid);
        if (others.length > 0) {
          throw new SockpitError(
            'internal',
            `sockpitd shares its cgroup ${this.layout.unified!.own} with ${others.length} other process(es) ` +
              `(${others.slice(0, 5).join(', ')}). On cgroup v2 it must own that cgroup to create sub-cgroups with ` +
              `controllers: start sockpitd in a delegated cgroup of its own, e.g. ` +
              `"systemd-run --scope -p Delegate=yes sockpitd" or a unit with Delegate=yes.`,
            { op: 'cgroup.setup', path: own, detail: { others } },
          );
        }
        cgWrite(leaf, 'cgroup.procs', String(process.pid));
      }
    }
    for (const dir of [own, tagDir]) {
      const enabled = new Set(cgRead(dir, 'cgroup.subtree_control').split(/\s+/));
      const missing = this.v2Controllers.filter((k) => !enabled.has(k));
      if (missing.length === 0) continue;
      cgWrite(
        dir,
        'cgroup.subtree_control',
        missing.map((k) => `+${k}`).join(' '),
        'is the cgroup delegated (Delegate=yes) and are the controllers enabled in its parent?',
      );
    }
  }

  create(name: string): Cgroup {
    checkName(name, 'name', !(this.v2Controllers.length > 0 && name.split('/')[0] === DAEMON_LEAF));
    const cg = this.at(name);
    const made: string[] = [];
    try {
      for (const dir of cg.dirs) if (cgMkdir(dir)) made.push(dir);
    } catch (err) {
      for (const dir of made.reverse()) {
        try {
          cgRmdir(dir);
        } catch {
          // best effort: the error that matters is the one being thrown
        }
      }
      throw wrap(err, `Can't create cgroup ${name}`, { op: 'cgroup.create' });
    }
    this.written.delete(name);
    return cg;
  }

  joinFiles(cg: Cgroup): string[] {
    // v1: `tasks`. A single-threaded process that writes "0" there moves itself without the global
    // cgroup_threadgroup_rwsem, whose write side waits for an RCU grace period (measured here: 0.1 ms against
    // ~7 ms for cgroup.procs after a quiet spell). v2 has no such path: cgroup.procs.
    return cg.dirs.map((d) => path.join(d, fs.existsSync(path.join(d, 'tasks')) ? 'tasks' : 'cgroup.procs'));
  }

  setLimits(cg: Cgroup, limits: Limits): void {
    checkLimits(limits);
    const last = this.written.get(cg.name) ?? {};
    this.written.set(cg.name, last);
    try {
      if (last.memoryBytes !== limits.memoryBytes) {
        delete last.memoryBytes; // unknown until the write succeeds
        this.memory.setLimit(cg.paths.memory, limits.memoryBytes);
        last.memoryBytes = limits.memoryBytes;
      }
      if (last.pids !== limits.pids) {
        delete last.pids;
        pidsPart.setLimit(cg.paths.pids, limits.pids);
        last.pids = limits.pids;
      }
      if (last.cpus !== limits.cpus) {
        delete last.cpus;
        this.cpu.setLimit(cg.paths.cpu, limits.cpus);
        last.cpus = limits.cpus;
      }
    } catch (err) {
      throw wrap(err, `Can't set limits of cgroup ${cg.name}`, { op: 'cgroup.set' });
    }
  }

  readLimits(cg: Cgroup): Limits {
    return {
      memoryBytes: this.memory.limit(cg.paths.memory),
      pids: pidsPart.limit(cg.paths.pids),
      cpus: this.cpu.limit(cg.paths.cpu),
    };
  }

  freeze(cg: Cgroup): void {
    const { part, dir } = this.freezer(cg);
    part.freeze(dir);
  }

  thaw(cg: Cgroup): void {
    const { part, dir } = this.freezer(cg);
    part.thaw(dir);
  }

  freezeState(cg: Cgroup): FreezeState {
    const { part, dir } = this.freezer(cg);
    return part.state(dir);
  }

  async kill(cg: Cgroup): Promise<void> {
    const started = Date.now();
    let delay = 0;
    for (;;) {
      const pids = this.pids(cg);
      if (pids.length === 0) return;
      if (Date.now() - started > this.killTimeoutMs) {
        throw new SockpitError(
          'internal',
          `Can't empty cgroup ${cg.name}: ${pids.length} process(es) left after ${this.killTimeoutMs} ms ` +
            `(${pids.slice(0, 10).join(', ')})`,
          { op: 'cgroup.kill', path: cg.dirs[0], detail: { pids } },
        );
      }
      this.killer(cg).signal(cg, pids);
      await sleep(delay);
      delay = Math.min(delay === 0 ? 1 : delay * 2, 20);
    }
  }

  members(cg: Cgroup): number[] {
    return cgProcs(cg.dirs[0]);
  }

  pids(cg: Cgroup): number[] {
    if (cg.dirs.length === 1) return cgProcs(cg.dirs[0]);
    const all = new Set<number>();
    for (const dir of cg.dirs) for (const pid of cgProcs(dir)) all.add(pid);
    return [...all];
  }

  memoryBytes(cg: Cgroup): number {
    return this.memory.usage(cg.paths.memory);
  }

  oomKills(cg: Cgroup): number {
    return this.memory.oomKills(cg.paths.memory);
  }

  destroy(cg: Cgroup): void {
    let first: unknown;
    for (const dir of [...cg.dirs].reverse()) {
      try {
        cgRmdir(dir);
      } catch (err) {
        first ??= err;
      }
    }
    this.written.delete(cg.name);
    if (first !== undefined) throw wrap(first, `Can't destroy cgroup ${cg.name}`, { op: 'cgroup.destroy' });
  }

  async removeStale(): Promise<number> {
    const rels = new Set<string>();
    for (const o of this.owns) for (const rel of cgWalk(this.tagDir(o.dir))) rels.add(rel);
    const keepDaemon = this.v2Controllers.length > 0;
    const order = [...rels]
      .filter((rel) => !(keepDaemon && rel.split('/')[0] === DAEMON_LEAF))
      .sort((a, b) => b.split('/').length - a.split('/').length);
    let removed = 0;
    for (const rel of order) {
      const cg = this.at(rel);
      try {
        this.thawEverywhere(cg);
        await this.kill(cg);
        this.destroy(cg);
      } catch (err) {
        throw wrap(err, `Can't remove stale cgroup ${rel} under ${this.tag}`, { op: 'cgroup.removeStale' });
      }
      removed++;
    }
    return removed;
  }

  /** a stale cgroup may have been frozen by either freezer (a v1-only run on a hybrid host, say): undo both */
  private thawEverywhere(cg: Cgroup): void {
    if (this.layout.controllers.freezer.version === 1 && cgExists(cg.paths.freezer, 'freezer.state')) {
      freezerV1.thaw(cg.paths.freezer);
    }
    if (cg.paths.unified !== undefined && cgExists(cg.paths.unified, 'cgroup.freeze')) {
      freezerV2.thaw(cg.paths.unified);
    }
  }

  async teardown(): Promise<void> {
    await this.removeStale();
    const keep = this.v2Controllers.length > 0 ? this.tagDir(this.ownDir.unified!) : undefined;
    for (const o of this.owns) {
      const dir = this.tagDir(o.dir);
      if (dir !== keep) cgRmdir(dir);
    }
  }

  info(): DriverInfo {
    const probe = this.at('');
    const unified = probe.paths.unified;
    const hasFreeze = unified !== undefined && cgExists(unified, 'cgroup.freeze');
    const hasKill = unified !== undefined && cgExists(unified, 'cgroup.kill');
    return {
      mode: this.mode,
      tag: this.tag,
      hierarchies: this.owns.map((o) => this.tagDir(o.dir)),
      memory: this.memory.version === 1 ? 'v1' : 'v2',
      cpu: this.cpu.version === 1 ? 'v1' : 'v2',
      freezer: this.freezerPart ? (this.freezerPart.version === 1 ? 'v1' : 'v2') : hasFreeze ? 'v2' : 'v1',
      killer: this.killerPart?.kind ?? (hasKill ? 'cgroup.kill' : 'freeze+SIGKILL'),
    };
  }
}

/** The one factory: a driver for this layout, keeping everything under <own>/<tag> in each hierarchy. */
export function createDriver(layout: CgroupLayout, tag: string, options: DriverOptions = {}): CgroupDriver {
  return new CgroupfsDriver(layout, tag, options);
}
