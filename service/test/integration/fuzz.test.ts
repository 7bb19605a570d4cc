// The API's outer wall: who may connect (the socket is root:sockpit 0660; peers are identified with SO_PEERCRED
// and audited), and what a connection may send. A seeded fuzzer throws malformed HTTP and JSON at the socket over
// raw connections, then the same JSON routes through the client: every complete answer must be a JSON error with
// a 4xx status (never a 5xx for bad input), and after every batch the daemon must still answer and run a function
// right. The run is deterministic: the seed picks every request.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { eventually, noStrayProcesses, startDaemon, TestDaemon } from './harness';

const SEED = Number(process.env.SOCKPIT_FUZZ_SEED ?? 20240611);
const REQUESTS = Number(process.env.SOCKPIT_FUZZ_REQUESTS ?? 2000);
const BATCH = 50;
/** a connection that got no complete answer within this time is closed (a truncated request waits for more) */
const CONNECTION_MS = 600;

let d: TestDaemon;
let sockpitGid: number;

function groupGid(name: string): number | null {
  const r = spawnSync('getent', ['group', name], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.split(':')[2]) : null;
}

before(async () => {
  // scripts/dev.sh creates the group; a bare test machine may not have it yet
  if (groupGid('sockpit') === null) assert.equal(spawnSync('groupadd', ['--system', 'sockpit']).status, 0, 'groupadd --system sockpit');
  sockpitGid = groupGid('sockpit')!;
  d = await startDaemon();
  await d.deploy('canary', { 'f.py': 'def f(e):\n    return {"echo": e}\n' });
});

after(async () => {
  await d?.stop();
});

/** Runs node -e `script` as uid/gid 65534, with the given supplementary groups; resolves with its stdout. */
function runAsNobody(groups: number[], script: string): Promise<{ out: string; pid: number }> {
  const args = ['--reuid', '65534', '--regid', '65534', ...(groups.length ? ['--groups', groups.join(',')] : ['--clear-groups']), process.execPath, '-e', script];
  return new Promise((resolve, reject) => {
    const child = spawn('setpriv', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve({ out: out.trim(), pid: child.pid! }) : reject(new Error(`setpriv exited ${code}: ${err}`))));
  });
}

/** connects, sends one request (or none), prints "connected <status>" or the error code */
const connectScript = (socket: string, request: string) => `
const c = require('net').connect(${JSON.stringify(socket)});
let data = '';
c.on('connect', () => c.write(${JSON.stringify(request)}));
c.on('data', (b) => { data += b; if (/\\r\\n\\r\\n/.test(data)) { console.log('connected ' + data.split(' ')[1]); process.exit(0); } });
c.on('error', (e) => { console.log(e.code); process.exit(0); });
setTimeout(() => { console.log('timeout'); process.exit(0); }, 5000);
`;

describe('the socket', () => {
  test('is root:sockpit 0660', () => {
    const st = fs.statSync(d.socket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.uid, 0);
    assert.equal(st.gid, sockpitGid);
  });

  test('a non-root uid outside the group cannot connect; a member can, and is identified and audited', async () => {
    // let others traverse the test's directory, so only the socket's own mode decides
    fs.chmodSync(d.dir, 0o711);
    try {
      const outsider = await runAsNobody([], connectScript(d.socket, 'GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n'));
      assert.equal(outsider.out, 'EACCES');
      const member = await runAsNobody([sockpitGid], connectScript(d.socket, 'GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n'));
      assert.equal(member.out, 'connected 200');
      const body = '{"path": 42}';
      const bad = await runAsNobody([sockpitGid], connectScript(d.socket, `PUT /v1/functions/audited HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`));
      assert.equal(bad.out, 'connected 400');
      await eventually(() => d.log().includes(`sockpitd: peer uid=65534 gid=65534 pid=${bad.pid} PUT /v1/functions/audited -> 400 bad_request`), 'the audit line of the refused deploy');
      const stats = await d.client.stats();
      assert.ok((stats.requests?.byUid['65534']?.requests ?? 0) >= 2, JSON.stringify(stats.requests));
      assert.ok((stats.requests?.byUid['65534']?.errors ?? 0) >= 1);
      assert.ok((stats.requests?.byUid['0']?.requests ?? 0) >= 1);
    } finally {
      fs.chmodSync(d.dir, 0o700);
    }
  });

  test('state changes are audited with the peer; calls are counted, not logged', async () => {
    await d.deploy('audit-me', { 'f.py': 'def f(e):\n    return 1\n' });
    const before = (await d.client.stats()).requests!.byUid['0'].calls;
    for (let i = 0; i < 5; i++) assert.equal((await d.client.run('audit-me')).status, 200);
    await d.client.remove('audit-me');
    // the audit line is written once the response is sent: wait for it
    await eventually(() => d.log().includes(`sockpitd: peer uid=0 gid=0 pid=${process.pid} DELETE /v1/functions/audit-me -> 204\n`), 'the audit line of the removal');
    assert.match(d.log(), new RegExp(`sockpitd: peer uid=0 gid=0 pid=${process.pid} PUT /v1/functions/audit-me -> 201\\n`));
    assert.doesNotMatch(d.log(), /POST \/run\/audit-me -> 200/);
    assert.equal((await d.client.stats()).requests!.byUid['0'].calls, before + 5);
  });
});

