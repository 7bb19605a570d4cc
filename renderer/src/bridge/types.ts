// The renderer's view of the bridge: the shared types of main/bridge.ts, plus what the renderer reads
// defensively beyond them.

import type { RunResult } from '../../../main/bridge';

export type {
  BenchmarkJob,
  BenchmarkSuite,
  BridgeError,
  ConnectionState,
  DeploySource,
  FunctionInfo,
  Published,
  RunResult,
  SockpitBridge,
  StatsBody,
  StatusBody,
  ZygoteInfo,
} from '../../../main/bridge';
export type { SockpitEvent, Tier, InvocationEvent, ZygoteEvent, BenchmarkEvent } from '../../../service/src/telemetry/events';

/** A run as the panel shows it: the X-Sockpit-Zygote header, when an implementation passes it on. */
export type RunOutcome = RunResult & { zygote?: string | null };

/** Every event type of the stream (compile-time checked against the service's union). */
import type { SockpitEvent } from '../../../service/src/telemetry/events';
const TYPES: Record<SockpitEvent['type'], true> = {
  invocation: true,
  zygote: true,
  sandbox: true,
  pool: true,
  install: true,
  benchmark: true,
  function: true,
};
export const EVENT_TYPES = Object.keys(TYPES) as SockpitEvent['type'][];
