// The telemetry side of the client: GET /v1/stats, GET /metrics and following GET /v1/events (Server-Sent
// Events) over the unix socket, with a streaming SSE parser that is free of I/O.

import { Client } from 'undici';
import type { Published, StatsBody } from '../../../api';
import { toApiError } from './api-error';

/** One dispatched SSE message. */
export interface SseMessage {
  /** the last event id seen on the stream (it carries over to later messages, as in EventSource) */
  id: string | null;
  /** `message` when the event has no `event:` field */
  event: string;
  data: string;
  /** a `retry:` field, when the message set one */
  retry?: number;
}

/**
 * Parses complete messages out of `buffer` (text as received). Returns them and the unparsed rest (an
 * unfinished message), to be prefixed to the next chunk, with the last event id in effect before it. Handles \n, \r\n and \r line ends, comments, multi-line
 * data, and `id` carrying over from `lastId`.
 */
export function parseSse(buffer: string, lastId: string | null = null): { messages: SseMessage[]; rest: string; lastId: string | null } {
  const messages: SseMessage[] = [];
  let id = lastId;
  let event = '';
  let data: string[] = [];
  let retry: number | undefined;
  let consumed = 0;
  let consumedId = lastId;
  let pos = 0;
  for (;;) {
    const cr = buffer.indexOf('\r', pos);
    const lf = buffer.indexOf('\n', pos);
    let end: number;
    let next: number;
    if (cr === -1 && lf === -1) break;
    if (cr !== -1 && (lf === -1 || cr < lf)) {
      // A \r at the very end may be the first half of a \r\n split between chunks. Taking it as a line end
      // now is right either way: a non-blank line stays in the rest and is read again with its \n, and a \n
      // right after a dispatch only makes an empty blank line, which dispatches nothing.
      end = cr;
      next = buffer[cr + 1] === '\n' ? cr + 2 : cr + 1;
    } else {
      end = lf;
      next = lf + 1;
    }
    const line = buffer.slice(pos, end);
    pos = next;
    if (line === '') {
      // blank line: dispatch (nothing when there was no data)
      if (data.length) {
        const m: SseMessage = { id, event: event || 'message', data: data.join('\n') };
        if (retry !== undefined) m.retry = retry;
        messages.push(m);
      }
      event = '';
      data = [];
      retry = undefined;
      consumed = pos;
      consumedId = id;
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id') {
      if (!value.includes('\0')) id = value;
    } else if (field === 'retry') {
      if (/^\d+$/.test(value)) retry = Number(value);
    }
  }
  // an unfinished message is parsed again from its start once the rest arrives, with the id it started with
  return { messages, rest: buffer.slice(consumed), lastId: consumedId };
}

/** Feeds chunks as they come (bytes or text; UTF-8 split across chunks is fine) and gives back whole messages. */
export class SseParser {
  private buffer = '';
  private decoder = new TextDecoder('utf-8');
  private first = true;
  lastId: string | null = null;

  push(chunk: string | Uint8Array): SseMessage[] {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (this.first && text.length) {
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      this.first = false;
    }
    const { messages, rest, lastId } = parseSse(this.buffer + text, this.lastId);
    this.buffer = rest;
    this.lastId = lastId;
    return messages;
  }
}

export interface FollowOptions {
  /** only these event types */
  types?: string[];
  /** replay the kept events after this sequence number first */
  since?: number;
  /** stops following; the promise then resolves */
  signal?: AbortSignal;
}

function connect(socket: string): Client {
  return new Client('http://sockpitd', { socketPath: socket, headersTimeout: 30_000, bodyTimeout: 0 });
}

async function get(socket: string, path: string): Promise<{ status: number; text: string }> {
  const client = connect(socket);
  try {
    const res = await client.request({ method: 'GET', path });
    const text = await res.body.text();
    if (res.statusCode >= 400) throw toApiError(res.statusCode, text);
    return { status: res.statusCode, text };
  } finally {
    await client.close();
  }
}

/** GET /v1/stats */
export async function stats(socket: string): Promise<StatsBody> {
  return JSON.parse((await get(socket, '/v1/stats')).text) as StatsBody;
}

/** GET /metrics: the Prometheus text */
export async function metrics(socket: string): Promise<string> {
  return (await get(socket, '/metrics')).text;
}

/**
 * Follows GET /v1/events, calling `onEvent` for each event in order. Resolves when the daemon ends the stream
 * or `signal` aborts; rejects when it cannot connect, on an HTTP error, or when `onEvent` throws.
 */
export async function followEvents(socket: string, onEvent: (event: Published) => void, opts: FollowOptions = {}): Promise<void> {
  const { signal } = opts;
  if (signal?.aborted) return;
  const query = new URLSearchParams();
  if (opts.types?.length) query.set('types', opts.types.join(','));
  if (opts.since !== undefined) query.set('since', String(opts.since));
  const path = `/v1/events${query.size ? `?${query}` : ''}`;
  const client = connect(socket);
  const abort = () => {
    client.destroy().catch(() => {});
  };
  signal?.addEventListener('abort', abort, { once: true });
  try {
    const res = await client.request({ method: 'GET', path, headers: { accept: 'text/event-stream' }, signal });
    if (res.statusCode !== 200) throw toApiError(res.statusCode, await res.body.text());
    const parser = new SseParser();
    for await (const chunk of res.body) {
      for (const m of parser.push(chunk as Buffer)) {
        if (m.event === 'message') continue;
        onEvent(JSON.parse(m.data) as Published);
      }
    }
  } catch (err) {
    if (signal?.aborted) return;
    throw err;
  } finally {
    signal?.removeEventListener('abort', abort);
    await client.destroy().catch(() => {});
  }
}