// --- the fuzzer ---------------------------------------------------------------------------------------------

/** mulberry32: a small, fast, seeded PRNG */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)];
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(0, 255)));
  const ascii = (n: number) => Array.from({ length: n }, () => String.fromCharCode(int(33, 126))).join('');
  return { next, int, pick, bytes, ascii };
}
type Rng = ReturnType<typeof prng>;

interface FuzzCase {
  kind: string;
  data: Buffer;
  /** a request that may happen to be valid (then a 2xx is fine) */
  mayBeValid?: boolean;
}

const ROUTES = [
  ['GET', '/v1/status'],
  ['GET', '/v1/functions'],
  ['GET', '/v1/functions/canary'],
  ['PUT', '/v1/functions/fuzzed'],
  ['DELETE', '/v1/functions/nosuch'],
  ['POST', '/run/canary'],
  ['POST', '/run/nosuch'],
  ['GET', '/v1/zygotes'],
  ['GET', '/v1/stats'],
  ['GET', '/metrics'],
  ['POST', '/v1/benchmarks'],
  ['GET', '/v1/benchmarks'],
  ['GET', '/v1/benchmarks/nosuch'],
] as const;

/** Wrong values for every field of every JSON route (never a valid benchmark suite: it would run one). */
function wrongValue(r: Rng): unknown {
  return r.pick<() => unknown>([
    () => null,
    () => r.int(-1e9, 1e9),
    () => r.next() * 1e308,
    () => -0,
    () => true,
    () => [],
    () => [r.ascii(5)],
    () => ({}),
    () => ({ nested: { deeper: [1, 2, { x: null }] } }),
    () => r.ascii(r.int(0, 40)),
    () => 'relative/path',
    () => '/nonexistent/sockpit-fuzz',
    () => '/proc/self',
    () => '/dev/null',
    () => '\u0000/etc',
    () => '/'.repeat(r.int(1, 5000)),
    () => 'x'.repeat(r.int(5000, 200_000)),
    () => '\ud800',
  ])();
}

function jsonBody(r: Rng): string {
  return r.pick<() => string>([
    () => JSON.stringify({ path: wrongValue(r) }),
    () => JSON.stringify({ suite: wrongValue(r), iterations: wrongValue(r) }),
    () => JSON.stringify({ suite: r.pick(['sandbox', 'provisioning']), iterations: r.pick([-1, 0, 1.5, 1e12, '3', null]) }),
    () => JSON.stringify(wrongValue(r)),
    () => '[' .repeat(r.int(1000, 200_000)) + ']'.repeat(r.int(0, 3)),
    () => '{"a":'.repeat(r.int(1000, 50_000)) + '1' + '}'.repeat(r.int(0, 50_000)),
    () => JSON.stringify(Array.from({ length: r.int(10_000, 300_000) }, (_, i) => i)),
    () => JSON.stringify({ path: '/tmp', extra: 'x'.repeat(r.int(0, 1000)) }).slice(0, r.int(1, 20)),
    () => '{"path": "\\ud800"}',
    () => '{"n": 1e999999}',
    () => '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}',
    () => r.ascii(r.int(1, 300)),
  ])();
}

