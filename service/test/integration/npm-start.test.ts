// `sudo npm start` on a root login (no SUDO_UID): scripts/start.js starts sockpitd as root, but the web panel is
// served by a process that is not root (nobody, with the sockpit group as its only group, through which it opens
// the socket). Its sign-in URL works, `sockpit panel --show-url` run as that same user prints it, and Ctrl-C
// (SIGTERM) stops everything it started. As a user with no daemon to reach, it says how to start one and exits 1.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SockpitClient } from '../../src/client';
import { processAlive } from '../../../main/panel-token-file';
import { groupGid, parsePasswd } from '../../../main/panel-user';
import { descendantsOf, eventually } from './harness';

const REPO = path.resolve(__dirname, '../../..');
const START = path.join(REPO, 'scripts/start.js');
const CLI = path.join(REPO, 'bin/sockpit.js');
const HEADER = { 'x-sockpit-panel': '1' };

const nobody = parsePasswd(fs.readFileSync('/etc/passwd', 'utf8')).find((u) => u.name === 'nobody')!;
let sockpitGid: number;
let dir: string;
let socket: string;
let start: ChildProcess;
let output = '';
let signInUrl: string;

/** The environment of a root login: no sudo, no display (web mode), no runtime dir. */
function rootLoginEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (/^(SUDO_|SOCKPIT_)/.test(name)) delete env[name];
  delete env.DISPLAY;
  delete env.WAYLAND_DISPLAY;
  delete env.XDG_RUNTIME_DIR;
  return env;
}

/** The pid of the process listening on 127.0.0.1:port (its socket's inode, found among every process's fds). */
function listenerOf(port: number): number | null {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const row = fs
    .readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((f) => f[1] === local && f[3] === '0A');
  if (!row) return null;
  const link = `socket:[${row[9]}]`;
  for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === link) return Number(pid);
      } catch {
        // closed meanwhile
      }
    }
  }
  return null;
}

/** Real, effective, saved and filesystem ids, and the supplementary groups, of a process. */
function idsOf(pid: number): { uid: number[]; gid: number[]; groups: number[] } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => (new RegExp(`^${name}:[ \\t]*(.*)$`, 'm').exec(status)?.[1] ?? '').trim().split(/\s+/).filter(Boolean).map(Number);
  return { uid: field('Uid'), gid: field('Gid'), groups: field('Groups') };
}

before(async () => {
  assert.ok(nobody, 'this test needs a `nobody` account');
  // start.js makes the group when it is missing; the test reads its gid afterwards
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockpit-start-'));
  // the panel's user must be able to reach the socket below it (the state dir stays 0700: the daemon makes it)
  fs.chmodSync(dir, 0o711);
  socket = path.join(dir, 'sockpitd.sock');
  const config = path.join(dir, 'sockpitd.yaml');
  fs.writeFileSync(config, JSON.stringify({ pool: { initial: 2, max: 16 } }));
  start = spawn(process.execPath, [START, '--socket', socket, '--state-dir', path.join(dir, 'state'), '--config', config, '--port', '0'], {
    env: rootLoginEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  signInUrl = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      const m = /sockpit panel \(web mode: [^)]*\): (http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]+)/.exec(output);
      if (m) resolve(m[1]);
    };
    start.stdout!.on('data', onData);
    start.stderr!.on('data', (c) => (output += c));
    start.once('exit', (code) => reject(new Error(`scripts/start.js exited with ${code}:\n${output}`)));
  });
  sockpitGid = groupGid(fs.readFileSync('/etc/group', 'utf8'), 'sockpit')!;
});

after(async () => {
  if (start && start.exitCode === null && start.signalCode === null) {
    const exited = new Promise((r) => start.once('exit', r));
    start.kill('SIGTERM');
    await exited;
  }
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('the web panel is served by nobody with the sockpit group only, a child of the root start, not root', () => {
  const port = Number(new URL(signInUrl).port);
  const pid = listenerOf(port);
  assert.ok(pid, `nothing listens on port ${port}`);
  assert.notEqual(pid, start.pid);
  assert.ok(descendantsOf(start.pid!).includes(pid), 'the panel is a process the root start started');
  const ids = idsOf(pid);
  assert.deepEqual(ids.uid, [nobody.uid, nobody.uid, nobody.uid, nobody.uid]);
  assert.deepEqual(ids.gid, [sockpitGid, sockpitGid, sockpitGid, sockpitGid]);
  assert.deepEqual(ids.groups, []);
  assert.match(output, /the panel runs as nobody \(uid 65534, group sockpit/);
  // the samples were deployed by the panel's user, not by root
  assert.match(output, /deployed hello v\d+/);
});

test('its sign-in URL works: the token buys the cookie, and /v1/status answers through the panel', async () => {
  const res = await fetch(signInUrl, { redirect: 'manual' });
  assert.equal(res.status, 303);
  const cookie = res.headers.get('set-cookie')!.split(';')[0];
  const status = await fetch(new URL('/api/v1/status', signInUrl), { headers: { ...HEADER, cookie } });
  assert.equal(status.status, 200);
  const client = new SockpitClient(socket);
  try {
    const body = (await status.json()) as { pid: number };
    assert.equal(body.pid, (await client.status()).pid);
    const hello = await client.getFunction('hello');
    assert.equal(hello.owner, nobody.uid);
  } finally {
    await client.close();
  }
});

test('`sockpit panel --show-url` run as the same user prints the same URL (its token file is private to it)', () => {
  const port = new URL(signInUrl).port;
  const shown = spawnSync(process.execPath, [CLI, 'panel', '--show-url', '--port', port], {
    uid: nobody.uid,
    gid: sockpitGid,
    cwd: '/',
    env: { PATH: process.env.PATH, HOME: nobody.home },
    encoding: 'utf8',
  });
  assert.equal(shown.status, 0, shown.stderr);
  assert.equal(shown.stdout.trim(), signInUrl);
  const file = path.join(os.tmpdir(), `sockpit-${nobody.uid}`, `panel-${port}.json`);
  const st = fs.statSync(file);
  assert.equal(st.uid, nobody.uid);
  assert.equal(st.mode & 0o777, 0o600);
});

test('SIGTERM to the root start stops the panel and the daemon it started, and removes the token file', async () => {
  const port = Number(new URL(signInUrl).port);
  const panelPid = listenerOf(port)!;
  const client = new SockpitClient(socket);
  const daemonPid = (await client.status()).pid;
  await client.close();
  const exited = new Promise<number | null>((r) => start.once('exit', (code) => r(code)));
  start.kill('SIGTERM');
  assert.equal(await exited, 0, output);
  await eventually(() => !processAlive(panelPid) && !processAlive(daemonPid), 'the panel and the daemon to exit', 15_000);
  assert.equal(fs.existsSync(path.join(os.tmpdir(), `sockpit-${nobody.uid}`, `panel-${port}.json`)), false);
});

test('as a user with no daemon on the socket: says how to start it and exits 1', () => {
  const res = spawnSync(process.execPath, [START, '--socket', path.join(dir, 'nothing-here.sock'), '--port', '0'], {
    uid: nobody.uid,
    gid: sockpitGid,
    cwd: '/',
    env: { PATH: process.env.PATH, HOME: nobody.home },
    encoding: 'utf8',
  });
  assert.equal(res.status, 1, res.stdout + res.stderr);
  assert.match(res.stderr, /sockpitd does not answer on .*nothing-here\.sock/);
  assert.match(res.stderr, /systemctl start sockpitd/);
  assert.match(res.stderr, /sudo npm start/);
});
