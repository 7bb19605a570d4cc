// The web-mode bridge: fetch to the same-origin /api/... paths that `sockpit panel` proxies to sockpitd's
// socket, and an EventSource on /api/v1/events that reconnects by itself (Last-Event-ID while the browser
// retries, ?since=<last seq> when it had to start a new stream). Connection state comes from what both see:
// the panel server answers 503 with X-Sockpit-Unreachable when the daemon is down, 401 with X-Sockpit-Signed-Out
// when this browser has not signed in with the panel's token (or the panel restarted with a new one), and fetch
// itself fails when the panel server is gone.

import {
  PANEL_API_PREFIX,
  PANEL_HEADER,
  parseServerTiming,
  SANDBOX_HEADER,
  SERVER_TIMING_HEADER,
  SIGNED_OUT_HEADER,
  SOURCE_HEADER,
  TIER_HEADER,
  UNREACHABLE_HEADER,
  ZYGOTE_HEADER,
} from '../../../api';
import { ConnectionTracker, retryDelayMs } from './connection';
import { fromHttp, SockpitError } from './errors';
import {
  EVENT_TYPES,
  type BenchmarkJob,
  type BenchmarkSuite,
  type ConnectionState,
  type DeploySource,
  type FunctionInfo,
  type Published,
  type RunOutcome,
  type SockpitBridge,
  type StatsBody,
  type StatusBody,
  type ZygoteInfo,
} from './types';


/** The part of EventSource the bridge uses (a fake in tests). */
export interface EventSourceLike {
  readonly readyState: number;
  onopen: ((ev: Event) => unknown) | null;
  onerror: ((ev: Event) => unknown) | null;
  addEventListener(type: string, listener: (ev: MessageEvent) => void): void;
  close(): void;
}

export interface HttpBridgeOptions {
  /** prefix of the API paths (default /api) */
  base?: string;
  fetch?: typeof fetch;
  EventSource?: new (url: string) => EventSourceLike;
  /** what to call the panel server in messages (default: the page's origin) */
  panelName?: string;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
}

const CLOSED = 2;

