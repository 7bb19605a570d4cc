// Admission on the socket (api/admission.ts): a client of the socket running as another uid floods it with
// half-open requests, and calls from root still get through; the half-open connections are closed at the
// header timeout; event-stream subscribers beyond the cap get 429.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { startDaemon, TestDaemon } from './harness';

const NOGROUP = 65534;
const PER_UID = 20;
const TOTAL = 30;

// Run as another uid: opens `n` connections and sends nothing on them (a request whose headers never come;
// writing would race with the refusal's close: EPIPE loses the 429 it was sent). Prints one JSON line once
// `expectRefused` were refused with 429, and one when all are closed.
const FLOODER = `
const net = require('net');
const [sock, n, expectRefused] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
let refused = 0, closed = 0, said = false;
const statuses = {};
for (let i = 0; i < n; i++) {
  const c = net.connect(sock);
  let data = '';
  c.on('data', (d) => (data += d));
  c.on('error', () => {});
  c.on('close', () => {
    const status = data.slice(9, 12) || 'none';
    if (status === '429') refused++; else { closed++; statuses[status] = (statuses[status] || 0) + 1; }
    if (!said && refused >= expectRefused) { said = true; console.log(JSON.stringify({ refused })); }
    if (refused + closed === n) { console.log(JSON.stringify({ done: true, refused, closed, statuses })); process.exit(0); }
  });
}
setTimeout(() => process.exit(3), 60000);
`;

interface Flood {
  child: ChildProcess;
  /** the next JSON line it prints */
  next(): Promise<Record<string, unknown>>;
}

function flood(socket: string, uid: number, n: number, expectRefused: number): Flood {
  const child = spawn('setpriv', ['--reuid', String(uid), '--regid', String(NOGROUP), '--clear-groups', process.execPath, '-e', FLOODER, socket, String(n), String(expectRefused)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let buffered = '';
  child.stdout!.on('data', (d) => {
    buffered += d;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      lines.push(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return {
    child,
    async next() {
      while (lines.length === 0) {
        if (child.exitCode !== null) throw new Error(`the flooder (uid ${uid}) exited with ${child.exitCode}`);
        await Promise.race([new Promise<void>((r) => waiters.push(r)), exited]);
      }
      return JSON.parse(lines.shift()!) as Record<string, unknown>;
    },
  };
}

/** Opens GET /v1/events as root; resolves with the status and the response (to close later). */
function subscribe(socket: string): Promise<{ status: number; res: http.IncomingMessage; body: () => Promise<string> }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath: socket, path: '/v1/events', agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      const ended = new Promise<string>((r) => res.on('end', () => r(text)));
      resolve({ status: res.statusCode!, res, body: () => ended });
    });
    req.on('error', reject);
  });
}

let d: TestDaemon;
before(async () => {
  d = await startDaemon(
    { socketGroup: 'nogroup', api: { connectionsPerUid: PER_UID, connections: TOTAL, subscribersPerUid: 3, subscribers: 64, headerTimeoutMs: 10_000, idleTimeoutMs: 1000 } },
    { beforeStart: ({ dir }) => fs.chmodSync(dir, 0o755) }, // other uids reach the socket through its group
  );
});
after(async () => {
  await d?.stop();
});

test('a flood of half-open connections from other uids does not stop calls from root, and ends at the header timeout', { timeout: 90_000 }, async () => {
  await d.deploy('hello', { 'f.py': 'def f(e):\n    return "hello"\n' });
  const a = flood(d.socket, 65534, 60, 60 - PER_UID);
  assert.deepEqual(await a.next(), { refused: 60 - PER_UID }, 'one uid holds at most its own cap');
  // a second uid fills the total: it gets TOTAL - PER_UID connections, the rest are refused
  const b = flood(d.socket, 65533, 60, 60 - (TOTAL - PER_UID));
  assert.deepEqual(await b.next(), { refused: 60 - (TOTAL - PER_UID) });
  // root is not locked out by the others filling the total
  const run = await d.client.run('hello');
  assert.equal(run.result, 'hello', JSON.stringify(run));
  assert.ok((await d.client.status()).pid > 0);
  // the half-open requests are answered 408 and closed once the header timeout passes
  const [doneA, doneB] = await Promise.all([a.next(), b.next()]);
  assert.deepEqual(doneA, { done: true, refused: 60 - PER_UID, closed: PER_UID, statuses: { '408': PER_UID } });
  assert.deepEqual(doneB, { done: true, refused: 60 - (TOTAL - PER_UID), closed: TOTAL - PER_UID, statuses: { '408': TOTAL - PER_UID } });
  assert.equal((await d.client.run('hello')).result, 'hello');
});

test('a kept-alive connection that sends nothing more is closed at the idle timeout', { timeout: 20_000 }, async () => {
  const conn = net.connect(d.socket);
  let response = '';
  conn.on('data', (chunk) => (response += chunk));
  const closed = new Promise<void>((r) => conn.once('close', () => r()));
  conn.write('GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n');
  await closed; // never closed by us: only the daemon's idle timeout ends it
  assert.match(response, /^HTTP\/1\.1 200 /);
  assert.match(response, /keep-alive/i, 'the connection was kept alive after the response');
});

test('event-stream subscribers beyond the per-uid cap get 429; a closed stream frees its place', async () => {
  const open = [await subscribe(d.socket), await subscribe(d.socket), await subscribe(d.socket)];
  for (const s of open) assert.equal(s.status, 200);
  const refused = await subscribe(d.socket);
  assert.equal(refused.status, 429);
  assert.match(await refused.body(), /too many event-stream subscribers from this uid \(at most 3\)/);
  const closing = open.pop()!;
  const gone = new Promise((r) => closing.res.once('close', r));
  closing.res.destroy();
  await gone;
  // the daemon sees the close on its own time: a new subscriber is admitted once it has
  let again = await subscribe(d.socket);
  for (let i = 0; again.status === 429 && i < 50; i++) {
    await again.body();
    await new Promise((r) => setTimeout(r, 100));
    again = await subscribe(d.socket);
  }
  assert.equal(again.status, 200);
  for (const s of [...open, again]) s.res.destroy();
});
