// GET /v1/stats, GET /metrics and GET /v1/events (Server-Sent Events) of the API (README "API").
//
// The event stream: `id: <seq>`, `event: <type>`, `data: <json>` per event. A client that reconnects with
// Last-Event-ID (or asks ?since=N) first gets what it missed that the bus still keeps, then the live events, in
// order and without duplicates. `?types=invocation,zygote` filters. A comment every 15 s keeps the line alive.
// Open streams are ended before the server closes (preClose), so close() is never held up by them; a client
// that stops reading is cut off once too much is buffered for it (it can reconnect with Last-Event-ID).
// Subscribers are capped per peer uid and in total (api/admission.ts): 429 beyond.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { badRequest, SockpitError } from '../errors';
import { Quota, refusal, UNKNOWN_UID } from './admission';
import type { EventBus, Published } from '../telemetry/events';
import { formatSseComment, formatSseEvent, parseSeq, parseTypes } from '../telemetry/sse';

export interface TelemetryDeps {
  bus: EventBus;
  /** the body of GET /v1/stats */
  stats: () => unknown;
  /** the body of GET /metrics */
  metrics: () => Promise<string>;
  metricsContentType: string;
  /** ms between heartbeat comments (default 15 000) */
  heartbeatMs?: number;
  /** bytes buffered for one slow stream before it is cut off (default 1 MiB) */
  maxBufferedBytes?: number;
  /** open streams per peer uid and in total */
  subscribers?: Quota;
}

export const HEARTBEAT_MS = 15_000;
const MAX_BUFFERED_BYTES = 2 ** 20;

interface EventsQuery {
  since?: string;
  types?: string;
}

export function registerTelemetryRoutes(app: FastifyInstance, deps: TelemetryDeps): void {
  const heartbeatMs = deps.heartbeatMs ?? HEARTBEAT_MS;
  const maxBuffered = deps.maxBufferedBytes ?? MAX_BUFFERED_BYTES;
  /** the open streams, each with the function that ends it */
  const open = new Map<ServerResponse, () => void>();
  /** each event is formatted once, however many streams it goes to */
  let lastEvent: Published | null = null;
  let lastText = '';
  const format = (e: Published): string => {
    if (e !== lastEvent) [lastEvent, lastText] = [e, formatSseEvent(e)];
    return lastText;
  };

  app.get('/v1/stats', async (_req, reply) => {
    return reply.header('Content-Type', 'application/json; charset=utf-8').send(JSON.stringify(deps.stats()));
  });

  app.get('/metrics', async (_req, reply) => {
    const text = await deps.metrics();
    return reply.header('Content-Type', deps.metricsContentType).send(text);
  });

  app.get('/v1/events', async (req: FastifyRequest<{ Querystring: EventsQuery }>, reply: FastifyReply) => {
    const { since, types } = streamOptions(req);
    const uid = req.peer?.uid ?? UNKNOWN_UID;
    const verdict = deps.subscribers?.take(uid) ?? 'ok';
    if (verdict !== 'ok') throw new SockpitError('overloaded', refusal('event-stream subscribers', verdict, deps.subscribers!));

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });

    // the replay and the subscription happen in the same tick: no event can fall between them. An id beyond
    // the bus's last is from before a daemon restart (the sequence starts again at 1): replay all that is kept.
    const kept = since === null ? [] : deps.bus.since(0);
    const newest = kept.length ? kept[kept.length - 1].seq : 0;
    const from = since === null ? null : since > newest ? 0 : since;
    const backlog = from === null ? [] : kept.filter((e) => e.seq > from);
    let last = from ?? 0;
    let ended = false;
    const write = (text: string): void => {
      if (ended) return;
      res.write(text);
      // a client that does not read must not make the daemon buffer without end
      if (res.writableLength > maxBuffered) {
        cleanup();
        res.destroy();
      }
    };
    const send = (e: Published): void => {
      if (e.seq <= last) return;
      last = e.seq;
      if (types && !types.has(e.type)) return;
      write(format(e));
    };

    // the bus calls its listeners inside publish(): a broken stream must never throw into the producer
    const unsubscribe = deps.bus.subscribe((e) => {
      try {
        send(e);
      } catch {
        cleanup();
        res.destroy();
      }
    });
    const heartbeat = setInterval(() => write(formatSseComment('heartbeat')), heartbeatMs);
    heartbeat.unref();

    function cleanup(): void {
      if (ended) return;
      ended = true;
      deps.subscribers?.give(uid);
      clearInterval(heartbeat);
      unsubscribe();
      open.delete(res);
    }
    open.set(res, () => {
      cleanup();
      res.end();
    });
    res.on('close', cleanup);
    res.on('error', cleanup);

    // the first bytes go out at once, so the client sees the response start even when nothing happens
    write(`retry: 1000\n${formatSseComment('sockpitd events')}`);
    for (const e of backlog) send(e);
  });

  app.addHook('preClose', (done) => {
    for (const end of [...open.values()]) end();
    done();
  });
}

function streamOptions(req: FastifyRequest<{ Querystring: EventsQuery }>): { since: number | null; types: Set<string> | null } {
  const query = (req.query ?? {}) as EventsQuery;
  // a reconnecting EventSource sends Last-Event-ID and keeps its URL: the header wins over ?since
  const header = req.headers['last-event-id'];
  const raw = typeof header === 'string' && header.trim() !== '' ? header : typeof query.since === 'string' ? query.since : undefined;
  try {
    return {
      since: raw === undefined ? null : parseSeq(raw),
      types: parseTypes(typeof query.types === 'string' ? query.types : undefined),
    };
  } catch (err) {
    throw badRequest((err as Error).message);
  }
}
