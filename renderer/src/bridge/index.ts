// The bridge the panel talks through: the Electron preload's `window.sockpit` when there is one, else HTTP +
// SSE to the `sockpit panel` server that served this page.

import { fromEnvelope } from './errors';
import { createHttpBridge } from './http';
import type { BridgeError, SockpitBridge } from './types';

declare global {
  interface Window {
    sockpit?: SockpitBridge;
  }
}

/** Electron's preload rejects with BridgeError envelopes (or Errors carrying them): make them real Errors. */
function withRebuiltErrors(bridge: SockpitBridge): SockpitBridge {
  const wrapped = { ...bridge } as SockpitBridge;
  const calls = ['status', 'listFunctions', 'deploy', 'remove', 'run', 'zygotes', 'stats', 'startBenchmark', 'benchmarks', 'pickDirectory'] as const;
  for (const key of calls) {
    const fn = bridge[key] as ((...args: unknown[]) => Promise<unknown>) | undefined;
    if (typeof fn !== 'function') continue;
    (wrapped as unknown as Record<string, unknown>)[key] = async (...args: unknown[]) => {
      try {
        return await fn.apply(bridge, args);
      } catch (err) {
        throw rebuild(err);
      }
    };
  }
  return wrapped;
}

export function rebuild(err: unknown): unknown {
  if (err && typeof err === 'object' && !(err instanceof Error) && typeof (err as BridgeError).message === 'string') {
    return fromEnvelope(err as BridgeError);
  }
  const inner = (err as { error?: unknown })?.error;
  if (inner && typeof inner === 'object' && typeof (inner as BridgeError).message === 'string' && !(inner instanceof Error)) {
    return fromEnvelope(inner as BridgeError);
  }
  return err;
}

export function pickBridge(): SockpitBridge {
  if (typeof window !== 'undefined' && window.sockpit) return withRebuiltErrors(window.sockpit);
  return createHttpBridge();
}

export type { SockpitBridge } from './types';
