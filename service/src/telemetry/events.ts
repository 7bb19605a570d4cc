// Everything the daemon reports as it happens: one typed bus that the stats, the metrics, the SSE stream
// (GET /v1/events) and the panel all read from. Producers publish after an operation took effect.

import { EventEmitter } from 'node:events';

export type Tier = 'warm' | 'zygote' | 'cold';

export interface InvocationEvent {
  type: 'invocation';
  function: string;
  version: number;
  tier: Tier;
  /** id of the Zygote the instance was forked from (zygote tier) */
  zygote: string | null;
  sandbox: string;
  /** HTTP status the call answered with */
  status: number;
  /** error code when status is not 200 */
  error: string | null;
  /** phase durations in ms, including total */
  phases: Record<string, number>;
}

export interface ZygoteEvent {
  type: 'zygote';
  action: 'created' | 'forked' | 'evicted' | 'died' | 'frozen' | 'thawed';
  id: string;
  parent: string | null;
  /** name==version */
  packages: string[];
  /** for 'forked': what was forked (an instance for a function, or a child Zygote) */
  child?: { kind: 'instance' | 'zygote'; id: string; function?: string };
  reason?: string;
}

export interface SandboxEvent {
  type: 'sandbox';
  action: 'created' | 'destroyed' | 'frozen' | 'thawed';
  id: string;
  function: string | null;
}

export interface PoolEvent {
  type: 'pool';
  size: number;
  free: number;
  inUse: number;
}

export interface InstallEvent {
  type: 'install';
  package: string;
  ok: boolean;
  ms: number;
  error?: string;
}

export interface BenchmarkEvent {
  type: 'benchmark';
  id: string;
  suite: string;
  state: 'started' | 'progress' | 'finished' | 'failed';
  /** 0..1 */
  progress: number;
  message?: string;
}

export interface FunctionEvent {
  type: 'function';
  action: 'deployed' | 'removed';
  name: string;
  version: number | null;
}

export type SockpitEvent = InvocationEvent | ZygoteEvent | SandboxEvent | PoolEvent | InstallEvent | BenchmarkEvent | FunctionEvent;

/** A published event: the payload plus a sequence number and a timestamp. */
export type Published = SockpitEvent & { seq: number; at: string };

export class EventBus {
  private readonly emitter = new EventEmitter();
  private seq = 0;
  /** the last events, for a client that (re)connects and wants what it missed */
  private readonly recent: Published[] = [];

  constructor(private readonly keep = 500) {
    this.emitter.setMaxListeners(0);
  }

  publish(event: SockpitEvent): Published {
    const published = { ...event, seq: ++this.seq, at: new Date().toISOString() } as Published;
    this.recent.push(published);
    if (this.recent.length > this.keep) this.recent.shift();
    this.emitter.emit('event', published);
    return published;
  }

  /** Calls back for every event from now on; returns the unsubscribe function. */
  subscribe(listener: (event: Published) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /** Events after a sequence number still kept (for Last-Event-ID). */
  since(seq: number): Published[] {
    return this.recent.filter((e) => e.seq > seq);
  }
}