function badName(r: Rng): string {
  return r.pick([
    'A'.repeat(r.int(1, 5)),
    'x'.repeat(r.int(64, 300)),
    '..',
    '%2e%2e',
    '%00',
    '%FF%FE',
    'caf%C3%A9',
    '-lead',
    'a/b',
    'a%2Fb',
    `nosuch-${r.int(0, 1e6)}`,
    encodeURIComponent(r.ascii(r.int(1, 30))),
  ]);
}

const CRLF = '\r\n';

function request(method: string, url: string, headers: Array<[string, string]>, body: Buffer | string = ''): Buffer {
  const head = `${method} ${url} HTTP/1.1${CRLF}${headers.map(([k, v]) => `${k}: ${v}${CRLF}`).join('')}${CRLF}`;
  return Buffer.concat([Buffer.from(head, 'latin1'), Buffer.isBuffer(body) ? body : Buffer.from(body)]);
}

function generate(r: Rng): FuzzCase {
  const [method, url] = r.pick(ROUTES);
  const kind = r.int(0, 13);
  switch (kind) {
    case 0:
      return { kind: 'garbage bytes', data: r.bytes(r.int(1, 3000)) };
    case 1:
      return {
        kind: 'bad request line',
        data: Buffer.from(
          r.pick([
            `GET${CRLF}${CRLF}`,
            `${r.ascii(8)} ${url} HTTP/1.1${CRLF}Host: x${CRLF}${CRLF}`,
            `GET ${url} HTTP/9.9${CRLF}Host: x${CRLF}${CRLF}`,
            `GET  HTTP/1.1${CRLF}${CRLF}`,
            `GET ${url}${CRLF}${CRLF}`,
            `GET /${'a'.repeat(r.int(10_000, 100_000))} HTTP/1.1${CRLF}Host: x${CRLF}${CRLF}`,
            `\u0000\u0001 ${url} HTTP/1.1${CRLF}${CRLF}`,
            `${method} ${url} HTTP/1.1\n\n`,
            `${method} ${url} HTTP/1.1${CRLF}Host: x${CRLF}`,
          ]),
          'latin1',
        ),
      };
    case 2: {
      const bad = r.pick<Array<[string, string]>>([
        [['Bad Header', 'x']],
        [['X-Huge', 'h'.repeat(r.int(20_000, 120_000))]],
        Array.from({ length: r.int(200, 3000) }, (_, i): [string, string] => [`X-H${i}`, 'v']),
        [['Host', 'x\u0000y']],
        [['Content-Type', '\u00ff\u00fe']],
        [[':', '']],
      ]);
      return { kind: 'bad headers', data: request(method, url, [['Host', 'x'], ...bad]) };
    }
    case 3: {
      const body = jsonBody(r);
      const cl = r.pick([`${body.length}x`, '-1', 'abc', `${body.length} ${body.length}`, '99999999999999999999', '0x10', '']);
      return { kind: 'bad content-length', data: request(method, url, [['Host', 'x'], ['Content-Type', 'application/json'], ['Content-Length', cl]], body) };
    }
    case 4: {
      const body = jsonBody(r);
      return {
        kind: 'conflicting length headers',
        data: request(method, url, [['Host', 'x'], ['Content-Length', String(body.length)], ['Content-Length', String(body.length + 1)], ['Transfer-Encoding', 'chunked']], body),
      };
    }
    case 5: {
      const body = jsonBody(r);
      const cut = r.int(0, Math.max(0, body.length - 1));
      return { kind: 'truncated body', data: request(method, url, [['Host', 'x'], ['Content-Type', 'application/json'], ['Content-Length', String(body.length + r.int(1, 1000))]], body.slice(0, cut)) };
    }
    case 6: {
      const body = jsonBody(r);
      // more bytes than announced: the rest is read as the next request, which is garbage
      return { kind: 'body longer than content-length', data: request(method, url, [['Host', 'x'], ['Content-Type', 'application/json'], ['Content-Length', String(Math.floor(body.length / 2))]], body) };
    }
    case 7:
      return {
        kind: 'oversized body',
        data: request(r.pick(['PUT', 'POST']), r.pick(['/v1/functions/fuzzed', '/run/canary', '/v1/benchmarks']), [['Host', 'x'], ['Content-Type', 'application/json'], ['Content-Length', String(r.int(6 * 2 ** 20 + 1, 2 ** 31))]], r.ascii(100)),
      };
    case 8: {
      const chunks = r.pick([
        `zz${CRLF}abc${CRLF}0${CRLF}${CRLF}`,
        `5${CRLF}ab${CRLF}0${CRLF}${CRLF}`,
        `ffffffffffffffffff${CRLF}x${CRLF}`,
        `3${CRLF}abc0${CRLF}${CRLF}`,
        `-1${CRLF}a${CRLF}0${CRLF}${CRLF}`,
        `4;ext=${'e'.repeat(r.int(1, 20_000))}${CRLF}null${CRLF}0${CRLF}${CRLF}`,
        `4${CRLF}nu`,
      ]);
      return { kind: 'bad chunked encoding', data: request(r.pick(['PUT', 'POST']), r.pick(['/v1/functions/fuzzed', '/run/canary', '/v1/benchmarks']), [['Host', 'x'], ['Content-Type', 'application/json'], ['Transfer-Encoding', 'chunked']], chunks) };
    }
    case 9: {
      const body = Buffer.concat([Buffer.from('{"path": "'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]), Buffer.from('"}')]);
      const path = r.next() < 0.5 ? url : `/v1/functions/${'\u00ff'}\u00fe`;
      return { kind: 'invalid UTF-8', data: request(r.pick(['PUT', 'POST']), path, [['Host', 'x'], ['Content-Type', 'application/json'], ['Content-Length', String(body.length)]], body) };
    }
    case 10:
    case 11: {
      // wrong types and values for every route's body and params
      const body = jsonBody(r);
      const target = r.pick([
        ['PUT', `/v1/functions/${r.next() < 0.5 ? 'fuzzed' : badName(r)}`],
        ['GET', `/v1/functions/${badName(r)}`],
        ['DELETE', `/v1/functions/${badName(r)}`],
        ['POST', `/run/${r.next() < 0.6 ? 'canary' : badName(r)}`],
        ['POST', '/v1/benchmarks'],
        ['GET', `/v1/benchmarks/${badName(r)}`],
        ['GET', `/v1/events?since=${encodeURIComponent(r.ascii(r.int(1, 10)))}`],
        ['GET', `/v1/events?types=${encodeURIComponent(r.ascii(r.int(1, 10)))}`],
        ['GET', `/v1/functions?${r.ascii(r.int(1, 100))}`],
      ]);
      const ct = r.pick(['application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '', r.ascii(10)]);
      return {
        kind: 'wrong types',
        mayBeValid: target[1].startsWith('/run/canary'),
        data: request(target[0], target[1], [['Host', 'x'], ...(ct ? ([['Content-Type', ct]] as Array<[string, string]>) : []), ['Content-Length', String(Buffer.byteLength(body))]], body),
      };
    }
    case 12:
      return { kind: 'unknown route or method', data: request(r.pick(['PATCH', 'TRACE', 'OPTIONS', 'PROPFIND', 'GET', 'HEAD']), r.pick([`/${r.ascii(20)}`, '/run/', '/v1/', '/v1/functions/', `/run/canary/${r.ascii(3)}`, '*']), [['Host', 'x']]) };
    default:
      return { kind: 'no host, HTTP/1.0, pipelined', data: Buffer.concat([request(method, url, []).subarray(0, 0), Buffer.from(`GET /v1/nosuch HTTP/1.0${CRLF}${CRLF}GET /v1/nosuch2 HTTP/1.1${CRLF}Host: x${CRLF}${CRLF}${r.ascii(50)}${CRLF}${CRLF}`)]) };
  }
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** The first complete HTTP response in `data`, or null. */
function parseResponse(data: Buffer, headOnly: boolean): Answer | null {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = data.subarray(0, end).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  if (!m) return { status: -1, headers: {}, body: data };
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const status = Number(m[1]);
  if (headOnly || status === 204 || status === 304) return { status, headers, body: Buffer.alloc(0) };
  if (headers['content-length'] !== undefined) {
    const len = Number(headers['content-length']);
    if (data.length - end - 4 < len) return null;
    return { status, headers, body: data.subarray(end + 4, end + 4 + len) };
  }
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    let rest = data.subarray(end + 4);
    const parts: Buffer[] = [];
    for (;;) {
      const eol = rest.indexOf('\r\n');
      if (eol < 0) return null;
      const size = parseInt(rest.subarray(0, eol).toString(), 16);
      if (size === 0) return { status, headers, body: Buffer.concat(parts) };
      if (rest.length < eol + 2 + size + 2) return null;
      parts.push(rest.subarray(eol + 2, eol + 2 + size));
      rest = rest.subarray(eol + 2 + size + 2);
    }
  }
  return null; // a body until close: not expected from the daemon
}

function sendRaw(socket: string, c: FuzzCase): Promise<{ answer: Answer | null; error?: string }> {
  return new Promise((resolve) => {
    const conn = net.connect(socket);
    let data = Buffer.alloc(0);
    let settled = false;
    const headOnly = c.data.subarray(0, 5).toString('latin1') === 'HEAD ';
    const done = (answer: Answer | null, error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      conn.destroy();
      resolve({ answer, error });
    };
    const timer = setTimeout(() => done(parseResponse(data, headOnly)), CONNECTION_MS);
    conn.on('connect', () => conn.write(c.data, () => {}));
    conn.on('data', (b) => {
      data = Buffer.concat([data, b]);
      const answer = parseResponse(data, headOnly);
      if (answer) done(answer);
    });
    conn.on('error', (err) => done(parseResponse(data, headOnly), (err as NodeJS.ErrnoException).code));
    conn.on('close', () => done(parseResponse(data, headOnly)));
  });
}

describe('fuzz', () => {
  const daemonPid = () => d.pid;

  async function stillServing(where: string): Promise<void> {
    const s = await d.client.status();
    assert.equal(s.pid, daemonPid(), `${where}: the same daemon`);
    const n = Math.floor(Math.random() * 1000);
    const r = await d.client.run('canary', { n });
    assert.equal(r.status, 200, `${where}: ${JSON.stringify(r)}`);
    assert.deepEqual(r.result, { echo: { n } }, where);
  }

  test(`${REQUESTS} malformed requests over raw connections (seed ${SEED})`, { timeout: 600_000 }, async () => {
    const r = prng(SEED);
    const cases = Array.from({ length: REQUESTS }, () => generate(r));
    const seen: Record<string, Record<string, number>> = {};
    const failures: string[] = [];
    for (let b = 0; b < cases.length; b += BATCH) {
      const batch = cases.slice(b, b + BATCH);
      const results = await Promise.all(batch.map((c) => sendRaw(d.socket, c)));
      results.forEach(({ answer }, k) => {
        const c = batch[k];
        const key = answer ? String(answer.status) : 'no complete answer';
        (seen[c.kind] ??= {})[key] = (seen[c.kind][key] ?? 0) + 1;
        if (!answer) return;
        const what = `#${b + k} ${c.kind} ${JSON.stringify(c.data.subarray(0, 120).toString('latin1'))} -> ${answer.status} ${answer.body.subarray(0, 300).toString()}`;
        if (answer.status >= 500 || answer.status < 100) return failures.push(what);
        if (answer.status >= 200 && answer.status < 300) {
          // reads ignore what else came with them, and any JSON event is the function's business; a change of
          // state from a malformed request would be a bug
          const line = c.data.subarray(0, 40).toString('latin1');
          if (!c.mayBeValid && !/^(GET|HEAD) /.test(line) && !line.startsWith('POST /run/canary ')) failures.push(`${what} (a 2xx for a request that can't be valid)`);
          return;
        }
        if (answer.status < 400) return failures.push(what);
        if (c.data.subarray(0, 5).toString('latin1') === 'HEAD ') return; // no body, by definition
        try {
          const body = JSON.parse(answer.body.toString('utf8')) as { error?: { code?: unknown; message?: unknown } };
          if (typeof body.error?.code !== 'string' || typeof body.error?.message !== 'string') failures.push(`${what} (not the error body)`);
        } catch {
          failures.push(`${what} (not JSON)`);
        }
      });
      await stillServing(`after batch ${b / BATCH + 1}`);
    }
    console.log(`fuzz answers by kind: ${JSON.stringify(seen)}`);
    assert.deepEqual(failures.slice(0, 20), [], `${failures.length} bad answers`);
    assert.doesNotMatch(d.log(), /uncaught|unhandled rejection/);
  });

  test('the JSON routes through the client: wrong types and values get a 4xx JSON error', { timeout: 300_000 }, async () => {
    const r = prng(SEED + 1);
    const failures: string[] = [];
    for (let i = 0; i < 300; i++) {
      const body = jsonBody(r);
      const [method, url] = r.pick([
        ['PUT', `/v1/functions/${r.next() < 0.5 ? 'fuzzed' : badName(r)}`],
        ['POST', '/v1/benchmarks'],
        ['POST', `/run/${badName(r)}`],
        ['GET', `/v1/functions/${badName(r)}`],
        ['DELETE', `/v1/functions/${badName(r)}`],
        ['GET', `/v1/benchmarks/${badName(r)}`],
      ] as const);
      const res = await d.client.request(method, url, body);
      const what = `${method} ${url.slice(0, 80)} ${body.slice(0, 80)} -> ${res.status} ${res.body.subarray(0, 200).toString()}`;
      if (res.status < 400 || res.status >= 500) failures.push(what);
      else {
        try {
          const parsed = JSON.parse(res.body.toString('utf8')) as { error?: { code?: unknown } };
          if (typeof parsed.error?.code !== 'string') failures.push(`${what} (not the error body)`);
        } catch {
          failures.push(`${what} (not JSON)`);
        }
      }
      // the event of a call may be any JSON: it is the function's business; malformed JSON is a 400
      const run = await d.client.runRaw('canary', body);
      let valid = true;
      try {
        JSON.parse(body);
      } catch {
        valid = false;
      }
      if (!valid && run.status !== 400) failures.push(`/run/canary with malformed JSON ${body.slice(0, 80)} -> ${run.status}`);
      if (run.status >= 500) failures.push(`/run/canary ${body.slice(0, 80)} -> ${run.status} ${JSON.stringify(run.error)}`);
      if (i % 50 === 49) await stillServing(`after ${i + 1} client requests`);
    }
    assert.deepEqual(failures.slice(0, 20), [], `${failures.length} bad answers`);
    assert.deepEqual((await d.client.listFunctions()).map((f) => f.name).sort(), ['canary'], 'no function was deployed or removed by bad input');
    assert.doesNotMatch(d.log(), /uncaught|unhandled rejection/);
  });

  test('events the function cannot take: deeply nested, huge, invalid UTF-8, lone surrogates', { timeout: 120_000 }, async () => {
    const cases: Array<[string, Buffer | string]> = [
      ['nested 100 000 deep', '['.repeat(100_000) + ']'.repeat(100_000)],
      ['nested objects 20 000 deep', '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000)],
      ['invalid UTF-8', Buffer.from([0x22, 0xff, 0xfe, 0x22])],
      ['a lone surrogate escape', '"\\ud800"'],
      ['a number too big for a double', '1e999999'],
      ['5 MB of numbers', JSON.stringify(Array.from({ length: 800_000 }, (_, i) => i))],
    ];
    for (const [what, body] of cases) {
      const r = await d.client.runRaw('canary', body);
      assert.ok(r.status === 200 || (r.status >= 400 && r.status < 500), `${what}: ${r.status} ${JSON.stringify(r.error)?.slice(0, 300)}`);
      if (r.status !== 200) assert.equal(typeof r.error?.code, 'string', what);
      await stillServing(`after ${what}`);
    }
  });

  test('afterwards: the same daemon, no stray process', async () => {
    await stillServing('at the end');
    await noStrayProcesses(d);
  });
});
