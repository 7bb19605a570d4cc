// The Zygote lineage: the tree from GET /v1/zygotes, refreshed on Zygote events; newly appeared nodes are
// marked fresh for a moment (the view highlights them); the last Zygote events as an activity list.

import { createStore } from 'zustand/vanilla';
import { errorMessage } from '../bridge/errors';
import type { Published, SockpitBridge, ZygoteEvent, ZygoteInfo } from '../bridge/types';

export interface Activity {
  seq: number;
  at: string;
  action: ZygoteEvent['action'];
  id: string;
  text: string;
}

export interface ZygotesStore {
  zygotes: ZygoteInfo[];
  loaded: boolean;
  error: string | null;
  selected: string | null;
  /** id → until when (ms since epoch) it is highlighted as new */
  fresh: Record<string, number>;
  activity: Activity[];
  refresh(): Promise<void>;
  select(id: string | null): void;
  onEvent(event: Published): void;
}

export const FRESH_MS = 2500;
export const MAX_ACTIVITY = 40;

/** Ids in `next` that were not in `prev` (none on the first load: everything is new then, nothing is news). */
export function appeared(prev: readonly ZygoteInfo[] | null, next: readonly ZygoteInfo[]): string[] {
  if (prev === null) return [];
  const known = new Set(prev.map((z) => z.id));
  return next.filter((z) => !known.has(z.id)).map((z) => z.id);
}

/** The fresh marks after a refresh: new ones added, expired ones dropped. */
export function updateFresh(fresh: Record<string, number>, ids: readonly string[], now: number, ttl = FRESH_MS): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [id, until] of Object.entries(fresh)) if (until > now) out[id] = until;
  for (const id of ids) out[id] = now + ttl;
  return out;
}

export function describeZygoteEvent(e: ZygoteEvent): string {
  const pkgs = e.packages.length ? e.packages.join(', ') : 'no packages (the base)';
  switch (e.action) {
    case 'created':
      return `Zygote ${e.id} created${e.parent ? ` from ${e.parent}` : ''}: ${pkgs}`;
    case 'forked':
      return e.child?.kind === 'zygote'
        ? `Zygote ${e.id} forked child Zygote ${e.child.id}`
        : `Zygote ${e.id} forked an instance${e.child?.function ? ` of ${e.child.function}` : ''}`;
    case 'evicted':
      return `Zygote ${e.id} evicted${e.reason ? ` (${e.reason})` : ''}`;
    case 'died':
      return `Zygote ${e.id} died${e.reason ? ` (${e.reason})` : ''}`;
    case 'frozen':
      return `Zygote ${e.id} frozen (idle)`;
    case 'thawed':
      return `Zygote ${e.id} thawed`;
    default:
      return `Zygote ${e.id} ${String(e.action)}`;
  }
}

export function addActivity(list: readonly Activity[], e: Published, max = MAX_ACTIVITY): Activity[] {
  if (e.type !== 'zygote') return list as Activity[];
  if (list.some((a) => a.seq === e.seq && a.at === e.at)) return list as Activity[];
  return [{ seq: e.seq, at: e.at, action: e.action, id: e.id, text: describeZygoteEvent(e) }, ...list].slice(0, max);
}

export function createZygotesStore(
  bridge: Pick<SockpitBridge, 'zygotes'>,
  opts: { now?: () => number; refreshDelayMs?: number; schedule?: (fn: () => void, ms: number) => unknown } = {},
) {
  const now = opts.now ?? Date.now;
  const delay = opts.refreshDelayMs ?? 150;
  const schedule = opts.schedule ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
  let pending = false;
  let previous: ZygoteInfo[] | null = null;

  return createStore<ZygotesStore>()((set, get) => ({
    zygotes: [],
    loaded: false,
    error: null,
    selected: null,
    fresh: {},
    activity: [],

    async refresh() {
      try {
        const zygotes = await bridge.zygotes();
        const t = now();
        const fresh = updateFresh(get().fresh, appeared(previous, zygotes), t);
        previous = zygotes;
        const selected = get().selected;
        set({ zygotes, loaded: true, error: null, fresh, selected: selected && zygotes.some((z) => z.id === selected) ? selected : null });
        // the highlight goes once it expires
        if (Object.keys(fresh).length) {
          schedule(() => set({ fresh: updateFresh(get().fresh, [], now()) }), FRESH_MS + 50);
        }
      } catch (err) {
        set({ error: errorMessage(err) });
      }
    },

    select(id) {
      set({ selected: id });
    },

    onEvent(event) {
      if (event.type !== 'zygote') return;
      // a replayed event of long ago is history, not news
      const recent = now() - Date.parse(event.at) < 10_000;
      set({ activity: addActivity(get().activity, event) });
      if (recent && event.action === 'created') set({ fresh: updateFresh(get().fresh, [event.id], now()) });
      // many forks in a burst make one refresh
      if (pending) return;
      pending = true;
      schedule(() => {
        pending = false;
        void get().refresh();
      }, delay);
    },
  }));
}
