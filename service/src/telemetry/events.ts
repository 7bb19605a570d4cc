// Everything the daemon reports as it happens: one typed bus that the stats, the metrics, the SSE stream
// (GET /v1/events) and the panel all read from. Producers publish after an operation took effect. The events
// themselves are part of the API contract (api/events.ts).

import { EventEmitter } from 'node:events';
import type { Published, SockpitEvent } from '../../../api';

export type { BenchmarkEvent, FunctionEvent, InstallEvent, InvocationEvent, Published, SockpitEvent, Tier, ZygoteEvent } from '../../../api';

export class EventBus {
  private readonly emitter = new EventEmitter();
  private seq = 0;
  /** the last events, for a client that (re)connects and wants what it missed */
  private readonly recent: Published[] = [];

  constructor(private readonly keep = 500) {
    this.emitter.setMaxListeners(0);
  }

  publish(event: SockpitEvent): Published {
    const published = { ...event, seq: ++this.seq, at: new Date().toISOString() } as Published;
    this.recent.push(published);
    if (this.recent.length > this.keep) this.recent.shift();
    this.emitter.emit('event', published);
    return published;
  }

  /** Calls back for every event from now on; returns the unsubscribe function. */
  subscribe(listener: (event: Published) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  /** Events after a sequence number still kept (for Last-Event-ID). */
  since(seq: number): Published[] {
    return this.recent.filter((e) => e.seq > seq);
  }
}
