// The events of GET /v1/events (Server-Sent Events, `event: <type>`): what the daemon publishes on its bus after
// an operation took effect (service/src/telemetry/events.ts), and what the CLI and the panel follow.

import type { Tier } from './tiers';

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

export const ZYGOTE_ACTIONS = ['created', 'forked', 'evicted', 'died', 'frozen', 'thawed'] as const;

export interface ZygoteEvent {
  type: 'zygote';
  action: (typeof ZYGOTE_ACTIONS)[number];
  id: string;
  parent: string | null;
  /** name==version */
  packages: string[];
  /** for 'forked': what was forked (an instance for a function, or a child Zygote) */
  child?: { kind: 'instance' | 'zygote'; id: string; function?: string };
  reason?: string;
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

export type SockpitEvent = InvocationEvent | ZygoteEvent | InstallEvent | BenchmarkEvent | FunctionEvent;

/** A published event: the payload plus a sequence number and a timestamp. */
export type Published = SockpitEvent & { seq: number; at: string };

/** Every event type of the stream, in one list the `?types=` filter and the panel's EventSource go by. */
const TYPES: Record<SockpitEvent['type'], true> = { invocation: true, zygote: true, install: true, benchmark: true, function: true };
export const EVENT_TYPES = Object.keys(TYPES) as readonly SockpitEvent['type'][];
