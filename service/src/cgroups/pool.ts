// The cgroup pool (DESIGN "The cgroup pool"): pre-created cgroups handed out and taken back instead of a
// mkdir/rmdir per sandbox. PoolBook is the pure bookkeeping; CgroupPool does the I/O through a CgroupDriver.

import { errnoOf, SockpitError, wrap } from '../errors';
import type { Cgroup, CgroupDriver, Limits } from './driver';

export interface PoolStats {
  /** slots that exist (free + in use + being reset) */
  size: number;
  free: number;
  /** handed out, including those being reset after release */
  inUse: number;
  resetting: number;
}

function sameLimits(a: Limits | undefined, b: Limits): boolean {
  return a !== undefined && a.memoryBytes === b.memoryBytes && a.pids === b.pids && a.cpus === b.cpus;
}

/**
 * Pure bookkeeping of a pool of slots: a free list (last released is handed out first: its pages are warm),
 * the slots in use, the slots being reset, and the limits last written to each slot.
 */
export class PoolBook<S> {
  private readonly free: S[] = [];
  private readonly inUse = new Set<S>();
  private readonly resetting = new Set<S>();
  private readonly limits = new Map<S, Limits>();

  constructor(readonly max?: number) {
    if (max !== undefined && !(max >= 1)) throw new SockpitError('bad_request', `invalid pool max ${max}`);
  }

  get size(): number {
    return this.free.length + this.inUse.size + this.resetting.size;
  }

  /** true when a new slot may be created (nothing free and under max) */
  canGrow(): boolean {
    return this.max === undefined || this.size < this.max;
  }

  /** a newly created slot joins the free list */
  addFree(slot: S): void {
    this.free.push(slot);
  }

  /** a newly created slot handed out right away (growth) */
  addInUse(slot: S): void {
    this.inUse.add(slot);
  }

  /** hands out a free slot, or undefined when none is free */
  take(): S | undefined {
    const slot = this.free.pop();
    if (slot !== undefined) this.inUse.add(slot);
    return slot;
  }

  isInUse(slot: S): boolean {
    return this.inUse.has(slot);
  }

  /** whether acquiring `slot` with `limits` needs them written */
  needsLimits(slot: S, limits: Limits): boolean {
    return !sameLimits(this.limits.get(slot), limits);
  }

  recordLimits(slot: S, limits: Limits): void {
    this.limits.set(slot, { ...limits });
  }

  /** the limits on the slot are unknown (a write failed half-way) */
  forgetLimits(slot: S): void {
    this.limits.delete(slot);
  }

  /** a taken slot goes back unused (acquire failed before the caller got it) */
  untake(slot: S): void {
    if (!this.inUse.delete(slot)) throw new SockpitError('internal', 'pool slot was not in use');
    this.free.push(slot);
  }

  /** release starts: in use → resetting. Throws conflict when the slot is not in use (double release). */
  beginReset(slot: S): void {
    if (!this.inUse.delete(slot)) {
      throw new SockpitError('conflict', this.resetting.has(slot) ? 'cgroup is already being released' : 'cgroup is not in use');
    }
    this.resetting.add(slot);
  }

  /** reset succeeded: back to the free list */
  finishReset(slot: S): void {
    if (!this.resetting.delete(slot)) throw new SockpitError('internal', 'pool slot was not being reset');
    this.free.push(slot);
  }

  /** the slot leaves the pool for good (failed reset, or the pool stops): it is never handed out again */
  discard(slot: S): void {
    this.resetting.delete(slot);
    this.inUse.delete(slot);
    const i = this.free.indexOf(slot);
    if (i >= 0) this.free.splice(i, 1);
    this.limits.delete(slot);
  }

  slots(): S[] {
    return [...this.free, ...this.inUse, ...this.resetting];
  }

  stats(): PoolStats {
    return {
      size: this.size,
      free: this.free.length,
      inUse: this.inUse.size + this.resetting.size,
      resetting: this.resetting.size,
    };
  }
}

export interface PoolOptions {
  /** cgroups created by start(); default 0 */
  initial?: number;
  /** never more than this many cgroups; acquire fails with 'overloaded' beyond it */
  max?: number;
  /** false: no pool, acquire does mkdir and release kill + rmdir (the baseline the benchmark compares) */
  pooled?: boolean;
  /** called when a cgroup leaves the pool for good (so holders of its files can close them) */
  onDiscard?: (cg: Cgroup) => void;
}

/**
 * Hands out cgroups under the driver's <tag>. acquire() is synchronous; release() kills the members, waits until
 * the cgroup is empty, thaws it, and only then returns it to the free list. A slot that fails to reset is
 * destroyed and replaced, never handed out dirty.
 */
