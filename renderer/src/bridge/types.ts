// The renderer's view of the bridge: the bridge's interface (main/bridge.ts) and the API contract's wire types
// (api/), plus what the renderer reads defensively beyond them.

import type { RunResult } from '../../../api';

export type { BridgeError, ConnectionState, DeploySource, SockpitBridge } from '../../../main/bridge';
export type {
  BenchmarkEvent,
  BenchmarkJob,
  BenchmarkSuite,
  FunctionInfo,
  InvocationEvent,
  Published,
  RunResult,
  SockpitEvent,
  StatsBody,
  StatusBody,
  Tier,
  ZygoteEvent,
  ZygoteInfo,
} from '../../../api';
export { EVENT_TYPES } from '../../../api';

/** A run as the panel shows it: the X-Sockpit-Zygote header, when an implementation passes it on. */
export type RunOutcome = RunResult & { zygote?: string | null };
