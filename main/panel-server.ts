// The web-mode panel server (`sockpit panel`): serves the built renderer and proxies /api/* to sockpitd's unix
// socket, for headless hosts and the e2e tests. Unprivileged (it only needs to reach the socket) and bound to
// loopback. The proxy passes statuses, headers and bodies through as they come and streams the event stream
// without buffering; when the daemon can't be reached it answers 503 with the API's error body and the
// X-Sockpit-Unreachable header, which the renderer's bridge reads as "disconnected".
//
// Any local process can connect to 127.0.0.1 (other users, and anything that just sends the right headers): every
// /api request and the event stream need the cookie a browser gets for the per-start token (panel-auth.ts), and
// get 401 with X-Sockpit-Signed-Out without it. The page itself loads without it, and says how to sign in.
// A page of another origin could make the browser send requests to 127.0.0.1 too: every /api request must come
// with the X-Sockpit-Panel header (a cross-origin page can't add it without a CORS preflight, which this server
// never grants), and a Host other than the address it listens on is refused (DNS rebinding).

import { createReadStream, promises as fs } from 'node:fs';
import http, { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PANEL_API_PREFIX, PANEL_HEADER, SIGNED_OUT_HEADER, UNREACHABLE_HEADER } from '../api';
import { hasSession, newPanelAuth, secretMatches, sessionCookie, SIGNED_OUT_MESSAGE, signInUrl, tokenOf, withoutToken, type PanelAuth } from './panel-auth';

export interface PanelServerOptions {
  /** sockpitd's unix socket */
  socket: string;
  /** 0 picks a free port */
  port: number;
  /** default 127.0.0.1; only loopback addresses are accepted */
  host?: string;
  /** the built renderer (dist/renderer) */
  staticDir: string;
  /** the sign-in token (default: a new random one) */
  token?: string;
}

export interface PanelServer {
  /** the panel's address, without the token */
  url: string;
  /** the address that signs a browser in: `url` with ?token= */
  signInUrl: string;
  token: string;
  port: number;
  host: string;
  close(): Promise<void>;
}

const API_PREFIX = PANEL_API_PREFIX;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** hop-by-hop headers (RFC 9110 7.6.1) are not forwarded */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export async function startPanelServer(opts: PanelServerOptions): Promise<PanelServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host)) throw new Error(`the panel server binds loopback only (127.0.0.1, ::1 or localhost), not ${host}`);
  const staticDir = path.resolve(opts.staticDir);
  let boundPort = opts.port;
  // made once the port is known (the cookie is named after it)
  let auth: PanelAuth | null = null;

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'internal', message: `panel server: ${(err as Error).message}` } });
      else res.destroy();
    });
  });
  // the event stream is long-lived: no request or idle timeouts on this server
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 5_000;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req.headers.host, boundPort)) {
      return sendJson(res, 421, { error: { code: 'bad_request', message: `unexpected Host header "${req.headers.host ?? ''}"` } });
    }
    const url = req.url ?? '/';
    if (!auth) throw new Error('not listening yet');
    if (url === API_PREFIX || url.startsWith(`${API_PREFIX}/`) || url.startsWith(`${API_PREFIX}?`)) {
      if (!hasSession(auth, req.headers.cookie)) return sendSignedOut(res);
      if (!req.headers[PANEL_HEADER] && !isEventStream(req)) {
        return sendJson(res, 403, { error: { code: 'bad_request', message: `API requests through the panel need the ${PANEL_HEADER} header` } });
      }
      return proxy(req, res, url.slice(API_PREFIX.length) || '/', opts.socket);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    const token = tokenOf(url);
    if (token !== null) return signIn(res, auth, token, url);
    return serveStatic(req, res, url, staticDir);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  boundPort = (server.address() as AddressInfo).port;
  auth = newPanelAuth(boundPort, opts.token);
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${boundPort}/`;
  return {
    url,
    signInUrl: signInUrl(url, auth.token),
    token: auth.token,
    port: boundPort,
    host,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // open event streams would hold close() up: end them
        server.closeAllConnections();
      }),
  };
}

/** The right token sets the session cookie and sends the browser on to the same page without the token (out of
 *  the address bar and the history); a wrong one gets 401 and no cookie. */
function signIn(res: ServerResponse, auth: PanelAuth, token: string, url: string): void {
  if (!secretMatches(token, auth.token)) {
    const text = `This link's token is not the running panel's (it changes each time \`sockpit panel\` starts): ${SIGNED_OUT_MESSAGE.replace(/^signed out of the panel: /, '')}.\n`;
    res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', [SIGNED_OUT_HEADER]: '1' });
    res.end(text);
    return;
  }
  res.writeHead(303, { location: withoutToken(url), 'set-cookie': sessionCookie(auth), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' });
  res.end();
}

function sendSignedOut(res: ServerResponse): void {
  sendJson(res, 401, { error: { code: 'signed_out', message: SIGNED_OUT_MESSAGE } }, { [SIGNED_OUT_HEADER]: '1' });
}

/** GET of the event stream: an EventSource can't set headers, and the stream only reads. */
function isEventStream(req: IncomingMessage): boolean {
  const url = req.url ?? '';
  return req.method === 'GET' && (url === `${API_PREFIX}/v1/events` || url.startsWith(`${API_PREFIX}/v1/events?`));
}

/** Host must name loopback with our port (or no port, for a test client that leaves it out). */
export function hostAllowed(hostHeader: string | undefined, port: number): boolean {
  if (!hostHeader) return false;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader.trim().toLowerCase());
  if (!m) return false;
  const name = m[1].replace(/^\[|\]$/g, '');
  if (!LOOPBACK.has(name)) return false;
  return m[2] === undefined || Number(m[2]) === port;
}

function proxy(req: IncomingMessage, res: ServerResponse, target: string, socket: string): void {
  const headers: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || k === 'host' || k === PANEL_HEADER || k === 'origin' || k === 'referer' || k === 'cookie') continue;
    headers[k] = v;
  }
  headers.host = 'sockpitd';

  const upstream = http.request({ socketPath: socket, path: target, method: req.method, headers, agent: false }, (up) => {
    const out: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
    const streaming = String(up.headers['content-type'] ?? '').startsWith('text/event-stream');
    if (streaming) {
      out['cache-control'] = 'no-cache';
      out['x-accel-buffering'] = 'no';
    }
    res.writeHead(up.statusCode ?? 502, up.statusMessage, out);
    if (streaming) {
      res.flushHeaders();
      res.socket?.setNoDelay(true);
    }
    up.pipe(res);
    // the daemon went away mid-answer (a stream it ended by stopping): end ours, the client reconnects
    up.on('close', () => {
      if (!up.complete) res.destroy();
    });
    up.on('error', () => res.destroy());
  });
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendJson(res, 503, { error: { code: 'unavailable', message: unreachableMessage(socket, err), detail: { errno: err.code ?? null } } }, { [UNREACHABLE_HEADER]: '1' });
  });
  // the browser went away (a closed EventSource): stop the upstream request too
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  // The body is read whole and sent in one write: piped chunk by chunk, a small share of requests (~2% here)
  // failed with EPIPE on the daemon's side of the socket before any answer could be read.
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_PROXIED_BODY) chunks.push(chunk);
  });
  req.on('end', () => {
    if (size > MAX_PROXIED_BODY) {
      upstream.destroy();
      if (!res.headersSent) sendJson(res, 413, { error: { code: 'too_large', message: `request body over ${MAX_PROXIED_BODY} bytes` } });
      return;
    }
    upstream.end(Buffer.concat(chunks));
  });
}

