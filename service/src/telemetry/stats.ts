// The numbers of GET /v1/stats, kept from the event bus and free of I/O: per tier counts, errors and latency
// percentiles over a bounded window, hit rates, per function counters, Zygote and install counts. The daemon
// adds what only it knows (pool, package cache, live Zygotes, instances) when it takes a snapshot.

import { percentile } from '../bench/stats';
import { TIERS, ZYGOTE_ACTIONS, type FunctionStats, type InstallCounts, type SockpitEvent, type StatsBody, type Tier, type TierStats, type ZygoteCounts } from '../../../api';
import type { EventBus } from './events';

export { TIERS, ZYGOTE_ACTIONS };
export type { FunctionStats, InstallCounts, StatsBody, TierStats, ZygoteCounts } from '../../../api';

/** What the daemon passes in: live sizes the bus does not carry. */
export interface StatsExtra {
  pool: unknown;
  cache: unknown;
  /** live Zygote figures (count, memory...), merged into `zygotes` beside the event counts */
  zygotes: Record<string, unknown>;
  instances: unknown;
}

export interface StatsOptions {
  /** latency samples kept per tier for the percentiles (default 1000) */
  window?: number;
  /** clock in ms, for tests (default Date.now) */
  now?: () => number;
}

/** A fixed-size ring of the last samples. */
class Window {
  private readonly buf: number[] = [];
  private next = 0;

  constructor(private readonly size: number) {}

  push(x: number): void {
    if (this.buf.length < this.size) this.buf.push(x);
    else this.buf[this.next] = x;
    this.next = (this.next + 1) % this.size;
  }

  get length(): number {
    return this.buf.length;
  }

  sorted(): number[] {
    return [...this.buf].sort((a, b) => a - b);
  }
}

interface TierState {
  count: number;
  errors: number;
  /** calls with a finite total: the mean's denominator */
  samples: number;
  totalSum: number;
  window: Window;
  phaseSums: Map<string, { sum: number; n: number }>;
}

export function isError(status: number, error: string | null): boolean {
  return error !== null || status < 200 || status >= 300;
}

export class Stats {
  private readonly startedAt: number;
  private readonly now: () => number;
  private readonly tiers: Record<Tier, TierState>;
  private readonly functions = new Map<string, FunctionStats>();
  private readonly zygotes: ZygoteCounts = { created: 0, forked: 0, evicted: 0, died: 0, frozen: 0, thawed: 0 };
  private readonly installs = { ok: 0, failed: 0, msSum: 0 };

  constructor(opts: StatsOptions = {}) {
    const size = opts.window ?? 1000;
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`Stats: window must be a positive integer, got ${size}`);
    this.now = opts.now ?? Date.now;
    this.startedAt = this.now();
    const tier = (): TierState => ({ count: 0, errors: 0, samples: 0, totalSum: 0, window: new Window(size), phaseSums: new Map() });
    this.tiers = { warm: tier(), zygote: tier(), cold: tier() };
  }

  /** Records every event published from now on; returns the unsubscribe function. */
  attach(bus: EventBus): () => void {
    return bus.subscribe((e) => this.record(e));
  }

  record(event: SockpitEvent): void {
    switch (event.type) {
      case 'invocation': {
        const t = this.tiers[event.tier];
        if (!t) return; // an unknown tier must not break the stats
        const failed = isError(event.status, event.error);
        t.count++;
        if (failed) t.errors++;
        const total = totalMs(event.phases);
        if (Number.isFinite(total)) {
          t.samples++;
          t.totalSum += total;
          t.window.push(total);
        }
        for (const [phase, ms] of Object.entries(event.phases)) {
          if (phase === 'total' || !Number.isFinite(ms)) continue;
          const acc = t.phaseSums.get(phase) ?? { sum: 0, n: 0 };
          acc.sum += ms;
          acc.n++;
          t.phaseSums.set(phase, acc);
        }
        let fn = this.functions.get(event.function);
        if (!fn) this.functions.set(event.function, (fn = { count: 0, errors: 0, byTier: { warm: 0, zygote: 0, cold: 0 } }));
        fn.count++;
        if (failed) fn.errors++;
        fn.byTier[event.tier]++;
        return;
      }
      case 'zygote':
        if (event.action in this.zygotes) this.zygotes[event.action]++;
        return;
      case 'install':
        if (event.ok) this.installs.ok++;
        else this.installs.failed++;
        if (Number.isFinite(event.ms)) this.installs.msSum += event.ms;
        return;
      case 'function':
        // a removed function's counters go with it, so they stay bounded by what is deployed
        if (event.action === 'removed') this.functions.delete(event.name);
        return;
      default:
        return;
    }
  }

  snapshot(extra: StatsExtra): StatsBody {
    const byTier = {} as Record<Tier, TierStats>;
    const hitRates = {} as Record<Tier, number>;
    let total = 0;
    let errors = 0;
    for (const tier of TIERS) {
      total += this.tiers[tier].count;
      errors += this.tiers[tier].errors;
    }
    for (const tier of TIERS) {
      const t = this.tiers[tier];
      const sorted = t.window.sorted();
      const pct = (p: number) => (sorted.length ? percentile(sorted, p) : null);
      const phases: Record<string, number> = {};
      for (const [phase, { sum, n }] of t.phaseSums) phases[phase] = sum / n;
      byTier[tier] = {
        count: t.count,
        errors: t.errors,
        p50: pct(50),
        p90: pct(90),
        p99: pct(99),
        mean: t.samples ? t.totalSum / t.samples : null,
        window: sorted.length,
        phases,
      };
      hitRates[tier] = total ? t.count / total : 0;
    }
    const functions: Record<string, FunctionStats> = {};
    for (const [name, f] of [...this.functions].sort(([a], [b]) => a.localeCompare(b))) {
      functions[name] = { count: f.count, errors: f.errors, byTier: { ...f.byTier } };
    }
    const installed = this.installs.ok + this.installs.failed;
    return {
      uptimeSeconds: (this.now() - this.startedAt) / 1000,
      invocations: { total, errors, byTier, hitRates },
      functions,
      zygotes: { ...extra.zygotes, ...this.zygotes },
      installs: { ok: this.installs.ok, failed: this.installs.failed, meanMs: installed ? this.installs.msSum / installed : null },
      pool: extra.pool,
      cache: extra.cache,
      instances: extra.instances,
    };
  }
}

/** phases.total, or the sum of the phases when a producer left it out */
export function totalMs(phases: Record<string, number>): number {
  if (typeof phases.total === 'number') return phases.total;
  let sum = 0;
  for (const ms of Object.values(phases)) sum += ms;
  return sum;
}
