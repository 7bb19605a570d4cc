// Connection to sockpitd: the bridge's reachability and the daemon's status line.

import { createStore } from 'zustand/vanilla';
import { CONNECTING, sameConnection } from '../bridge/connection';
import { errorMessage } from '../bridge/errors';
import type { ConnectionState, SockpitBridge, StatusBody } from '../bridge/types';

export interface ConnectionStore {
  connection: ConnectionState;
  /** when the current state began (ms since epoch) */
  since: number;
  status: StatusBody | null;
  statusError: string | null;
  setConnection(state: ConnectionState): void;
  refreshStatus(): Promise<void>;
}

export function createConnectionStore(bridge: Pick<SockpitBridge, 'status'>, now: () => number = Date.now) {
  return createStore<ConnectionStore>()((set, get) => ({
    connection: { state: 'disconnected', reason: CONNECTING },
    since: now(),
    status: null,
    statusError: null,
    setConnection(state) {
      const prev = get().connection;
      if (sameConnection(prev, state)) return;
      set({ connection: state, since: prev.state === state.state ? get().since : now() });
    },
    async refreshStatus() {
      try {
        set({ status: await bridge.status(), statusError: null });
      } catch (err) {
        set({ statusError: errorMessage(err) });
      }
    },
  }));
}
