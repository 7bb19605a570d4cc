// The panel server against a stand-in daemon on a unix socket: static files, the proxy (statuses, headers,
// bodies, the event stream unbuffered), the 503 when the daemon is down, the request checks and the sign-in.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { hostAllowed, startPanelServer, type PanelServer } from './panel-server';

let dir: string;
let socket: string;
let daemon: http.Server;
let panel: PanelServer;
let sseWrite: ((text: string) => void) | null = null;
const seen: Array<{ method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }> = [];

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'panel-test-'));
  socket = path.join(dir, 'd.sock');
  const staticDir = path.join(dir, 'static');
  fs.mkdirSync(path.join(staticDir, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>panel</title>');
  fs.writeFileSync(path.join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'secret');

  daemon = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      if (req.url?.startsWith('/v1/events')) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(': hello\n\n');
        sseWrite = (text) => res.write(text);
        return;
      }
      if (req.url === '/run/f') {
        res.writeHead(422, { 'content-type': 'application/json', 'x-sockpit-tier': 'zygote', 'server-timing': 'fork;dur=1.5' });
        res.end(JSON.stringify({ error: { code: 'function_error', message: 'raised' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, url: req.url }));
    });
  });
  await new Promise<void>((r) => daemon.listen(socket, r));
  panel = await startPanelServer({ socket, port: 0, staticDir });
  api = { 'x-sockpit-panel': '1', cookie: await signIn(panel) };
});

/** Trades the panel's token for its cookie; returns the Cookie header to send. */
async function signIn(p: PanelServer): Promise<string> {
  const res = await fetch(p.signInUrl, { redirect: 'manual' });
  assert.equal(res.status, 303);
  return res.headers.get('set-cookie')!.split(';')[0];
}

after(async () => {
  await panel.close();
  daemon.closeAllConnections();
  await new Promise((r) => daemon.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

let api: Record<string, string>;

test('binds loopback and serves the renderer, with the page for unknown routes', async () => {
  assert.match(panel.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const index = await fetch(panel.url);
  assert.equal(index.status, 200);
  assert.match(await index.text(), /<title>panel/);
  const js = await fetch(new URL('assets/app.js', panel.url));
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.match(js.headers.get('cache-control') ?? '', /immutable/);
  assert.equal((await fetch(new URL('zygotes', panel.url))).status, 200);
  assert.equal((await fetch(new URL('missing.js', panel.url))).status, 404);
  // no way out of the static folder
  const escape = await fetch(new URL('/%2e%2e/secret.txt', panel.url));
  assert.notEqual(await escape.text(), 'secret');
  await assert.rejects(startPanelServer({ socket, port: 0, host: '0.0.0.0', staticDir: dir }), /loopback/);
});

test('proxies method, path, body, status and headers', async () => {
  const res = await fetch(new URL('/api/run/f', panel.url), { method: 'POST', headers: { ...api, 'content-type': 'application/json' }, body: '{"a":1}' });
  assert.equal(res.status, 422);
  assert.equal(res.headers.get('x-sockpit-tier'), 'zygote');
  assert.equal(res.headers.get('server-timing'), 'fork;dur=1.5');
  assert.deepEqual(await res.json(), { error: { code: 'function_error', message: 'raised' } });
  const req = seen.find((s) => s.url === '/run/f')!;
  assert.equal(req.method, 'POST');
  assert.equal(req.body, '{"a":1}');
  assert.equal(req.headers['x-sockpit-panel'], undefined);
  const q = await fetch(new URL('/api/v1/functions?x=1', panel.url), { headers: api });
  assert.deepEqual(await q.json(), { ok: true, url: '/v1/functions?x=1' });
});

test('refuses API calls without the panel header and foreign Host headers', async () => {
  assert.equal((await fetch(new URL('/api/v1/status', panel.url), { method: 'POST', headers: { cookie: api.cookie } })).status, 403);
  assert.equal(hostAllowed(`127.0.0.1:${panel.port}`, panel.port), true);
  assert.equal(hostAllowed(`localhost:${panel.port}`, panel.port), true);
  assert.equal(hostAllowed(`[::1]:${panel.port}`, panel.port), true);
  assert.equal(hostAllowed(`evil.example:${panel.port}`, panel.port), false);
  assert.equal(hostAllowed(`127.0.0.1:1`, panel.port), false);
  assert.equal(hostAllowed(undefined, panel.port), false);
  const status = await new Promise<number>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: panel.port, path: '/', headers: { host: 'evil.example' } }, (res) => resolve(res.statusCode ?? 0)).on('error', reject);
  });
  assert.equal(status, 421);
});

