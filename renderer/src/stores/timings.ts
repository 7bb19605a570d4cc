// Invocation latencies as they happen (from `invocation` events; the last MAX_POINTS kept) and the daemon's
// own percentiles and hit rates (GET /v1/stats, refreshed).

import { createStore } from 'zustand/vanilla';
import { errorMessage } from '../bridge/errors';
import type { Published, SockpitBridge, StatsBody, Tier } from '../bridge/types';
import { isTier } from '../lib/tiers';

export interface Point {
  seq: number;
  /** ms since epoch */
  t: number;
  tier: Tier;
  function: string;
  /** phases.total in ms */
  ms: number;
  status: number;
  error: string | null;
  zygote: string | null;
}

export interface TimingsStore {
  points: Point[];
  max: number;
  stats: StatsBody | null;
  statsError: string | null;
  onEvent(event: Published): void;
  refreshStats(): Promise<void>;
  clear(): void;
}

export const MAX_POINTS = 500;

export function pointFromEvent(e: Published): Point | null {
  if (e.type !== 'invocation' || !isTier(e.tier)) return null;
  const t = Date.parse(e.at);
  const phases = e.phases ?? {};
  let ms = typeof phases.total === 'number' ? phases.total : NaN;
  if (!Number.isFinite(ms)) ms = Object.values(phases).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  if (!Number.isFinite(t) || !Number.isFinite(ms)) return null;
  return { seq: e.seq, t, tier: e.tier, function: e.function, ms, status: e.status, error: e.error, zygote: e.zygote };
}

/** Appends in time order, drops a duplicate (the same seq at the same instant), keeps the newest `max`. */
export function appendPoint(points: readonly Point[], p: Point, max = MAX_POINTS): Point[] {
  for (let i = points.length - 1; i >= 0 && i >= points.length - 50; i--) {
    if (points[i].seq === p.seq && points[i].t === p.t) return points as Point[];
  }
  const next = [...points, p];
  if (next.length > 1 && next[next.length - 2].t > p.t) next.sort((a, b) => a.t - b.t);
  return next.length > max ? next.slice(next.length - max) : next;
}

export function createTimingsStore(bridge: Pick<SockpitBridge, 'stats'>, max = MAX_POINTS) {
  return createStore<TimingsStore>()((set, get) => ({
    points: [],
    max,
    stats: null,
    statsError: null,
    onEvent(event) {
      const p = pointFromEvent(event);
      if (p) set({ points: appendPoint(get().points, p, get().max) });
    },
    async refreshStats() {
      try {
        set({ stats: await bridge.stats(), statsError: null });
      } catch (err) {
        set({ statsError: errorMessage(err) });
      }
    },
    clear() {
      set({ points: [] });
    },
  }));
}
