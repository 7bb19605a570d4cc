// GET /metrics: the bus and the daemon's live sizes in the Prometheus text format, through prom-client on a
// registry of its own (the global default registry is left alone, so two daemons in one process or a test
// beside a daemon never mix their series).

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EventBus, Published } from './events';
import type { ZygoteStats } from '../zygotes/manager';
import { ZYGOTE_ACTIONS, totalMs } from './stats';

/** Live values read on every scrape. */
export interface GaugeValues {
  pool: { free: number; inUse: number };
  instances: { live: number; idle: number };
  zygotes: ZygoteStats;
  cache: { packages: number; bytes: number };
}

export interface Metrics {
  registry: Registry;
  contentType: string;
  text(): Promise<string>;
  /** stops listening to the bus */
  close(): void;
}

/** seconds: 0.5 ms to 10 s */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface MetricsOptions {
  /** collect the daemon's process metrics (sockpitd_*); default true */
  processMetrics?: boolean;
}

export function createMetrics(bus: EventBus, gauges: () => GaugeValues, opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  const registers = [registry];

  const invocations = new Counter({
    name: 'sockpit_invocations_total',
    help: 'Function invocations by tier, function and HTTP status',
    labelNames: ['tier', 'function', 'status'] as const,
    registers,
  });
  const latency = new Histogram({
    name: 'sockpit_invocation_seconds',
    help: 'Invocation latency (the total phase) by tier',
    labelNames: ['tier'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const phases = new Histogram({
    name: 'sockpit_phase_seconds',
    help: 'Duration of each phase of an invocation by tier',
    labelNames: ['tier', 'phase'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const zygoteEvents = new Counter({
    name: 'sockpit_zygote_events_total',
    help: 'Zygote lifecycle events by action',
    labelNames: ['action'] as const,
    registers,
  });
  const installs = new Counter({
    name: 'sockpit_installs_total',
    help: 'Package installs by result',
    labelNames: ['result'] as const,
    registers,
  });

  // the series exist (at 0) before the first event, so rate() and absent() work from the start
  for (const action of ZYGOTE_ACTIONS) zygoteEvents.inc({ action }, 0);
  installs.inc({ result: 'ok' }, 0);
  installs.inc({ result: 'failed' }, 0);

  // One read of the daemon's values per scrape: registry.metrics() calls every collect() in the same tick.
  let cached: GaugeValues | null = null;
  let failed = false;
  const read = (): GaugeValues | null => {
    if (cached === null && !failed) {
      try {
        cached = gauges();
      } catch {
        failed = true; // the gauges keep their last values rather than failing the whole scrape
      }
      queueMicrotask(() => {
        cached = null;
        failed = false;
      });
    }
    return cached;
  };

  new Gauge({
    name: 'sockpit_pool_cgroups',
    help: 'Cgroups of the pool by state',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const v = read();
      if (!v) return;
      this.set({ state: 'free' }, v.pool.free);
      this.set({ state: 'in_use' }, v.pool.inUse);
    },
  });
  new Gauge({
    name: 'sockpit_instances',
    help: 'Function instances by state (live: all, idle: kept warm)',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const v = read();
      if (!v) return;
      this.set({ state: 'live' }, v.instances.live);
      this.set({ state: 'idle' }, v.instances.idle);
    },
  });
  new Gauge({
    name: 'sockpit_zygotes',
    help: 'Live Zygotes',
    registers,
    collect() {
      const v = read();
      if (v) this.set(v.zygotes.count);
    },
  });
  new Gauge({
    name: 'sockpit_zygote_memory_bytes',
    help: 'Memory held by the live Zygotes',
    registers,
    collect() {
      const v = read();
      if (v) this.set(v.zygotes.memoryBytes);
    },
  });
  new Gauge({
    name: 'sockpit_package_cache_packages',
    help: 'Packages in the package cache',
    registers,
    collect() {
      const v = read();
      if (v) this.set(v.cache.packages);
    },
  });
  new Gauge({
    name: 'sockpit_package_cache_bytes',
    help: 'Size of the package cache',
    registers,
    collect() {
      const v = read();
      if (v) this.set(v.cache.bytes);
    },
  });

  if (opts.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'sockpitd_' });

  const onEvent = (e: Published): void => {
    switch (e.type) {
      case 'invocation': {
        invocations.inc({ tier: e.tier, function: e.function, status: String(e.status) });
        const total = totalMs(e.phases);
        if (Number.isFinite(total)) latency.observe({ tier: e.tier }, total / 1000);
        for (const [phase, ms] of Object.entries(e.phases)) {
          if (phase !== 'total' && Number.isFinite(ms)) phases.observe({ tier: e.tier, phase }, ms / 1000);
        }
        return;
      }
      case 'zygote':
        zygoteEvents.inc({ action: e.action });
        return;
      case 'install':
        installs.inc({ result: e.ok ? 'ok' : 'failed' });
        return;
      default:
        return;
    }
  };
  const unsubscribe = bus.subscribe((e) => {
    try {
      onEvent(e);
    } catch {
      // a malformed event must not break the producer that published it
    }
  });

  return {
    registry,
    contentType: registry.contentType,
    text: () => registry.metrics(),
    close: unsubscribe,
  };
}
