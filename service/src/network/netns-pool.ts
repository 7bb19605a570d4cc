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
//
// Egress (egress.ts): with `egress` set, the namespaces the pool keeps ready each have their nftables rules and a
// slirp4netns process of their own, started ahead, so no call waits for either. The helper lives as long as its
// namespace is pooled or in use and is killed (by pid) when the namespace is closed; a helper that dies leaves
// its namespace without a way out, so that namespace is discarded (at once when free, on release when in use).
// Functions with `network: none` take a bare namespace (loopback only) from a small second free list.

import fs from 'node:fs';
import * as native from '../../../native';
import type { NetnsPoolStats } from '../../../api';
import { SockpitError, wrap } from '../errors';
import { EgressHelper, EgressOptions, startEgress, updateHostAddresses } from './egress';

export type { NetnsPoolStats } from '../../../api';

export interface NetnsPoolOptions {
  /** namespaces with egress kept ready (or bare ones without egress); the pool refills to this many after hand-outs */
  ready: number;
  /** never more than this many namespaces at once (free + in use + being made); acquire fails with 'overloaded' beyond */
  max: number;
  /** whether a released namespace may be handed out again (see the top of this file) */
  reuse: boolean;
  /** a user namespace fd: the namespaces are owned by it (so its root may setns into them); default ours.
   *  The pool takes it: it makes more namespaces with it until stop(), which closes it. */
  owner?: number;
  /** an egress path for every namespace but the bare ones; null: all loopback only */
  egress: EgressOptions | null;
  /** what the pool is for, in its error messages */
  name: string;
}

/** What a namespace is for: with an egress path, or loopback only. */
export type NetnsKind = 'egress' | 'bare';

interface Held {
  fd: number;
  kind: NetnsKind;
  helper: EgressHelper | null;
  /** the HostAddressWatch version its rules hold */
  hostVersion?: number;
}

/** How long after a hand-out the refill starts: the call that took one answers first (provisioner's reason). */
const REFILL_DELAY_MS = 10;
/** bare namespaces kept ready next to egress ones: few functions ask for `network: none` */
const BARE_READY = 2;

export class NetnsPool {
  private readonly free: Record<NetnsKind, Held[]> = { egress: [], bare: [] };
  private readonly inUse = new Map<number, Held>();
  private state: 'running' | 'stopped' = 'running';
  private refill: NodeJS.Timeout | null = null;
  /** namespaces being made ahead (and their egress started) off the JS thread: counted against max */
  private making = 0;
  /** namespaces with egress being made for an acquire() that found none (its own, not for waiters) */
  private makingOnDemand = 0;
  /** acquire() calls waiting for a namespace with egress that is being made */
  private readonly waiters: { resolve: (held: Held) => void; reject: (err: Error) => void }[] = [];
  private madeOnDemand = 0;
  private failed = 0;
  private readonly helpers = new Set<EgressHelper>();
  /** egress being started (ahead or on demand): helpersExited() waits for these */
  private readonly pending = new Set<Promise<unknown>>();
  /** updating the host addresses in the namespaces' rules; again: they changed once more meanwhile */
  private refreshing: Promise<void> | null = null;
  private refreshAgain = false;
  private readonly unwatch: () => void = () => {};

  /** Makes the namespaces kept ready: bare ones now, those with egress in the background (acquire waits for them). */
  constructor(private readonly opts: NetnsPoolOptions) {
    this.opts = { ...opts };
    if (!(opts.ready >= 0 && opts.max >= 1 && opts.ready <= opts.max)) {
      throw new SockpitError('bad_request', `invalid network namespace pool: ready ${opts.ready}, max ${opts.max}`);
    }
    try {
      while (this.free.bare.length < this.target('bare')) this.free.bare.push({ fd: this.make(), kind: 'bare', helper: null });
    } catch (err) {
      this.stop();
      throw err;
    }
    if (opts.egress) {
      this.unwatch = opts.egress.hosts.onChange(() => this.refreshHosts());
      for (let i = 0; i < opts.ready; i++) this.makeAhead('egress');
    }
  }

