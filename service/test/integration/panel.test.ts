// The web panel needs a secret: the real `sockpit panel` (the compiled CLI, its own process) in front of a real
// sockpitd. Another process that sends the panel's header and the right Host but has no token gets 401 on the API
// and the event stream; a wrong token gets 401 and no cookie; the right one a strict HttpOnly cookie with which
// the API works. The token file is 0600, the user's own, and gone when the panel stops. A function can't use the
// panel either: it can't reach it, or (on a host network) it gets 401 without the token.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { startDaemon, TestDaemon } from './harness';

const REPO = path.resolve(__dirname, '../../..');
const CLI = path.join(REPO, 'bin/sockpit.js');
const HEADER = { 'x-sockpit-panel': '1' };

let d: TestDaemon;
let runtimeDir: string;
let panel: ChildProcess;
let signInUrl: string;
let base: URL;
let output = '';

function panelEnv(): NodeJS.ProcessEnv {
  return { ...process.env, XDG_RUNTIME_DIR: runtimeDir };
}

/** Starts `sockpit panel` on a free port and waits for the URL it prints. */
function startPanel(): Promise<string> {
  const staticDir = path.join(d.dir, 'static');
  fs.mkdirSync(staticDir, { recursive: true });
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>panel</title>');
  panel = spawn(process.execPath, [CLI, 'panel', '--socket', d.socket, '--port', '0', '--static-dir', staticDir], { env: panelEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      const m = /sockpit panel: (http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+)/.exec(output);
      if (m) {
        panel.stdout!.off('data', onData);
        resolve(m[1]);
      }
    };
    panel.stdout!.on('data', onData);
    panel.stderr!.on('data', (c) => (output += c));
    panel.once('exit', (code) => reject(new Error(`sockpit panel exited with ${code}:\n${output}`)));
  });
}

function cookieFile(): string {
  return path.join(runtimeDir, 'sockpit', `panel-${base.port}.json`);
}

before(async () => {
  d = await startDaemon();
  runtimeDir = fs.mkdtempSync(path.join(d.dir, 'xdg-'));
  fs.chmodSync(runtimeDir, 0o700);
  await d.deploy('hello', { 'f.py': 'def f(event):\n    return {"hello": "world"}\n' });
  signInUrl = await startPanel();
  base = new URL('/', signInUrl);
});

after(async () => {
  if (panel && panel.exitCode === null && panel.signalCode === null) {
    const exited = new Promise((r) => panel.once('exit', r));
    panel.kill('SIGTERM');
    await exited;
  }
  await d.stop();
});

async function signedOut(res: Response): Promise<void> {
  assert.equal(res.status, 401);
  assert.equal(res.headers.get('x-sockpit-signed-out'), '1');
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'signed_out');
  assert.match(body.error.message, /sockpit panel --show-url/);
}

test('another process with the header and the right Host but no token gets 401 on the API and the event stream', async () => {
  // fetch sends Host: 127.0.0.1:<port>, the panel's own address
  await signedOut(await fetch(new URL('/api/v1/functions', base), { headers: HEADER }));
  await signedOut(await fetch(new URL('/api/run/hello', base), { method: 'POST', headers: { ...HEADER, 'content-type': 'application/json' }, body: '{}' }));
  await signedOut(await fetch(new URL('/api/v1/events?since=0', base), { headers: { ...HEADER, accept: 'text/event-stream' } }));
  // a made-up cookie of the right name is no better
  await signedOut(await fetch(new URL('/api/v1/functions', base), { headers: { ...HEADER, cookie: `sockpit-panel-${base.port}=${'A'.repeat(43)}` } }));
  // the page itself loads (it says how to sign in)
  assert.equal((await fetch(base)).status, 200);
});

test('a wrong token gets 401 and sets no cookie', async () => {
  // the right length, one character off
  const wrong = new URL(signInUrl);
  const token = wrong.searchParams.get('token')!;
  wrong.searchParams.set('token', `${token[0] === 'A' ? 'B' : 'A'}${token.slice(1)}`);
  const res = await fetch(wrong, { redirect: 'manual' });
  assert.equal(res.status, 401);
  assert.equal(res.headers.get('set-cookie'), null);
  const empty = await fetch(new URL('/?token=', base), { redirect: 'manual' });
  assert.equal(empty.status, 401);
  assert.equal(empty.headers.get('set-cookie'), null);
});

