// The preload: exposes exactly SockpitBridge as `window.sockpit`, over IPC to the main process (ipc.ts).
// It runs sandboxed, where `require` knows only 'electron': so it imports nothing else at run time (the other
// imports are types, erased by the compiler) and keeps its own copy of the channel names, checked against
// CHANNELS by the type checker.

import { contextBridge, ipcRenderer, IpcRendererEvent } from 'electron';
import type { BenchmarkSuite, BridgeError, CHANNELS, ConnectionState, DeploySource, Published, SockpitBridge } from '../bridge';
import type { Envelope, InvokeMethod } from './ipc';

// `typeof CHANNELS` is the exact literal map: a name that differs from bridge.ts fails to compile
const CH: typeof CHANNELS = {
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
  event: 'events:event',
  connection: 'events:connection',
};

type Result<K extends InvokeMethod> = Awaited<ReturnType<NonNullable<SockpitBridge[K]>>>;

/**
 * A failed call rejects with the envelope's BridgeError as a plain object, not an Error: the context bridge
 * copies an Error into the page's world with its message only (name, code, status and detail would be lost),
 * while a plain object crosses whole. The renderer's bridge (renderer/src/bridge) rebuilds it as a real Error.
 */
function failure(error: BridgeError): BridgeError {
  const out: BridgeError = { name: String(error.name || 'Error'), message: String(error.message) };
  if (error.code !== undefined) out.code = error.code;
  if (error.status !== undefined) out.status = error.status;
  if (error.detail !== undefined) out.detail = error.detail;
  return out;
}

async function call<K extends InvokeMethod>(method: K, ...args: unknown[]): Promise<Result<K>> {
  const reply = (await ipcRenderer.invoke(CH[method], ...args)) as Envelope<Result<K>>;
  if (!reply.ok) throw failure(reply.error);
  return reply.value;
}

// one IPC listener per kind, fanned out to the renderer's listeners; the last connection state is kept so that
// a new listener hears it at once
const eventListeners = new Set<(event: Published) => void>();
const connectionListeners = new Set<(state: ConnectionState) => void>();
let connection: ConnectionState | null = null;

function notify<T>(listeners: Set<(value: T) => void>, value: T): void {
  for (const listener of [...listeners]) {
    try {
      listener(value);
    } catch (err) {
      console.error('sockpit bridge listener failed:', err);
    }
  }
}

ipcRenderer.on(CH.event, (_e: IpcRendererEvent, event: Published) => notify(eventListeners, event));
ipcRenderer.on(CH.connection, (_e: IpcRendererEvent, state: ConnectionState) => {
  connection = state;
  notify(connectionListeners, state);
});

function subscribe<T>(listeners: Set<(value: T) => void>, listener: (value: T) => void): () => void {
  if (typeof listener !== 'function') throw new TypeError('listener must be a function');
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

const bridge: SockpitBridge = {
  status: () => call('status'),
  listFunctions: () => call('listFunctions'),
  deploy: (name: string, source: DeploySource) => call('deploy', name, source),
  remove: (name: string) => call('remove', name),
  run: (name: string, eventJson: string) => call('run', name, eventJson),
  zygotes: () => call('zygotes'),
  stats: () => call('stats'),
  startBenchmark: (suite: BenchmarkSuite, options?: { iterations?: number }) =>
    call('startBenchmark', suite, options?.iterations === undefined ? {} : { iterations: options.iterations }),
  benchmarks: () => call('benchmarks'),
  onEvent: (listener) => subscribe(eventListeners, listener),
  onConnection: (listener) => {
    const unsubscribe = subscribe(connectionListeners, listener);
    if (connection) listener(connection);
    return unsubscribe;
  },
  pickDirectory: () => call('pickDirectory'),
};

contextBridge.exposeInMainWorld('sockpit', bridge);
