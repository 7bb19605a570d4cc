// The main-process side of the bridge: one ipcMain.handle per invoke channel of CHANNELS, each calling the
// service's typed client and answering with an envelope ({ok: true, value} or {ok: false, error}), which the
// preload turns back into a resolved value or a thrown Error; and one event subscription (GET /v1/events)
// shared by every window, with the connection state, reconnecting with backoff.

import { BrowserWindow, dialog, ipcMain, IpcMainInvokeEvent } from 'electron';
import type { SockpitClient } from '../../service/src/client';
import { SUITES } from '../../api';
import type { BenchmarkJob, BenchmarkSuite, BridgeError, SockpitBridge } from '../bridge';
import { CHANNELS } from '../bridge';
import { toBridgeError } from './service-link';

/** What every invoke channel answers: Electron would otherwise flatten a thrown error into "Error invoking
 *  remote method" and drop its code, status and detail. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: BridgeError };

/** The bridge methods that are invoke channels (onEvent / onConnection are main → renderer pushes). */
export type InvokeMethod = keyof typeof CHANNELS & keyof SockpitBridge;

type Result<K extends InvokeMethod> = Awaited<ReturnType<NonNullable<SockpitBridge[K]>>>;

/** The service calls the bridge makes. SockpitClient has them all (the benchmark ones since POST /v1/benchmarks). */
export interface ServiceClient {
  readonly socketPath: string;
  status: SockpitClient['status'];
  listFunctions: SockpitClient['listFunctions'];
  deploy: SockpitClient['deploy'];
  deployTar: SockpitClient['deployTar'];
  remove: SockpitClient['remove'];
  runRaw: SockpitClient['runRaw'];
  zygotes: SockpitClient['zygotes'];
  stats: SockpitClient['stats'];
  startBenchmark(suite: BenchmarkSuite, options?: { iterations?: number }): Promise<BenchmarkJob>;
  benchmarks(): Promise<BenchmarkJob[]>;
  followEvents: SockpitClient['followEvents'];
}

/** One handler per invoke channel; `args` come from the renderer and are checked here, not trusted. */
type Handlers = { [K in InvokeMethod]: (event: IpcMainInvokeEvent, args: unknown[]) => Promise<Result<K>> };

class BadArgument extends Error {
  override name = 'TypeError';
}

function text(value: unknown, what: string, max = 4096): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new BadArgument(`${what} must be a non-empty string of at most ${max} characters`);
  }
  return value;
}

function handlers(client: ServiceClient): Handlers {
  return {
    status: () => client.status(),
    listFunctions: () => client.listFunctions(),
    deploy: (_e, [name, source]) => {
      const fn = text(name, 'name', 256);
      if (source === null || typeof source !== 'object') throw new BadArgument('source must be {folder} or {archive, label}');
      const { folder, archive, label } = source as { folder?: unknown; archive?: unknown; label?: unknown };
      // read here, as the desktop user, and uploaded: the service never opens the path
      if (folder !== undefined) return client.deploy(fn, text(folder, 'folder'));
      if (!(archive instanceof Uint8Array)) throw new BadArgument('source.archive must be a Uint8Array (a tar stream)');
      return client.deployTar(fn, archive, label === undefined ? undefined : text(label, 'label', 512));
    },
    remove: (_e, [name]) => client.remove(text(name, 'name', 256)),
    run: (_e, [name, eventJson]) => {
      // the event is sent as typed: invalid JSON gets the service's own 400 (an empty text means null)
      if (typeof eventJson !== 'string') throw new BadArgument('eventJson must be a string');
      return client.runRaw(text(name, 'name', 256), eventJson.trim() === '' ? 'null' : eventJson);
    },
    zygotes: () => client.zygotes(),
    stats: () => client.stats(),
    startBenchmark: (_e, [suite, options]) => {
      if (!SUITES.includes(suite as BenchmarkSuite)) throw new BadArgument(`suite must be one of ${SUITES.join(', ')}`);
      let iterations: number | undefined;
      if (options !== undefined && options !== null) {
        if (typeof options !== 'object') throw new BadArgument('options must be an object');
        const it = (options as { iterations?: unknown }).iterations;
        if (it !== undefined && (!Number.isInteger(it) || (it as number) < 1)) throw new BadArgument('options.iterations must be a positive integer');
        iterations = it as number | undefined;
      }
      return client.startBenchmark(suite as BenchmarkSuite, iterations === undefined ? {} : { iterations });
    },
    benchmarks: () => client.benchmarks(),
    pickDirectory: async (event) => {
      const owner = BrowserWindow.fromWebContents(event.sender);
      const options = { title: 'Function folder', properties: ['openDirectory' as const] };
      const picked = owner ? await dialog.showOpenDialog(owner, options) : await dialog.showOpenDialog(options);
      return picked.canceled || picked.filePaths.length === 0 ? null : picked.filePaths[0];
    },
  };
}

export interface IpcOptions {
  /** the renderer's own URL prefix (file:///…/dist/renderer/): only frames loaded from it may call */
  trustedUrlPrefix: string;
  log?: (message: string) => void;
}

/** Registers every invoke channel; returns a function that removes them again. */
export function registerIpc(client: ServiceClient, opts: IpcOptions): () => void {
  const table = handlers(client);
  const channels: string[] = [];
  for (const method of Object.keys(table) as InvokeMethod[]) {
    const channel = CHANNELS[method];
    channels.push(channel);
    ipcMain.handle(channel, async (event, ...args: unknown[]): Promise<Envelope<unknown>> => {
      const url = event.senderFrame?.url ?? '';
      if (!url.startsWith(opts.trustedUrlPrefix)) {
        opts.log?.(`refused ${channel} from ${url || 'an unknown frame'}`);
        return { ok: false, error: { name: 'SecurityError', message: `${channel} is not available to ${url || 'this frame'}` } };
      }
      try {
        const handler = table[method] as (e: IpcMainInvokeEvent, a: unknown[]) => Promise<unknown>;
        return { ok: true, value: await handler(event, args) };
      } catch (err) {
        return { ok: false, error: toBridgeError(err, client.socketPath) };
      }
    });
  }
  return () => {
    for (const channel of channels) ipcMain.removeHandler(channel);
  };
}

/** Sends to every live window. */
export function broadcast(channel: string, payload: unknown): void {
  for (const win of BrowserWindow.getAllWindows()) {
    if (!win.isDestroyed() && !win.webContents.isDestroyed()) win.webContents.send(channel, payload);
  }
}
