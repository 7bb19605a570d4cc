// Whether sockpitd is reachable, from what the bridge's requests and event stream see. Free of I/O: the
// latest observation wins, and listeners hear only changes.

import type { ConnectionState } from './types';

/** The reason reported before the first request or stream answered. */
export const CONNECTING = 'connecting';

export class ConnectionTracker {
  private current: ConnectionState = { state: 'disconnected', reason: CONNECTING };
  private readonly listeners = new Set<(state: ConnectionState) => void>();

  get state(): ConnectionState {
    return this.current;
  }

  /** the service answered (any HTTP status it produced itself, or the stream opened) */
  ok(): void {
    this.set({ state: 'connected' });
  }

  /** a request or the stream could not reach the service */
  failed(reason: string): void {
    this.set({ state: 'disconnected', reason });
  }

  /** the panel server refused this browser: it has no valid sign-in cookie */
  signedOut(reason: string): void {
    this.set({ state: 'signed-out', reason });
  }

  /** calls back at once with the current state, then on every change; returns the unsubscribe function */
  subscribe(listener: (state: ConnectionState) => void): () => void {
    this.listeners.add(listener);
    listener(this.current);
    return () => {
      this.listeners.delete(listener);
    };
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  private set(next: ConnectionState): void {
    const prev = this.current;
    if (sameConnection(prev, next)) return;
    this.current = next;
    for (const l of [...this.listeners]) l(next);
  }
}

export function sameConnection(a: ConnectionState, b: ConnectionState): boolean {
  return a.state === b.state && (a.state === 'connected' || (b.state !== 'connected' && a.reason === b.reason));
}

/** The banner's sentence for a disconnected state: "Can't reach sockpitd at /run/... — retrying". */
export function describeDisconnection(reason: string): string {
  if (reason === CONNECTING) return 'Connecting to sockpitd…';
  const trimmed = reason.trim().replace(/[.\s]+$/, '');
  if (/^can['’]t reach/i.test(trimmed)) return `${trimmed[0].toUpperCase()}${trimmed.slice(1)} — retrying`;
  return `Can't reach sockpitd (${trimmed}) — retrying`;
}

/** Delay before the n-th consecutive reconnection attempt (0-based): 1 s, 2 s, 4 s, then every 5 s. */
export function retryDelayMs(attempt: number): number {
  return Math.min(5000, 1000 * 2 ** Math.max(0, attempt));
}