export function createHttpBridge(options: HttpBridgeOptions = {}): SockpitBridge {
  const base = options.base ?? PANEL_API_PREFIX;
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  const EventSourceImpl = options.EventSource ?? (globalThis.EventSource as unknown as new (url: string) => EventSourceLike);
  const later = options.setTimeout ?? ((fn: () => void, ms: number) => globalThis.setTimeout(fn, ms));
  const cancel = options.clearTimeout ?? ((h: unknown) => globalThis.clearTimeout(h as number));
  const panelName = options.panelName ?? (typeof location !== 'undefined' ? location.origin : 'the panel server');
  const connection = new ConnectionTracker();

  /** One request. Throws (and reports disconnected) when the service can't be reached; any answer of the
   *  service itself, errors included, means it is reachable. */
  async function send(method: string, path: string, body?: string | Uint8Array, contentType = 'application/json', extra: Record<string, string> = {}): Promise<Response> {
    let res: Response;
    try {
      const headers: Record<string, string> = { ...extra, [PANEL_HEADER]: '1' };
      if (body !== undefined) headers['content-type'] = contentType;
      res = await doFetch(`${base}${path}`, { method, headers, body: body as BodyInit | undefined });
    } catch (err) {
      const reason = `can't reach the panel server at ${panelName} (is \`sockpit panel\` running?)`;
      connection.failed(reason);
      throw new SockpitError({ name: 'UnavailableError', message: reason, code: 'unavailable', detail: String(err) });
    }
    if (res.status === 503 && res.headers.get(UNREACHABLE_HEADER)) {
      const error = fromHttp(res.status, await res.text());
      connection.failed(error.message);
      throw error;
    }
    if (res.status === 401 && res.headers.get(SIGNED_OUT_HEADER)) {
      const error = fromHttp(res.status, await res.text());
      connection.signedOut(error.message);
      throw error;
    }
    connection.ok();
    return res;
  }

  async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await send(method, path, body === undefined ? undefined : JSON.stringify(body));
    const text = await res.text();
    if (!res.ok) throw fromHttp(res.status, text);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  const name = (n: string) => encodeURIComponent(n);

  // --- the event stream: one EventSource shared by every listener, open while anyone listens ---
  const eventListeners = new Set<(event: Published) => void>();
  let source: EventSourceLike | null = null;
  let lastSeq: number | null = null;
  let attempt = 0;
  let reopenTimer: unknown = null;
  let probing = false;

  function wanted(): boolean {
    return eventListeners.size > 0 || connection.listenerCount > 0;
  }

  function open(): void {
    if (source || reopenTimer !== null || !wanted()) return;
    // ?since=0 first: the events the daemon still keeps (recent invocations for the charts); afterwards
    // from the last one seen. A reconnecting EventSource sends Last-Event-ID itself, which the daemon prefers.
    const es = new EventSourceImpl(`${base}/v1/events?since=${lastSeq ?? 0}`);
    source = es;
    es.onopen = () => {
      attempt = 0;
      connection.ok();
    };
    es.onerror = () => {
      if (es.readyState === CLOSED) {
        // the browser gave up on this stream (a 503 or 401 from the panel server, a wrong answer): start another
        // later (signed out, it recovers by itself once this browser signs in, in another tab)
        es.close();
        if (source === es) source = null;
        scheduleReopen();
      }
      // why did it fail? a plain request tells (and says so in the connection state)
      probe();
    };
    for (const type of EVENT_TYPES) {
      es.addEventListener(type, (m: MessageEvent) => {
        let event: Published;
        try {
          event = JSON.parse(String(m.data)) as Published;
        } catch {
          return;
        }
        if (typeof event.seq === 'number') lastSeq = event.seq;
        for (const l of [...eventListeners]) {
          try {
            l(event);
          } catch (err) {
            console.error('sockpit: an event listener threw', err);
          }
        }
      });
    }
  }

  function scheduleReopen(): void {
    if (reopenTimer !== null || !wanted()) return;
    const delay = retryDelayMs(attempt++);
    reopenTimer = later(() => {
      reopenTimer = null;
      open();
    }, delay);
  }

  function probe(): void {
    if (probing) return;
    probing = true;
    send('GET', '/v1/status')
      .then((res) => res.body?.cancel())
      .catch(() => undefined)
      .finally(() => {
        probing = false;
      });
  }

  function closeIfUnwanted(): void {
    if (wanted()) return;
    source?.close();
    source = null;
    if (reopenTimer !== null) cancel(reopenTimer);
    reopenTimer = null;
  }

  return {
    status: () => json<StatusBody>('GET', '/v1/status'),
    listFunctions: async () => (await json<{ functions: FunctionInfo[] }>('GET', '/v1/functions')).functions,
    deploy: async (fn: string, source: DeploySource) => {
      // a browser has no paths to give: it uploads what the user picked, packed as a tar stream
      if (!('archive' in source)) throw new SockpitError({ name: 'TypeError', message: 'the web panel deploys an uploaded folder or zip, not a path', code: 'bad_request' });
      // where it came from, shown in the list (a label, never opened)
      const res = await send('PUT', `/v1/functions/${name(fn)}`, source.archive, 'application/x-tar', { [SOURCE_HEADER]: encodeURIComponent(source.label).slice(0, 512) });
      const text = await res.text();
      if (!res.ok) throw fromHttp(res.status, text);
      return JSON.parse(text) as FunctionInfo;
    },
    remove: async (fn: string) => {
      await json<void>('DELETE', `/v1/functions/${name(fn)}`);
    },
    run: async (fn: string, eventJson: string): Promise<RunOutcome> => {
      const res = await send('POST', `/run/${name(fn)}`, eventJson);
      return parseRun(res.status, res.headers, await res.text());
    },
    zygotes: async () => (await json<{ zygotes: ZygoteInfo[] }>('GET', '/v1/zygotes')).zygotes,
    stats: () => json<StatsBody>('GET', '/v1/stats'),
    startBenchmark: async (suite: BenchmarkSuite, opts?: { iterations?: number }) =>
      unwrapJob(await json<unknown>('POST', '/v1/benchmarks', { suite, ...(opts?.iterations ? { iterations: opts.iterations } : {}) })),
    benchmarks: async () => unwrapJobs(await json<unknown>('GET', '/v1/benchmarks')),
    onEvent(listener: (event: Published) => void): () => void {
      eventListeners.add(listener);
      open();
      return () => {
        eventListeners.delete(listener);
        closeIfUnwanted();
      };
    },
    onConnection(listener: (state: ConnectionState) => void): () => void {
      const off = connection.subscribe(listener);
      open();
      return () => {
        off();
        closeIfUnwanted();
      };
    },
  };
}

/** A RunResult from POST /run/:name's answer: the function's value on 200, the error body otherwise. */
export function parseRun(status: number, headers: Headers, text: string): RunOutcome {
  const out: RunOutcome = {
    status,
    tier: headers.get(TIER_HEADER),
    sandbox: headers.get(SANDBOX_HEADER),
    zygote: headers.get(ZYGOTE_HEADER),
    timings: parseServerTiming(headers.get(SERVER_TIMING_HEADER)),
  };
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = status === 200 ? text : null;
    }
  }
  if (status === 200) out.result = parsed;
  else {
    const error = (parsed as { error?: RunOutcome['error'] } | null)?.error;
    out.error = error && typeof error.message === 'string' ? error : ({ code: 'internal', message: `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}` } as RunOutcome['error']);
  }
  return out;
}


/** POST /v1/benchmarks may answer the job itself or {job}. */
function unwrapJob(body: unknown): BenchmarkJob {
  const b = body as { job?: BenchmarkJob } | BenchmarkJob;
  return ((b as { job?: BenchmarkJob }).job ?? b) as BenchmarkJob;
}

/** GET /v1/benchmarks may answer a list or {benchmarks: [...]} ({jobs} also accepted). */
export function unwrapJobs(body: unknown): BenchmarkJob[] {
  if (Array.isArray(body)) return body as BenchmarkJob[];
  const b = body as { benchmarks?: unknown; jobs?: unknown } | null;
  if (b && Array.isArray(b.benchmarks)) return b.benchmarks as BenchmarkJob[];
  if (b && Array.isArray(b.jobs)) return b.jobs as BenchmarkJob[];
  return [];
}

export { parseServerTiming };