  /** A namespace fd for one sandbox, until release(). `bare`: loopback only (ol.yaml `network: none`). */
  async acquire(kind: NetnsKind = 'egress'): Promise<number> {
    if (this.state !== 'running') throw new SockpitError('unavailable', `the ${this.opts.name} network namespace pool is stopped`);
    const want = this.opts.egress ? kind : 'bare';
    let held = this.free[want].pop();
    if (!held && want === 'egress' && this.making > this.waiters.length) {
      held = await new Promise<Held>((resolve, reject) => this.waiters.push({ resolve, reject })); // one being made
    } else if (!held) {
      if (this.inUse.size + this.making + this.makingOnDemand >= this.opts.max) {
        throw new SockpitError('overloaded', `all ${this.opts.max} ${this.opts.name} network namespaces are in use`);
      }
      this.madeOnDemand++;
      held = want === 'bare' ? { fd: this.make(), kind: 'bare', helper: null } : await this.makeWithEgress(this.make(), true);
    }
    if (this.state !== 'running') {
      this.discard(held);
      throw new SockpitError('unavailable', `the ${this.opts.name} network namespace pool is stopped`);
    }
    this.inUse.set(held.fd, held);
    if (this.short()) this.scheduleRefill();
    return held.fd;
  }

  /** Takes a namespace back. reusable: false when some process of its sandbox may still be alive. */
  release(fd: number, { reusable = true } = {}): void {
    const held = this.inUse.get(fd);
    if (!held) throw new SockpitError('internal', `network namespace fd ${fd} is not in use`);
    this.inUse.delete(fd);
    const intact = held.helper === null || held.helper.alive();
    // Up to twice `ready` are kept: the hand-out that took this one had a fresh one made to replace it, and
    // keeping both means the next hand-out needs none made (a pool that tore down the surplus would make and
    // tear down one namespace per call).
    const list = this.free[held.kind];
    if (reusable && intact && this.opts.reuse && this.state === 'running' && list.length < 2 * Math.max(1, this.target(held.kind))) list.push(held);
    else {
      this.discard(held);
      if (this.short()) this.scheduleRefill();
    }
  }

  /** false once the egress helper of a namespace in use died: it has no way out any more */
  intact(fd: number): boolean {
    const helper = this.inUse.get(fd)?.helper;
    return !helper || helper.alive();
  }

  stats(): NetnsPoolStats {
    return {
      free: this.free[this.opts.egress ? 'egress' : 'bare'].length,
      freeBare: this.opts.egress ? this.free.bare.length : 0,
      inUse: this.inUse.size,
      starting: this.making + this.makingOnDemand,
      madeOnDemand: this.madeOnDemand,
      helpers: this.helpers.size,
      failed: this.failed,
    };
  }

  /** pids of the running egress helpers (for leak checks) */
  helperPids(): number[] {
    return [...this.helpers].map((h) => h.pid);
  }

