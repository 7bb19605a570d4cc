// GET /v1/stats: per tier counts, errors and latency percentiles, hit rates, per function counters, Zygote and
// install counts (service/src/telemetry/stats.ts keeps them), and what the daemon adds (pool, package cache,
// instances, requests by peer).

import type { ZygoteEvent } from './events';
import type { Tier } from './tiers';

export interface TierStats {
  count: number;
  errors: number;
  /** latency of phases.total in ms over the last `window` calls of the tier; null before the first call */
  p50: number | null;
  p90: number | null;
  p99: number | null;
  /** mean of phases.total in ms over every call since start; null before the first call */
  mean: number | null;
  /** calls the percentiles were computed from (at most the window size) */
  window: number;
  /** mean duration in ms of each phase over every call since start that reported it */
  phases: Record<string, number>;
}

export interface FunctionStats {
  count: number;
  errors: number;
  byTier: Record<Tier, number>;
}

export type ZygoteCounts = Record<ZygoteEvent['action'], number>;

export interface InstallCounts {
  ok: number;
  failed: number;
  /** mean install time in ms; null before the first install */
  meanMs: number | null;
}

export interface PeerCounts {
  /** every request that got a response */
  requests: number;
  /** POST /run/:name */
  calls: number;
  /** responses with a status >= 400 */
  errors: number;
}

/** requests by peer (SO_PEERCRED of each connection, service/src/api/peers.ts) */
export interface RequestCounts {
  /** connections accepted since start */
  connections: number;
  /** requests whose peer could not be identified (the connection was gone before we asked) */
  unidentified: number;
  /** by peer uid */
  byUid: Record<string, PeerCounts>;
}

export interface StatsBody {
  uptimeSeconds: number;
  invocations: {
    total: number;
    errors: number;
    byTier: Record<Tier, TierStats>;
    /** share of calls served by each tier, 0..1 (all 0 before the first call) */
    hitRates: Record<Tier, number>;
  };
  functions: Record<string, FunctionStats>;
  zygotes: ZygoteCounts & Record<string, unknown>;
  installs: InstallCounts;
  pool: unknown;
  cache: unknown;
  instances: unknown;
  /** requests by peer uid (SO_PEERCRED), added by the daemon */
  requests?: RequestCounts;
}
