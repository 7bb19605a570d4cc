// Admission on the unix socket: how many connections and event-stream subscribers one peer uid, and all peers
// together, may hold. A client of the socket (any member of its group) could otherwise open connections
// until the daemon runs out of fds (half-open requests: every call then fails), or subscribe to the event
// stream thousands of times and never read. Counting is pure (Quota); the connection hook is the only I/O.
//
// Root, the operator, is held to its per-uid cap only, never to the total: other uids filling the total can't
// lock the operator out. The total is also kept under half of the daemon's RLIMIT_NOFILE, so the fds that
// sandboxes, Zygotes and cgroups need are always there.

import fs from 'node:fs';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { Config, DEFAULT_CONFIG } from '../config';
import type { Peer } from './peers';

/** caps per peer uid and in total, header and idle timeouts (the config's `api` section) */
export type AdmissionLimits = Config['api'];

export const DEFAULT_ADMISSION: AdmissionLimits = DEFAULT_CONFIG.api;

/** the bucket of peers the kernel could not name (the connection went before it was asked) */
const UNKNOWN_UID = -1;

/** Counts held per uid and in total against two caps. Pure. */
export class Quota {
  private readonly byUid = new Map<number, number>();
  private total = 0;

  constructor(
    readonly perUid: number,
    readonly max: number,
  ) {}

  /** 'ok' and counted, or which cap said no */
  take(uid: number): 'ok' | 'uid' | 'total' {
    const held = this.byUid.get(uid) ?? 0;
    if (held >= this.perUid) return 'uid';
    if (uid !== 0 && this.total >= this.max) return 'total';
    this.byUid.set(uid, held + 1);
    if (uid !== 0) this.total++;
    return 'ok';
  }

  give(uid: number): void {
    const held = this.byUid.get(uid) ?? 0;
    if (held <= 0) return;
    if (held === 1) this.byUid.delete(uid);
    else this.byUid.set(uid, held - 1);
    if (uid !== 0) this.total--;
  }

  held(uid: number): number {
    return this.byUid.get(uid) ?? 0;
  }

  get size(): number {
    return this.total;
  }
}

/** What a refusal says, for the 429 body. */
export function refusal(what: string, cap: 'uid' | 'total', quota: Quota): string {
  return cap === 'uid'
    ? `too many ${what} from this uid (at most ${quota.perUid}): close some and retry`
    : `too many ${what} (at most ${quota.max} in all): retry shortly`;
}

/** The cap on connections in total, given the daemon's fd limit: at most half of it. Pure. */
export function connectionCeiling(configured: number, nofile: number | null): number {
  if (nofile === null) return configured;
  return Math.max(16, Math.min(configured, Math.floor(nofile / 2)));
}

/** The soft RLIMIT_NOFILE of this process, from /proc (Node has no getrlimit); null when unknown/unlimited. */
export function openFileLimit(): number | null {
  try {
    const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft && /^\d+$/.test(soft) ? Number(soft) : null;
  } catch {
    return null;
  }
}

/**
 * Counts every connection against its peer's uid as it is accepted, before any byte of it is parsed; one over
 * a cap gets a 429 and is closed at once. `peerOf` is PeerAudit.peerOf (it remembers the answer per socket).
 */
export function admitConnections(server: Server, quota: Quota, peerOf: (socket: Socket) => Peer | null): void {
  server.on('connection', (socket: Socket) => {
    const uid = peerOf(socket)?.uid ?? UNKNOWN_UID;
    const verdict = quota.take(uid);
    if (verdict !== 'ok') {
      const body = JSON.stringify({ error: { code: 'overloaded', message: refusal('connections', verdict, quota) } });
      // a unix socket takes these few bytes at once (libuv writes before it queues): sent before the close
      socket.write(`HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 1\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      socket.destroy();
      return;
    }
    socket.once('close', () => quota.give(uid));
  });
}

export { UNKNOWN_UID };