  /** Closes every free namespace and kills its helper; those in use are closed as they come back. */
  stop(): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    if (this.refill) clearTimeout(this.refill);
    this.refill = null;
    this.unwatch();
    for (const held of [...this.free.egress.splice(0), ...this.free.bare.splice(0)]) this.discard(held);
    for (const w of this.waiters.splice(0)) w.reject(new SockpitError('unavailable', `the ${this.opts.name} network namespace pool is stopped`));
    this.closeOwnerWhenIdle();
  }

  /** Resolves once every helper running now has exited (after stop() and the release of those in use). */
  async helpersExited(): Promise<void> {
    // namespaces still being made get their helper killed as they finish (the pool is stopped); a host address
    // update still running has an nsenter of its own
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
    await this.refreshing;
    await Promise.all([...this.helpers].map((h) => h.exited));
  }

  private target(kind: NetnsKind): number {
    if (!this.opts.egress) return kind === 'bare' ? this.opts.ready : 0;
    return kind === 'egress' ? this.opts.ready : Math.min(BARE_READY, this.opts.ready);
  }

  private discard(held: Held): void {
    held.helper?.kill();
    fs.closeSync(held.fd);
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

  /** Starts the egress path of a new namespace; on failure the namespace is closed. onDemand: for an acquire(). */
  private async makeWithEgress(fd: number, onDemand = false): Promise<Held> {
    const counted = onDemand;
    if (counted) this.makingOnDemand++;
    let helper: EgressHelper;
    const hosts = this.opts.egress!.hosts;
    const hostVersion = hosts.version;
    const starting = startEgress(fd, this.opts.egress!, hosts.addresses);
    this.pending.add(starting);
    try {
      helper = await starting;
    } catch (err) {
      fs.closeSync(fd);
      this.failed++;
      throw wrap(err, `Can't start the egress of a ${this.opts.name} network namespace`, { op: 'netns.egress' });
    } finally {
      this.pending.delete(starting);
      if (counted) this.makingOnDemand--;
    }
    const held: Held = { fd, kind: 'egress', helper, hostVersion };
    this.helpers.add(helper);
    void helper.exited.then(() => this.helperExited(held));
    if (hostVersion !== hosts.version) queueMicrotask(() => this.refreshHosts()); // they changed while it started
    return held;
  }

  /**
   * Brings the host addresses of every namespace with egress (free and in use) up to date, one at a time, off
   * a call's path. A namespace is only touched while the pool still holds it: its fd number can't be another's.
   */
  private refreshHosts(): void {
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    const egress = this.opts.egress!;
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        const { version, addresses } = { version: egress.hosts.version, addresses: egress.hosts.addresses };
        for (const held of [...this.free.egress, ...this.inUse.values()]) {
          if (held.kind !== 'egress' || held.hostVersion === version || this.state !== 'running') continue;
          if (!this.free.egress.includes(held) && this.inUse.get(held.fd) !== held) continue; // let go meanwhile
          try {
            await updateHostAddresses(held.fd, egress, addresses);
            held.hostVersion = version;
          } catch (err) {
            // its rules still refuse the old addresses and every private range; it is not handed out again
            console.error(`sockpitd: Can't update the host's addresses in a ${this.opts.name} network namespace: ${(err as Error).message}`);
            held.helper?.kill();
          }
        }
      } while (this.refreshAgain && this.state === 'running');
    })().finally(() => (this.refreshing = null));
  }

  /** A helper is gone: killed by discard(), or crashed, which leaves its namespace no way out. */
  private helperExited(held: Held): void {
    this.helpers.delete(held.helper!);
    const list = this.free[held.kind];
    const at = list.indexOf(held);
    if (at < 0) return; // discarded already, or in use: release() sees it dead and discards it
    list.splice(at, 1);
    this.failed++;
    console.error(`sockpitd: the egress helper (slirp4netns, pid ${held.helper!.pid}) of a free ${this.opts.name} network namespace died; the namespace is discarded`);
    fs.closeSync(held.fd);
    if (this.short()) this.scheduleRefill();
  }

  private short(): boolean {
    return this.free.egress.length + this.making < this.target('egress') || this.free.bare.length < this.target('bare');
  }

  /** Makes one namespace off the JS thread (and starts its egress), then hands it to a waiting acquire or the free list. */
  private makeAhead(kind: NetnsKind): void {
    this.making++;
    const made = native
      .makeNetnsAsync(this.opts.owner)
      // no helper started for a pool stopped meanwhile: the namespace is only closed, below
      .then((fd): Held | Promise<Held> => (kind === 'egress' && this.state === 'running' ? this.makeWithEgress(fd) : { fd, kind, helper: null }))
      .then(
        (held) => {
          this.making--;
          if (this.state !== 'running') {
            this.discard(held);
            return this.closeOwnerWhenIdle();
          }
          const waiter = kind === 'egress' ? this.waiters.shift() : undefined;
          if (waiter) waiter.resolve(held);
          else this.free[kind].push(held);
          if (this.short()) this.scheduleRefill();
        },
        (err: Error) => {
          this.making--;
          this.closeOwnerWhenIdle();
          // a waiter counted on this one: it fails rather than waits for nothing
          while (this.waiters.length > this.making) this.waiters.pop()!.reject(wrap(err, `Can't make a ${this.opts.name} network namespace`));
          if (this.state !== 'running') return;
          console.error(`sockpitd: Can't make a ${this.opts.name} network namespace: ${err.message}`); // tried again at the next hand-out
        },
      );
    this.pending.add(made);
    void made.finally(() => this.pending.delete(made));
  }

  /** Refills one namespace at a time: the event loop only hands the fd over and starts the helper. */
  private scheduleRefill(): void {
    if (this.refill || this.making > 0 || this.state !== 'running') return;
    this.refill = setTimeout(() => {
      this.refill = null;
      if (this.state !== 'running' || !this.short() || this.free.egress.length + this.free.bare.length + this.inUse.size >= this.opts.max) return;
      this.makeAhead(this.free.bare.length < this.target('bare') ? 'bare' : 'egress');
    }, REFILL_DELAY_MS);
    this.refill.unref();
  }
}
