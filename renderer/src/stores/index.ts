// The panel's stores, one per concern, made once over the bridge the page runs with, and the wiring that
// keeps them live: events go to the store they concern, and everything is reloaded whenever the connection
// comes (back) up.

import { useStore } from 'zustand';
import type { StoreApi } from 'zustand/vanilla';
import { pickBridge } from '../bridge';
import type { Published, SockpitBridge } from '../bridge/types';
import { throttle } from '../lib/throttle';
import { createBenchmarksStore } from './benchmarks';
import { createConnectionStore } from './connection';
import { createFunctionsStore } from './functions';
import { createTimingsStore } from './timings';
import { createZygotesStore } from './zygotes';

export function createStores(bridge: SockpitBridge) {
  return {
    bridge,
    connection: createConnectionStore(bridge),
    functions: createFunctionsStore(bridge),
    zygotes: createZygotesStore(bridge),
    timings: createTimingsStore(bridge),
    benchmarks: createBenchmarksStore(bridge),
  };
}

export type Stores = ReturnType<typeof createStores>;

/** Subscribes the stores to the bridge; returns the function that stops it all. */
export function wire(stores: Stores): () => void {
  const { bridge } = stores;
  const refreshStats = throttle(() => void stores.timings.getState().refreshStats(), 1000);
  const refreshStatus = throttle(() => void stores.connection.getState().refreshStatus(), 2000);
  const refreshFunctions = throttle(() => void stores.functions.getState().refresh(), 300);

  const reloadAll = () => {
    void stores.connection.getState().refreshStatus();
    void stores.functions.getState().refresh();
    void stores.zygotes.getState().refresh();
    void stores.timings.getState().refreshStats();
    void stores.benchmarks.getState().refresh();
  };

  let wasConnected = false;
  const offConnection = bridge.onConnection((state) => {
    stores.connection.getState().setConnection(state);
    const connected = state.state === 'connected';
    if (connected && !wasConnected) reloadAll();
    wasConnected = connected;
  });

  const offEvents = bridge.onEvent((e: Published) => {
    switch (e.type) {
      case 'invocation':
        stores.timings.getState().onEvent(e);
        stores.functions.getState().onEvent(e);
        refreshStats();
        return;
      case 'zygote':
        stores.zygotes.getState().onEvent(e);
        refreshStatus();
        return;
      case 'function':
        refreshFunctions();
        refreshStatus();
        return;
      case 'benchmark':
        stores.benchmarks.getState().onEvent(e);
        return;
      default:
        return;
    }
  });

  // the percentiles move with every call, the uptime with time
  const timer = setInterval(() => {
    if (stores.connection.getState().connection.state !== 'connected') return;
    void stores.timings.getState().refreshStats();
    void stores.connection.getState().refreshStatus();
  }, 5000);

  return () => {
    offConnection();
    offEvents();
    clearInterval(timer);
    refreshStats.cancel();
    refreshStatus.cancel();
    refreshFunctions.cancel();
  };
}

let app: Stores | null = null;

/** The page's stores (made on first use, over window.sockpit or HTTP). */
export function stores(): Stores {
  if (!app) app = createStores(pickBridge());
  return app;
}

type Selected<S, T> = (state: S) => T;
const use = <S, T>(store: StoreApi<S>, selector: Selected<S, T>) => useStore(store, selector);

export const useConnection = <T,>(sel: Selected<ReturnType<Stores['connection']['getState']>, T>) => use(stores().connection, sel);
export const useFunctions = <T,>(sel: Selected<ReturnType<Stores['functions']['getState']>, T>) => use(stores().functions, sel);
export const useZygotes = <T,>(sel: Selected<ReturnType<Stores['zygotes']['getState']>, T>) => use(stores().zygotes, sel);
export const useTimings = <T,>(sel: Selected<ReturnType<Stores['timings']['getState']>, T>) => use(stores().timings, sel);
export const useBenchmarks = <T,>(sel: Selected<ReturnType<Stores['benchmarks']['getState']>, T>) => use(stores().benchmarks, sel);