test('streams the event stream through as it is written', async () => {
  const controller = new AbortController();
  const res = await fetch(new URL('/api/v1/events?since=0', panel.url), { signal: controller.signal, headers: { cookie: api.cookie } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const readUntil = async (needle: string) => {
    while (!text.includes(needle)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before ${needle}`);
      text += decoder.decode(value, { stream: true });
    }
  };
  await readUntil(': hello');
  for (let i = 0; i < 50 && !sseWrite; i++) await new Promise((r) => setTimeout(r, 10));
  sseWrite!('id: 1\nevent: pool\ndata: {"seq":1}\n\n');
  await readUntil('data: {"seq":1}');
  controller.abort();
});

test('answers 503 with the error body and the unreachable mark when the daemon is down', async () => {
  const down = await startPanelServer({ socket: path.join(dir, 'nothing.sock'), port: 0, staticDir: dir });
  try {
    const res = await fetch(new URL('/api/v1/status', down.url), { headers: { ...api, cookie: await signIn(down) } });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('x-sockpit-unreachable'), '1');
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'unavailable');
    assert.match(body.error.message, /^can't reach sockpitd at .*nothing\.sock/);
  } finally {
    await down.close();
  }
});

test('without the cookie: 401 on the API and the event stream, the page still loads', async () => {
  const before = seen.length;
  for (const [url, headers] of [
    ['/api/v1/functions', { 'x-sockpit-panel': '1' }],
    ['/api/v1/events?since=0', {}],
    ['/api', { 'x-sockpit-panel': '1' }],
    ['/api/v1/functions', { 'x-sockpit-panel': '1', cookie: `${api.cookie.split('=')[0]}=${'A'.repeat(43)}` }],
  ] as const) {
    const res = await fetch(new URL(url, panel.url), { headers });
    assert.equal(res.status, 401, url);
    assert.equal(res.headers.get('x-sockpit-signed-out'), '1');
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'signed_out');
  }
  assert.equal(seen.length, before, 'nothing reached the daemon');
  assert.equal((await fetch(panel.url)).status, 200);
});

test('a wrong token gets 401 and no cookie; the right one a strict HttpOnly cookie and a redirect without the token', async () => {
  const wrong = await fetch(new URL(`/?token=${'x'.repeat(43)}`, panel.url), { redirect: 'manual' });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers.get('set-cookie'), null);
  const twice = await fetch(new URL(`/?token=${panel.token}&token=${panel.token}`, panel.url), { redirect: 'manual' });
  assert.equal(twice.status, 401);

  const right = await fetch(new URL(`/zygotes?x=1&token=${panel.token}`, panel.url), { redirect: 'manual' });
  assert.equal(right.status, 303);
  assert.equal(right.headers.get('location'), '/zygotes?x=1');
  const cookie = right.headers.get('set-cookie')!;
  assert.match(cookie, new RegExp(`^sockpit-panel-${panel.port}=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Strict$`));
  assert.ok(!cookie.includes(panel.token), 'the cookie is not the token');
  // the daemon never sees the cookie
  await fetch(new URL('/api/v1/cookie-check', panel.url), { headers: { ...api, cookie: `${api.cookie}; other=1` } });
  assert.equal(seen.find((s) => s.url === '/v1/cookie-check')!.headers.cookie, undefined);
});
