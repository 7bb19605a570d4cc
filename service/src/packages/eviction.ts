// Which packages leave the cache to make room for a new one: least recently used first, never one that a
// deployed function (or a deploy in progress) uses. Pure.

export interface CachedPackage {
  key: string;
  sizeBytes: number;
  /** ms since the epoch of its last install or resolution */
  lastUsed: number;
}

/**
 * The packages to evict so that `usedBytes - evicted + neededBytes <= maxBytes`, oldest use first, or null when
 * even evicting every package not in `keep` leaves too little room.
 */
export function pickEvictions(packages: readonly CachedPackage[], keep: ReadonlySet<string>, usedBytes: number, neededBytes: number, maxBytes: number): CachedPackage[] | null {
  let used = usedBytes;
  const victims: CachedPackage[] = [];
  const candidates = packages.filter((p) => !keep.has(p.key)).sort((a, b) => a.lastUsed - b.lastUsed || (a.key < b.key ? -1 : 1));
  for (const p of candidates) {
    if (used + neededBytes <= maxBytes) break;
    victims.push(p);
    used -= p.sizeBytes;
  }
  return used + neededBytes <= maxBytes ? victims : null;
}