/** larger than the daemon's own limit, which answers for itself */
const MAX_PROXIED_BODY = 64 * 1024 * 1024;

export function unreachableMessage(socket: string, err: NodeJS.ErrnoException): string {
  const base = `can't reach sockpitd at ${socket}`;
  switch (err.code) {
    case 'ENOENT':
      return `${base} (no socket there: is it running?)`;
    case 'ECONNREFUSED':
      return `${base} (connection refused: is it running?)`;
    case 'EACCES':
    case 'EPERM':
      return `${base} (permission denied: is your user in the sockpit group?)`;
    default:
      return `${base} (${err.code ?? err.message})`;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, extra: http.OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...extra });
  res.end(text);
}

async function serveStatic(req: IncomingMessage, res: ServerResponse, url: string, root: string): Promise<void> {
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(url, 'http://panel').pathname);
  } catch {
    res.writeHead(400).end();
    return;
  }
  const file = path.resolve(root, `.${path.posix.normalize(pathname)}`);
  if (file !== root && !file.startsWith(root + path.sep)) {
    res.writeHead(404).end();
    return;
  }
  let target = file;
  let stat = await fs.stat(target).catch(() => null);
  if (stat?.isDirectory()) {
    target = path.join(target, 'index.html');
    stat = await fs.stat(target).catch(() => null);
  }
  // the panel routes by the hash; any other unknown path without an extension gets the page itself
  if (!stat && path.extname(pathname) === '') {
    target = path.join(root, 'index.html');
    stat = await fs.stat(target).catch(() => null);
  }
  if (!stat || !stat.isFile()) {
    if (target === path.join(root, 'index.html')) {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`The panel is not built: no ${target}. Run \`npm run build:renderer\`.\n`);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
    return;
  }
  const immutable = /[\\/]assets[\\/]/.test(target);
  res.writeHead(200, {
    'content-type': TYPES[path.extname(target)] ?? 'application/octet-stream',
    'content-length': stat.size,
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    ...(target.endsWith('.html') ? { 'x-frame-options': 'DENY' } : {}),
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(target).pipe(res);
}
