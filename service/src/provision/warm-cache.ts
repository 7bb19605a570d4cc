// The warm tier's bookkeeping: idle (frozen) instances by function, least-recently-used first out when the
// memory budget or the idle time-to-live is exceeded. Pure: items are opaque, memory and clock are passed in.

export interface IdleEntry<T> {
  item: T;
  key: string;
  memoryBytes: number;
  idleSince: number;
}

export class WarmCache<T> {
  /** insertion order = least recently used first (a Map keeps it) */
  private readonly entries = new Map<T, IdleEntry<T>>();

  constructor(private readonly budgetBytes: number, private readonly ttlMs: number) {}

  get size(): number {
    return this.entries.size;
  }

  get memoryBytes(): number {
    let total = 0;
    for (const e of this.entries.values()) total += e.memoryBytes;
    return total;
  }

  /** Parks an idle item; returns what must be evicted to stay within the budget (never the item just added
   *  unless it alone exceeds the budget). */
  put(item: T, key: string, memoryBytes: number, now: number): T[] {
    this.entries.delete(item);
    this.entries.set(item, { item, key, memoryBytes, idleSince: now });
    const evicted: T[] = [];
    let total = this.memoryBytes;
    for (const e of this.entries.values()) {
      if (total <= this.budgetBytes) break;
      this.entries.delete(e.item);
      total -= e.memoryBytes;
      evicted.push(e.item);
    }
    return evicted;
  }

  /** Takes the most recently parked idle item for a key, or null. */
  take(key: string): T | null {
    let found: IdleEntry<T> | null = null;
    for (const e of this.entries.values()) if (e.key === key) found = e;
    if (!found) return null;
    this.entries.delete(found.item);
    return found.item;
  }

  /** Removes one item (it died, or its function was redeployed); true if it was there. */
  remove(item: T): boolean {
    return this.entries.delete(item);
  }

  /** Removes and returns every item matching a predicate on its key. */
  removeWhere(match: (key: string) => boolean): T[] {
    const out: T[] = [];
    for (const e of [...this.entries.values()]) {
      if (match(e.key)) {
        this.entries.delete(e.item);
        out.push(e.item);
      }
    }
    return out;
  }

  /** Removes and returns items idle for longer than the time-to-live. */
  expire(now: number): T[] {
    const out: T[] = [];
    for (const e of [...this.entries.values()]) {
      if (now - e.idleSince <= this.ttlMs) continue;
      this.entries.delete(e.item);
      out.push(e.item);
    }
    return out;
  }

  items(): IdleEntry<T>[] {
    return [...this.entries.values()];
  }
}
