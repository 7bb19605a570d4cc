// A pool of pre-made network namespaces (DESIGN "The edge of the box"): every sandbox gets one of its own, but
// making one costs ~1.7 ms here and tearing one down takes a kernel-wide lock, so none is made on a call's path.
// Each namespace is held by an open fd (native.makeNetns) and has loopback up and nothing else: no route out,
// nothing of the host (its loopback, its interfaces, link-local addresses, its abstract unix sockets) in it.
//
// Reuse: a namespace goes back to the free list only if no process with capabilities over it ever held it.
// Cold instances run unprivileged in namespaces owned by our user namespace, and every one of their processes
// is dead (the cgroup is empty) before release: they leave nothing but closed sockets. Namespaces handed to the
// Zygotes' world are owned by the Zygotes' user namespace, and their fds went through a Zygote, whose package
// code could keep one and later join the namespace of another function: those are closed on release, never
// reused (`reuse: false`); the pool makes fresh ones ahead instead.

import fs from 'node:fs';
import * as native from '../../../native';
import { SockpitError, wrap } from '../errors';

export interface NetnsPoolOptions {
  /** namespaces kept ready; the pool refills to this many after handing some out */
  ready: number;
  /** never more than this many namespaces at once (free + in use); acquire fails with 'overloaded' beyond */
  max: number;
  /** whether a released namespace may be handed out again (see the top of this file) */
  reuse: boolean;
  /** a user namespace fd: the namespaces are owned by it (so its root may setns into them); default ours.
   *  The pool takes it: it makes more namespaces with it until stop(), which closes it. */
  owner?: number;
  /** what the pool is for, in its error messages */
  name: string;
}

export interface NetnsPoolStats {
  free: number;
  inUse: number;
  /** made on a call's path because none was ready (the pool was drained faster than it refills) */
  madeOnDemand: number;
}

/** How long after a hand-out the refill starts: the call that took one answers first (provisioner's reason). */
const REFILL_DELAY_MS = 10;

export class NetnsPool {
  private readonly free: number[] = [];
  private readonly inUse = new Set<number>();
  private state: 'running' | 'stopped' = 'running';
  private refill: NodeJS.Timeout | null = null;
  /** a namespace being made on a worker thread (refills): counted against max */
  private making = 0;
  private madeOnDemand = 0;

  /** Makes `ready` namespaces now (at daemon start, or off a call's path). */
  constructor(private readonly opts: NetnsPoolOptions) {
    this.opts = { ...opts };
    if (!(opts.ready >= 0 && opts.max >= 1 && opts.ready <= opts.max)) {
      throw new SockpitError('bad_request', `invalid network namespace pool: ready ${opts.ready}, max ${opts.max}`);
    }
    try {
      while (this.free.length < opts.ready) this.free.push(this.make());
    } catch (err) {
      this.stop();
      throw err;
    }
  }

  /** A namespace fd for one sandbox, until release(). */
  acquire(): number {
    if (this.state !== 'running') throw new SockpitError('unavailable', `the ${this.opts.name} network namespace pool is stopped`);
    let fd = this.free.pop();
    if (fd === undefined) {
      if (this.inUse.size + this.making >= this.opts.max) {
        throw new SockpitError('overloaded', `all ${this.opts.max} ${this.opts.name} network namespaces are in use`);
      }
      fd = this.make();
      this.madeOnDemand++;
    }
    this.inUse.add(fd);
    if (this.short()) this.scheduleRefill();
    return fd;
  }

  /** Takes a namespace back. reusable: false when some process of its sandbox may still be alive. */
  release(fd: number, { reusable = true } = {}): void {
    if (!this.inUse.delete(fd)) throw new SockpitError('internal', `network namespace fd ${fd} is not in use`);
    // Up to twice `ready` are kept: the hand-out that took this one had a fresh one made to replace it, and
    // keeping both means the next hand-out needs none made (a pool that tore down the surplus would make and
    // tear down one namespace per call).
    if (reusable && this.opts.reuse && this.state === 'running' && this.free.length < 2 * Math.max(1, this.opts.ready)) this.free.push(fd);
    else {
      fs.closeSync(fd);
      if (this.short()) this.scheduleRefill();
    }
  }

  stats(): NetnsPoolStats {
    return { free: this.free.length, inUse: this.inUse.size, madeOnDemand: this.madeOnDemand };
  }

  /** Closes every free namespace; those in use are closed as they come back. */
  stop(): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    if (this.refill) clearTimeout(this.refill);
    this.refill = null;
    for (const fd of this.free.splice(0)) fs.closeSync(fd);
    this.closeOwnerWhenIdle();
  }

  /** The owner fd is closed once stopped and no worker uses it any more (its number could be reused under it). */
  private closeOwnerWhenIdle(): void {
    if (this.state === 'stopped' && this.making === 0 && this.opts.owner !== undefined) {
      fs.closeSync(this.opts.owner);
      this.opts.owner = undefined;
    }
  }

  private make(): number {
    try {
      return native.makeNetns(this.opts.owner);
    } catch (err) {
      throw wrap(err, `Can't make a ${this.opts.name} network namespace`, { op: 'netns.make' });
    }
  }

  private short(): boolean {
    return this.free.length < this.opts.ready;
  }

  /** Refills one namespace at a time, made on a worker thread: the event loop only hands the fd over. */
  private scheduleRefill(): void {
    if (this.refill || this.making > 0 || this.state !== 'running') return;
    this.refill = setTimeout(() => {
      this.refill = null;
      if (this.state !== 'running' || !this.short() || this.free.length + this.inUse.size >= this.opts.max) return;
      this.making++;
      native.makeNetnsAsync(this.opts.owner).then(
        (fd) => {
          this.making--;
          if (this.state !== 'running') {
            fs.closeSync(fd);
            return this.closeOwnerWhenIdle();
          }
          this.free.push(fd);
          this.scheduleRefill();
        },
        (err: Error) => {
          this.making--;
          this.closeOwnerWhenIdle();
          if (this.state !== 'running') return;
          console.error(`sockpitd: Can't make a ${this.opts.name} network namespace: ${err.message}`); // tried again at the next hand-out
        },
      );
    }, REFILL_DELAY_MS);
    this.refill.unref();
  }
}
