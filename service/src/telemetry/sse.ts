// Server-Sent Events framing of the bus, free of I/O (https://html.spec.whatwg.org/multipage/server-sent-events.html).

import { EVENT_TYPES, type Published } from '../../../api';

export { EVENT_TYPES };

/** One event as an SSE message: `id: <seq>`, `event: <type>`, `data: <json>` and the blank line. */
export function formatSseEvent(e: Published): string {
  // JSON.stringify never emits a raw newline, so the data fits on one line
  return `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

/** A comment line: ignored by parsers, keeps proxies and idle timers from closing the stream. */
export function formatSseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}

/**
 * The `types` filter of GET /v1/events: a comma-separated list of event types. undefined or empty means all.
 * Throws a RangeError naming an unknown type.
 */
export function parseTypes(value: string | undefined): Set<string> | null {
  if (value === undefined || value.trim() === '') return null;
  const types = new Set(
    value
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean),
  );
  for (const t of types) {
    if (!(EVENT_TYPES as readonly string[]).includes(t)) throw new RangeError(`unknown event type "${t}" (known: ${EVENT_TYPES.join(', ')})`);
  }
  return types;
}

/** A sequence number from Last-Event-ID or ?since=: a non-negative integer. Throws a RangeError otherwise. */
export function parseSeq(value: string): number {
  const trimmed = value.trim();
  if (!/^\d{1,15}$/.test(trimmed)) throw new RangeError(`not an event id: "${value.slice(0, 40)}"`);
  return Number(trimmed);
}
