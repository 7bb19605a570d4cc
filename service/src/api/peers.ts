// Who talks to the daemon: the kernel's credentials of each unix-socket peer (SO_PEERCRED), read once per
// connection, an audit line on stderr for every state-changing request and every error response, and counters
// per peer uid for everything else (calls are counted, not logged one by one: the hot path stays cheap).

import type { Socket } from 'node:net';
import type { PeerCounts, RequestCounts } from '../../../api';

export interface Peer {
  pid: number;
  uid: number;
  gid: number;
}

export interface PeerAuditOptions {
  /** getsockopt(SO_PEERCRED) of a connected socket's fd (native.peerCredentials) */
  identify: (fd: number) => Peer;
  /** where audit lines go (default: stderr) */
  log?: (line: string) => void;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const MAX_LOGGED_URL = 200;

export class PeerAudit {
  private readonly peers = new WeakMap<Socket, Peer | null>();
  private readonly byUid = new Map<number, PeerCounts>();
  private connections = 0;
  private unidentified = 0;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: PeerAuditOptions) {
    this.log = opts.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  /** The peer of a connection: asked of the kernel once, then remembered for the connection's life. */
  peerOf(socket: Socket | null | undefined): Peer | null {
    if (!socket) return null;
    let peer = this.peers.get(socket);
    if (peer !== undefined) return peer;
    peer = null;
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (typeof fd === 'number' && fd >= 0) {
      try {
        peer = this.opts.identify(fd);
      } catch {
        peer = null; // not a unix socket, or already closed
      }
    }
    this.connections++;
    this.peers.set(socket, peer);
    return peer;
  }

  /** Counts a finished request; logs it when it changed state or failed. */
  record(peer: Peer | null, method: string, url: string, status: number, errorCode?: string): void {
    const isCall = method === 'POST' && url.startsWith('/run/');
    if (peer) {
      let counts = this.byUid.get(peer.uid);
      if (!counts) this.byUid.set(peer.uid, (counts = { requests: 0, calls: 0, errors: 0 }));
      counts.requests++;
      if (isCall) counts.calls++;
      if (status >= 400) counts.errors++;
    } else this.unidentified++;
    if (status >= 400 || (!isCall && !SAFE_METHODS.has(method))) {
      this.log(`sockpitd: ${describePeer(peer)} ${printable(method, 16)} ${printable(url, MAX_LOGGED_URL)} -> ${status}${errorCode ? ` ${errorCode}` : ''}`);
    }
  }

  /** A request the HTTP parser refused before it reached a route (bad request line, huge headers...). */
  recordClientError(socket: Socket, status: number, code: string): void {
    this.record(this.peerOf(socket), '-', '(unparsable request)', status, code);
  }

  snapshot(): RequestCounts {
    const byUid: Record<string, PeerCounts> = {};
    for (const [uid, counts] of this.byUid) byUid[String(uid)] = { ...counts };
    return { connections: this.connections, unidentified: this.unidentified, byUid };
  }
}

export function describePeer(peer: Peer | null): string {
  return peer ? `peer uid=${peer.uid} gid=${peer.gid} pid=${peer.pid}` : 'peer unknown';
}

/** Text from a request as it may go into a log line: no control characters, no line breaks, bounded. */
export function printable(text: string, max: number): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return cut.replace(/[\x00-\x20\x7f-\x9f\u2028\u2029]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
