// The app's one link to sockpitd's live side: the GET /v1/events subscription shared by every window and the
// connection state, reconnecting with backoff; and how errors are put into the bridge's envelope. Free of
// Electron at run time (it is handed a `send`), so it is unit-tested under plain Node.

import { ApiError } from '../../service/src/client';
import type { SockpitClient } from '../../service/src/client';
import type { BridgeError, ConnectionState, Published } from '../bridge';
import { CHANNELS } from '../bridge';

/** What the link needs of the client. */
export type LinkClient = Pick<SockpitClient, 'socketPath' | 'status' | 'followEvents'>;

/** Anything that can receive a main → renderer message (a WebContents). */
export interface Receiver {
  isDestroyed(): boolean;
  send(channel: string, payload: unknown): void;
}

/** Anything thrown on this side, as the envelope's error: the API's code, status and detail kept; a socket that
 *  is not there said in words a user can act on. */
export function toBridgeError(err: unknown, socketPath: string): BridgeError {
  if (err instanceof ApiError) {
    const out: BridgeError = { name: err.name, message: err.message, code: err.code, status: err.status };
    if (err.detail !== undefined) out.detail = err.detail;
    return out;
  }
  const errno = (err as NodeJS.ErrnoException)?.code;
  if (errno === 'ENOENT' || errno === 'ECONNREFUSED' || errno === 'EACCES' || errno === 'ECONNRESET' || errno === 'UND_ERR_SOCKET') {
    return { name: 'ConnectionError', message: `Can't reach sockpitd at ${socketPath} (${errno})`, code: 'unavailable' };
  }
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

export interface ServiceLinkOptions {
  /** first retry after this many ms, doubling up to maxDelayMs */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** a status probe that takes longer counts as unreachable */
  probeTimeoutMs?: number;
  /** delivers a main → renderer message to every window */
  send: (channel: string, payload: unknown) => void;
  log?: (message: string) => void;
}

/**
 * The one GET /v1/events subscription of the app, forwarded to every window, and the connection state:
 * connected once GET /v1/status answers, disconnected (with the reason) when it does not or the stream ends.
 * Reconnects with exponential backoff; after a reconnect to the same daemon process it asks for the events it
 * missed (`since` the last sequence number), after a daemon restart it starts afresh (sequence numbers restart).
 */
export class ServiceLink {
  private current: ConnectionState = { state: 'disconnected', reason: 'connecting' };
  private stopped = false;
  private abort: AbortController | null = null;
  private wake: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private readonly send: (channel: string, payload: unknown) => void;

  constructor(
    private readonly client: LinkClient,
    private readonly opts: ServiceLinkOptions,
  ) {
    this.send = opts.send;
  }

  get state(): ConnectionState {
    return this.current;
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Sends the current state to one renderer (a window that just loaded). */
  sendStateTo(contents: Receiver): void {
    if (!contents.isDestroyed()) contents.send(CHANNELS.connection, this.current);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    this.wake?.();
    await this.running;
  }

  private setState(next: ConnectionState): void {
    const same = next.state === this.current.state && (next.state === 'connected' || (this.current.state !== 'connected' && next.reason === this.current.reason));
    this.current = next;
    if (!same) {
      this.opts.log?.(next.state === 'connected' ? 'sockpitd: connected' : `sockpitd: disconnected (${next.reason})`);
      this.send(CHANNELS.connection, next);
    }
  }

  private async probe(): Promise<number> {
    const timeout = this.opts.probeTimeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    try {
      const status = await Promise.race([
        this.client.status(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`sockpitd did not answer within ${timeout} ms`)), timeout);
        }),
      ]);
      return status.pid;
    } finally {
      clearTimeout(timer);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    }).then(() => {
      this.wake = null;
    });
  }

  private async loop(): Promise<void> {
    const minDelay = this.opts.minDelayMs ?? 250;
    const maxDelay = this.opts.maxDelayMs ?? 2000;
    let delay = minDelay;
    let daemonPid: number | null = null;
    let lastSeq: number | undefined;
    while (!this.stopped) {
      try {
        const pid = await this.probe();
        if (pid !== daemonPid) lastSeq = undefined;
        daemonPid = pid;
        if (this.stopped) break;
        this.setState({ state: 'connected' });
        delay = minDelay;
        this.abort = new AbortController();
        await this.client.followEvents(
          (event: Published) => {
            lastSeq = event.seq;
            this.send(CHANNELS.event, event);
          },
          { since: lastSeq, signal: this.abort.signal },
        );
        if (this.stopped) break;
        this.setState({ state: 'disconnected', reason: 'sockpitd closed the event stream' });
      } catch (err) {
        if (this.stopped) break;
        this.setState({ state: 'disconnected', reason: toBridgeError(err, this.client.socketPath).message });
      } finally {
        this.abort = null;
      }
      await this.sleep(delay);
      delay = Math.min(delay * 2, maxDelay);
    }
  }
}