export class CgroupPool {
  readonly pooled: boolean;
  private readonly book: PoolBook<Cgroup>;
  private readonly initial: number;
  private seq = 0;
  private readonly onDiscard: (cg: Cgroup) => void;
  private state: 'new' | 'running' | 'stopped' = 'new';
  /** how many stale cgroups start() removed (a previous run crashed) */
  staleRemoved = 0;
  /** slots that could not even be removed after a failed reset */
  leaked = 0;

  constructor(
    private readonly driver: CgroupDriver,
    options: PoolOptions = {},
  ) {
    this.pooled = options.pooled ?? true;
    this.onDiscard = options.onDiscard ?? (() => {});
    this.initial = options.initial ?? 0;
    if (!(this.initial >= 0) || (options.max !== undefined && this.initial > options.max)) {
      throw new SockpitError('bad_request', `invalid pool size: initial ${this.initial}, max ${options.max}`);
    }
    this.book = new PoolBook<Cgroup>(options.max);
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new SockpitError('conflict', `cgroup pool already ${this.state}`);
    try {
      this.staleRemoved = await this.driver.removeStale();
      this.driver.setup();
      if (this.pooled) for (let i = 0; i < this.initial; i++) this.book.addFree(this.newCgroup());
    } catch (err) {
      throw wrap(err, "Can't start the cgroup pool", { op: 'cgroup.pool.start' });
    }
    this.state = 'running';
  }

  private newCgroup(): Cgroup {
    return this.driver.create(`${this.pooled ? 'pool' : 'sb'}-${this.seq++}`);
  }

  acquire(limits: Limits): Cgroup {
    if (this.state !== 'running') {
      throw new SockpitError('unavailable', `cgroup pool is ${this.state === 'new' ? 'not started' : 'stopped'}`);
    }
    for (;;) {
      let cg = this.book.take();
      if (cg === undefined) {
        if (!this.book.canGrow()) {
          throw new SockpitError('overloaded', `cgroup pool exhausted: all ${this.book.max} cgroups are in use`);
        }
        cg = this.newCgroup();
        this.book.addInUse(cg);
      }
      try {
        this.setLimits(cg, limits);
        return cg;
      } catch (err) {
        // removed under us (by hand, or by a daemon that ignored our lock): not an error of this call's
        const vanished = errnoOf(err) === 'ENOENT';
        if (this.pooled && !vanished) this.book.untake(cg);
        else this.dropQuietly(cg);
        if (!vanished) throw err;
        console.error(`sockpitd: cgroup ${cg.name} vanished from the pool; it is replaced`);
      }
    }
  }

  /** Sets the limits of a cgroup in use (one of a sandbox made before its function was known): only those
   *  that differ from the ones it has are written. */
  setLimits(cg: Cgroup, limits: Limits): void {
    if (!this.book.needsLimits(cg, limits)) return;
    try {
      this.driver.setLimits(cg, limits);
      this.book.recordLimits(cg, limits);
    } catch (err) {
      this.book.forgetLimits(cg);
      throw err;
    }
  }

  async release(cg: Cgroup): Promise<void> {
    this.book.beginReset(cg);
    if (!this.pooled) {
      try {
        await this.driver.kill(cg);
        this.driver.destroy(cg);
        this.discard(cg);
      } catch (err) {
        this.discard(cg);
        this.leaked++;
        throw wrap(err, `Can't release cgroup ${cg.name}`, { op: 'cgroup.release' });
      }
      return;
    }
    try {
      await this.driver.kill(cg);
      if (this.driver.freezeState(cg) !== 'thawed') this.driver.thaw(cg);
    } catch (err) {
      // never hand it out dirty: drop it, and keep the pool's size with a fresh one
      this.dropQuietly(cg);
      if (this.state === 'running') {
        try {
          this.book.addFree(this.newCgroup());
        } catch {
          // the pool grows again on demand
        }
      }
      throw wrap(err, `Can't reset cgroup ${cg.name}; it was taken out of the pool`, { op: 'cgroup.release' });
    }
    if (this.state === 'running') this.book.finishReset(cg);
    else this.dropQuietly(cg);
  }

  private discard(cg: Cgroup): void {
    this.book.discard(cg);
    this.onDiscard(cg);
  }

  private dropQuietly(cg: Cgroup): void {
    this.discard(cg);
    try {
      this.driver.destroy(cg);
    } catch {
      this.leaked++; // members left: removeStale() at the next start takes it
    }
  }

  stats(): PoolStats {
    return this.book.stats();
  }

  /** kills and removes every cgroup, then the <tag> directories */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    let first: unknown;
    for (const cg of this.book.slots()) {
      this.discard(cg);
      try {
        await this.driver.kill(cg);
        this.driver.destroy(cg);
      } catch (err) {
        first ??= err;
      }
    }
    try {
      await this.driver.teardown();
    } catch (err) {
      first ??= err;
    }
    if (first !== undefined) throw wrap(first, "Can't stop the cgroup pool", { op: 'cgroup.pool.stop' });
  }
}
