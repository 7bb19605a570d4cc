// The one interface between the panel's renderer and the service. Two implementations: the Electron preload
// (window.sockpit, over IPC to the main process's SockpitClient) and HTTP + SSE (web mode, served by
// `sockpit panel`, which proxies to the socket). Types and channel names only: both sides import it. The wire
// types are the API contract's (api/).

import type { BenchmarkJob, BenchmarkSuite, FunctionInfo, Published, RunResult, StatsBody, StatusBody, ZygoteInfo } from '../api';

export type { BenchmarkJob, BenchmarkSuite, FunctionInfo, Published, RunResult, StatsBody, StatusBody, ZygoteInfo };

/** signed-out: the web panel's server refuses this browser until it signs in with the token (never in Electron) */
export type ConnectionState = { state: 'connected' } | { state: 'disconnected'; reason: string } | { state: 'signed-out'; reason: string };

/** Errors cross the bridge as this envelope and are rebuilt as Errors on the renderer side. */
export interface BridgeError {
  name: string;
  message: string;
  /** the API's error code (bad_request, not_found...), when the service answered */
  code?: string;
  status?: number;
  detail?: unknown;
}

/**
 * What a deploy sends. sockpitd never reads a folder itself: Electron's main process reads `folder` as the
 * desktop user and uploads it; a browser has no paths, so it packs what the user picked (a folder or a zip) into
 * `archive`, a tar stream, itself. `label` is only shown (where it came from).
 */
export type DeploySource = { folder: string } | { archive: Uint8Array; label: string };

export interface SockpitBridge {
  status(): Promise<StatusBody>;
  listFunctions(): Promise<FunctionInfo[]>;
  /** uploads a function folder (see DeploySource): the web bridge takes `archive` only */
  deploy(name: string, source: DeploySource): Promise<FunctionInfo>;
  remove(name: string): Promise<void>;
  /** invokes with a JSON event given as text (sent as it is: invalid JSON gets the service's 400) */
  run(name: string, eventJson: string): Promise<RunResult>;
  zygotes(): Promise<ZygoteInfo[]>;
  stats(): Promise<StatsBody>;
  startBenchmark(suite: BenchmarkSuite, options?: { iterations?: number }): Promise<BenchmarkJob>;
  benchmarks(): Promise<BenchmarkJob[]>;
  /** live events; reconnects by itself; returns the unsubscribe function */
  onEvent(listener: (event: Published) => void): () => void;
  /** whether the service is reachable right now; called at once with the current state */
  onConnection(listener: (state: ConnectionState) => void): () => void;
  /** a native folder picker where there is one (Electron); undefined in web mode */
  pickDirectory?: () => Promise<string | null>;
}

/** IPC channel names, `<area>:<method>`, one per bridge method that goes to the main process. */
export const CHANNELS = {
  status: 'service:status',
  listFunctions: 'functions:list',
  deploy: 'functions:deploy',
  remove: 'functions:remove',
  run: 'functions:run',
  zygotes: 'zygotes:list',
  stats: 'stats:get',
  startBenchmark: 'benchmarks:start',
  benchmarks: 'benchmarks:list',
  pickDirectory: 'dialog:pickDirectory',
  /** main → renderer */
  event: 'events:event',
  connection: 'events:connection',
} as const;
