// The segments of a run's phase bar, from its Server-Timing phases: in the order they happen, with the part
// of the total no phase accounts for (request round trips, bookkeeping) as "other".

import { PHASES } from './tiers';

export interface Segment {
  name: string;
  ms: number;
  /** share of the total, 0..1 */
  share: number;
}

const ORDER = Object.keys(PHASES);

export function phaseSegments(timings: Record<string, number>): { segments: Segment[]; total: number } {
  const entries = Object.entries(timings).filter(([name, ms]) => name !== 'total' && Number.isFinite(ms) && ms >= 0);
  entries.sort(([a], [b]) => {
    const ia = ORDER.indexOf(a);
    const ib = ORDER.indexOf(b);
    return (ia === -1 ? ORDER.length : ia) - (ib === -1 ? ORDER.length : ib);
  });
  const sum = entries.reduce((acc, [, ms]) => acc + ms, 0);
  const total = Number.isFinite(timings.total) && timings.total >= sum ? timings.total : sum;
  const parts = entries.map(([name, ms]) => ({ name, ms }));
  const rest = total - sum;
  if (rest > 0.0005 && rest / (total || 1) > 0.001) parts.push({ name: 'other', ms: rest });
  return { segments: parts.map((p) => ({ ...p, share: total > 0 ? p.ms / total : 0 })), total };
}