test('the right token gets an HttpOnly SameSite=Strict cookie, the API and the event stream work with it', async () => {
  const res = await fetch(signInUrl, { redirect: 'manual' });
  assert.equal(res.status, 303);
  assert.equal(res.headers.get('location'), '/');
  const setCookie = res.headers.get('set-cookie')!;
  const attrs = setCookie.split(';').map((a) => a.trim());
  assert.match(attrs[0], new RegExp(`^sockpit-panel-${base.port}=[A-Za-z0-9_-]{43}$`));
  assert.ok(attrs.includes('HttpOnly'), setCookie);
  assert.ok(attrs.includes('SameSite=Strict'), setCookie);
  assert.ok(attrs.includes('Path=/'), setCookie);
  const cookie = attrs[0];

  const list = await fetch(new URL('/api/v1/functions', base), { headers: { ...HEADER, cookie } });
  assert.equal(list.status, 200);
  const { functions } = (await list.json()) as { functions: Array<{ name: string }> };
  assert.ok(functions.some((f) => f.name === 'hello'));

  const controller = new AbortController();
  const events = await fetch(new URL('/api/v1/events?since=0', base), { headers: { cookie }, signal: controller.signal });
  assert.equal(events.status, 200);
  assert.match(events.headers.get('content-type') ?? '', /^text\/event-stream/);
  controller.abort();

  // the cookie alone is not enough for a write: the header check (CSRF) stays
  assert.equal((await fetch(new URL('/api/v1/functions/hello', base), { method: 'DELETE', headers: { cookie } })).status, 403);
  // nor is a foreign Host (DNS rebinding)
  const status = await new Promise<number>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: Number(base.port), path: '/api/v1/functions', headers: { ...HEADER, cookie, host: `evil.example:${base.port}` } }, (r) => resolve(r.statusCode ?? 0)).on('error', reject);
  });
  assert.equal(status, 421);
});

test('a function gets nothing from the panel: unreachable, or 401 without the token', async () => {
  await d.deploy('prober', {
    'f.py': `
import urllib.request, urllib.error
def f(event):
    req = urllib.request.Request("http://127.0.0.1:%d/api/v1/functions" % event["port"], headers={"x-sockpit-panel": "1", "Host": "127.0.0.1:%d" % event["port"]})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return {"status": r.status, "body": r.read().decode()[:200]}
    except urllib.error.HTTPError as e:
        return {"status": e.code}
    except Exception as e:
        return {"unreachable": type(e).__name__}
`,
  });
  const run = await d.client.run('prober', { port: Number(base.port) });
  const result = run.result as { status?: number; unreachable?: string };
  assert.ok(result.unreachable !== undefined || result.status === 401, JSON.stringify(result));
});

test('the token file is 0600 and the user\'s own, in a 0700 directory, and --show-url prints its URL', () => {
  const file = cookieFile();
  const st = fs.statSync(file);
  assert.equal(st.mode & 0o777, 0o600);
  assert.equal(st.uid, process.getuid!());
  const dir = fs.statSync(path.dirname(file));
  assert.equal(dir.mode & 0o777, 0o700);
  assert.equal(dir.uid, process.getuid!());
  const content = JSON.parse(fs.readFileSync(file, 'utf8')) as { url: string; token: string; pid: number };
  assert.equal(content.url, signInUrl);
  assert.equal(content.pid, panel.pid);
  assert.equal(new URL(signInUrl).searchParams.get('token'), content.token);

  const shown = spawnSync(process.execPath, [CLI, 'panel', '--show-url'], { env: panelEnv(), encoding: 'utf8' });
  assert.equal(shown.status, 0, shown.stderr);
  assert.equal(shown.stdout.trim(), signInUrl);
  const byPort = spawnSync(process.execPath, [CLI, 'panel', '--show-url', '--port', base.port], { env: panelEnv(), encoding: 'utf8' });
  assert.equal(byPort.stdout.trim(), signInUrl);
});

test('the token file is removed when the panel stops', async () => {
  const file = cookieFile();
  assert.ok(fs.existsSync(file));
  const exited = new Promise((r) => panel.once('exit', r));
  panel.kill('SIGTERM');
  await exited;
  assert.equal(fs.existsSync(file), false);
  const shown = spawnSync(process.execPath, [CLI, 'panel', '--show-url'], { env: panelEnv(), encoding: 'utf8' });
  assert.equal(shown.status, 1);
  assert.match(shown.stderr, /no running `sockpit panel`/);
});
