// Deploys are uploads (issue 12, items 3 and 4): the daemon unpacks a tar stream it was sent and never opens a
// path a client names; what is not a regular file or a directory, or goes outside the folder, or is over a limit,
// is refused with a clear error that never carries a host file's content. Functions belong to the uid that
// deployed them: other members of the socket's group list and invoke them, but do not redeploy, delete or read
// their environment's values.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ApiError, SockpitClient } from '../../src/client';
import { functionTar, tarOf, TarEntry } from '../fixtures/tar';
import { startDaemon, TestDaemon } from './harness';

const LIMITS = { maxBytes: 64 * 1024, maxFiles: 20, maxDepth: 4 };
/** the lines of /etc/shadow that hold a password field: none of them may ever appear in an answer */
const SHADOW = fs.readFileSync('/etc/shadow', 'utf8').split('\n').filter((l) => l.includes(':'));

function neverShowsShadow(text: string): void {
  for (const line of SHADOW) assert.ok(!text.includes(line), 'an answer carries a line of /etc/shadow');
  assert.ok(!/root:[^:\s]*:\d+:/.test(text), 'an answer carries a shadow entry');
}

async function put(client: SockpitClient, name: string, body: Buffer, contentType = 'application/x-tar') {
  const res = await client.request('PUT', `/v1/functions/${name}`, body, { 'content-type': contentType });
  const text = res.body.toString('utf8');
  neverShowsShadow(text);
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

describe('deploy by upload', () => {
  let d: TestDaemon;

  before(async () => {
    d = await startDaemon({ deploy: LIMITS });
    await d.deploy('canary', { 'f.py': 'def f(e):\n    return "alive"\n' });
  });
  after(async () => {
    assert.equal((await d.client.run('canary')).result, 'alive', 'the daemon still serves at the end');
    await d?.stop();
  });

  /** nothing of a refused upload is left, and no function of that name appears */
  function leftNothing(name: string): void {
    const incoming = path.join(d.stateDir, 'functions', '.incoming');
    assert.deepEqual(fs.existsSync(incoming) ? fs.readdirSync(incoming) : [], [], 'no unpacked upload is left');
    assert.ok(!fs.existsSync(path.join(d.stateDir, 'functions', name)), 'no snapshot of the refused function');
  }

  async function refused(name: string, entries: TarEntry[], status: number, message: RegExp): Promise<void> {
    const res = await put(d.client, name, await functionTar('should not deploy', entries));
    assert.equal(res.status, status, JSON.stringify(res.body));
    assert.match(res.body.error.message, message);
    leftNothing(name);
    await assert.rejects(d.client.getFunction(name), (err: ApiError) => err.status === 404);
  }

  test('the CLI client packs a folder and the daemon runs what it was sent; owner and source are recorded', async () => {
    const dir = path.join(d.dir, 'src', 'packed');
    fs.mkdirSync(path.join(dir, 'lib', 'deeper'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'f.py'), 'from lib.deeper import value\ndef f(e):\n    return value.V\n');
    fs.writeFileSync(path.join(dir, 'lib', '__init__.py'), '');
    fs.writeFileSync(path.join(dir, 'lib', 'deeper', '__init__.py'), '');
    fs.writeFileSync(path.join(dir, 'lib', 'deeper', 'value.py'), 'V = "from the upload"\n', { mode: 0o600 });
    const fn = await d.client.deploy('packed', dir);
    assert.equal(fn.owner, 0);
    assert.equal(fn.source, dir);
    assert.equal((await d.client.run('packed')).result, 'from the upload');
    // compiled at deploy (as the sandbox uid), then the snapshot is root's again and readable, never writable, by others
    const snapshot = path.join(d.stateDir, 'functions', 'packed', `v${fn.version}`);
    const pycache = path.join(snapshot, '__pycache__');
    const pyc = fs.readdirSync(pycache).find((n) => /^f\..*\.pyc$/.test(n));
    assert.ok(pyc, 'f.py was compiled');
    for (const p of [snapshot, pycache, path.join(pycache, pyc!), path.join(snapshot, 'lib', 'deeper', 'value.py')]) {
      const st = fs.statSync(p);
      assert.equal(st.uid, 0, p);
      assert.equal(st.mode & 0o022, 0, `${p} is writable by others`);
      assert.equal(st.mode & 0o004, 0o004, `${p} is not readable by the sandbox`);
    }
    // a later change to the folder does not change the deployed function: the daemon has its own copy
    fs.writeFileSync(path.join(dir, 'lib', 'deeper', 'value.py'), 'V = "changed"\n');
    await d.client.remove('packed');
  });

  test('a symlink is refused, even one named requirements.txt pointing at /etc/shadow', async () => {
    await refused('link-req', [{ name: 'requirements.txt', type: 'symlink', linkname: '/etc/shadow' }], 400, /"requirements\.txt" is a symbolic link/);
    await refused('link-any', [{ name: 'data/x', type: 'symlink', linkname: '../../../../etc/shadow' }], 400, /symbolic link/);
  });

  test('a hard link is refused', async () => {
    await refused('hardlink', [{ name: 'shadow', type: 'link', linkname: '/etc/shadow' }], 400, /"shadow" is a hard link/);
  });

  test('paths with .. are refused', async () => {
    await refused('dotdot', [{ name: '../x', content: 'out' }], 400, /"\.\." is refused/);
    await refused('dotdot-inner', [{ name: 'a/../../x', content: 'out' }], 400, /"\.\." is refused/);
    assert.ok(!fs.existsSync(path.join(d.stateDir, 'functions', 'x')));
  });

  test('absolute paths are refused', async () => {
    await refused('absolute', [{ name: '/tmp/sockpit-absolute-entry', content: 'out' }], 400, /absolute paths are refused/);
    assert.ok(!fs.existsSync('/tmp/sockpit-absolute-entry'));
  });

  test('devices and FIFOs are refused', async () => {
    await refused('chardev', [{ name: 'null', type: 'character-device', devmajor: 1, devminor: 3 }], 400, /character device/);
    await refused('blockdev', [{ name: 'disk', type: 'block-device', devmajor: 8, devminor: 0 }], 400, /block device/);
    await refused('fifo', [{ name: 'requirements.txt', type: 'fifo' }], 400, /FIFO/);
  });

  test('an upload over deploy.maxBytes is refused with 413', async () => {
    await refused('too-big', [{ name: 'blob.bin', content: Buffer.alloc(LIMITS.maxBytes * 2, 7) }], 413, /larger than 65536 bytes \(deploy\.maxBytes\)/);
    // far over it: the answer still comes (the rest is read and dropped), and the connection serves on
    await refused('far-too-big', [{ name: 'blob.bin', content: Buffer.alloc(16 * 2 ** 20, 7) }], 413, /deploy\.maxBytes/);
    // a client that streams a folder over the limit gets the same answer
    const dir = path.join(d.dir, 'src', 'huge');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'f.py'), 'def f(e):\n    return 1\n');
    fs.writeFileSync(path.join(dir, 'data.bin'), Buffer.alloc(8 * 2 ** 20, 1));
    await assert.rejects(d.client.deploy('huge', dir), (err: ApiError) => err.status === 413);
    leftNothing('huge');
  });

  test('an upload with more than deploy.maxFiles entries is refused with 413', async () => {
    const many = Array.from({ length: LIMITS.maxFiles + 5 }, (_, i) => ({ name: `m${i}.txt`, content: 'x' }));
    await refused('too-many', many, 413, /more than 20 files and directories \(deploy\.maxFiles\)/);
  });

  test('an upload deeper than deploy.maxDepth is refused with 413', async () => {
    await refused('too-deep', [{ name: 'a/b/c/d/e.txt', content: 'x' }], 413, /5 levels deep: the limit is 4 \(deploy\.maxDepth\)/);
    // at the limit is fine
    const ok = await put(d.client, 'deep-enough', await functionTar('deep enough', [{ name: 'a/b/c/e.txt', content: 'x' }]));
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    await d.client.remove('deep-enough');
  });

  test('f.py, requirements.txt and ol.yaml must be regular files; a file may appear once', async () => {
    const noF = await put(d.client, 'no-f', await tarOf([{ name: 'g.py', content: 'x = 1\n' }]));
    assert.equal(noF.status, 400);
    assert.match(noF.body.error.message, /no f\.py/);
    await refused('req-dir', [{ name: 'requirements.txt', type: 'directory' }], 400, /requirements\.txt must be a regular file/);
    await refused('ol-dir', [{ name: 'ol.yaml/x', content: 'x' }], 400, /ol\.yaml must be a regular file/);
    const fDir = await put(d.client, 'f-dir', await tarOf([{ name: 'f.py', type: 'directory' }]));
    assert.equal(fDir.status, 400);
    await refused('twice', [{ name: 'f.py', content: 'def f(e):\n    return "second"\n' }], 400, /"f\.py" appears twice/);
    leftNothing('f-dir');
  });

  test('a body that is not a tar, or a JSON {"path"}, deploys nothing', async () => {
    const garbage = await put(d.client, 'garbage', Buffer.alloc(4096, 0x41));
    assert.equal(garbage.status, 400);
    assert.match(garbage.body.error.message, /not a valid tar stream/);
    const truncated = (await functionTar('cut')).subarray(0, 700);
    assert.equal((await put(d.client, 'truncated', truncated)).status, 400);
    const byPath = await put(d.client, 'by-path', Buffer.from(JSON.stringify({ path: path.join(d.dir, 'src', 'canary') })), 'application/json');
    assert.equal(byPath.status, 400);
    assert.match(byPath.body.error.message, /tar stream/);
    for (const name of ['garbage', 'truncated', 'by-path']) leftNothing(name);
  });

  test("issue 13 items 3 and 4: ol.yaml above the operator's ceilings, or too big to parse cheaply, is refused", async () => {
    const greedy = await put(d.client, 'greedy', await functionTar('greedy', [{ name: 'ol.yaml', content: 'limits:\n  memory_mb: 1048576\n  pids: 1000000\n' }]));
    assert.equal(greedy.status, 400);
    assert.match(greedy.body.error.message, /memory_mb: 1048576 is above the daemon's ceiling of 4096 \(limits\.max\.memoryMb\)/);
    assert.match(greedy.body.error.message, /pids: 1000000 is above the daemon's ceiling of 1024/);
    const keys = `environment:\n${Array.from({ length: 3000 }, (_, i) => `  K${i}: v`).join('\n')}\n`;
    const many = await put(d.client, 'many-keys', await functionTar('many', [{ name: 'ol.yaml', content: keys }]));
    assert.equal(many.status, 400);
    assert.match(many.body.error.message, /more than 2000 lines and commas/);
    for (const name of ['greedy', 'many-keys']) leftNothing(name);
  });

  test('mangled tar streams get an answer (201, 400 or 413), never a crash, and leave nothing behind', async () => {
    const valid = await functionTar('mangled', [
      { name: 'lib/a.py', content: 'A = 1\n' },
      { name: 'ol.yaml', content: 'environment:\n  K: v\n' },
    ]);
    let seed = 12;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const statuses = new Set<number>();
    for (let i = 0; i < 400; i++) {
      const mangled = Buffer.from(valid);
      // bytes of the headers (names, modes, sizes, type flags, checksums) changed, or the stream cut short
      for (let k = 0, n = 1 + rand(8); k < n; k++) mangled[rand(1024)] = rand(256);
      const body = rand(5) === 0 ? mangled.subarray(0, rand(mangled.length)) : mangled;
      const res = await put(d.client, 'mangled', body);
      assert.ok([201, 400, 413].includes(res.status), `case ${i}: ${res.status} ${JSON.stringify(res.body)}`);
      statuses.add(res.status);
    }
    assert.ok(statuses.has(400), 'some of them were refused');
    const incoming = path.join(d.stateDir, 'functions', '.incoming');
    assert.deepEqual(fs.readdirSync(incoming), [], 'no unpacked upload is left');
    assert.equal((await d.client.run('canary')).result, 'alive');
    if (statuses.has(201)) await d.client.remove('mangled');
  });

  test("issue 12, chain step 3: a function's folder with requirements.txt -> /etc/shadow can't be deployed", async () => {
    // the function builds the trap in its own /tmp, as the red team did
    await d.deploy('trapper', {
      'f.py': [
        'import os',
        'def f(e):',
        '    os.makedirs("/tmp/evil", exist_ok=True)',
        '    open("/tmp/evil/f.py", "w").write("def f(e):\\n    return 1\\n")',
        '    if not os.path.islink("/tmp/evil/requirements.txt"):',
        '        os.symlink("/etc/shadow", "/tmp/evil/requirements.txt")',
        '    return "ready"',
        '',
      ].join('\n'),
    });
    const run = await d.client.run('trapper');
    assert.equal(run.result, 'ready');
    const inDaemon = path.join(d.stateDir, 'sandboxes', run.sandbox!, 'scratch', 'tmp', 'evil'); // its /tmp (rootfs.ts)
    // 1. naming the path, as the panel's proxy let a function do: there is no such form any more
    const byPath = await put(d.client, 'evil', Buffer.from(JSON.stringify({ path: inDaemon })), 'application/json');
    assert.equal(byPath.status, 400);
    // 2. even root packing that folder (seen through the daemon's mount namespace) sends a link, which is refused
    const seen = `/proc/${d.pid}/root${inDaemon}`;
    assert.ok(fs.lstatSync(path.join(seen, 'requirements.txt')).isSymbolicLink(), 'the trap is in place');
    await assert.rejects(d.client.deploy('evil', seen), (err: ApiError) => {
      assert.equal(err.status, 400);
      assert.match(err.message, /"requirements\.txt" is a symbolic link/);
      neverShowsShadow(JSON.stringify({ message: err.message, detail: err.detail }));
      return true;
    });
    leftNothing('evil');
    neverShowsShadow(d.log());
  });
});

// ---- ownership ----------------------------------------------------------------------------------------------

const OTHER_UID = 4242;
const THIRD_UID = 4243;
/** a group the test can give the socket without changing the host: Debian's nogroup */
const SOCKET_GID = 65534;

interface Answer {
  status: number;
  body: string;
}

/**
 * One request as another uid: a child process that setuid()s to `uid` with the socket's group as its only group,
 * and speaks HTTP over the unix socket with nothing but Node's own modules.
 */
function requestAs(uid: number, socket: string, method: string, url: string, body?: Buffer, contentType?: string): Promise<Answer> {
  const script = `
    const http = require('node:http');
    const input = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
    const req = http.request({ socketPath: input.socket, method: input.method, path: input.url,
      headers: input.contentType ? { 'content-type': input.contentType } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => process.stdout.write(JSON.stringify({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') })));
    });
    req.on('error', (e) => { process.stdout.write(JSON.stringify({ status: -1, body: e.message })); });
    req.end(input.body ? Buffer.from(input.body, 'base64') : undefined);`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { uid, gid: SOCKET_GID, cwd: '/', stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`the uid ${uid} client exited with ${code}: ${err}`));
      resolve(JSON.parse(out) as Answer);
    });
    child.stdin.end(JSON.stringify({ socket, method, url, contentType, body: body?.toString('base64') }));
  });
}

describe('functions belong to the uid that deployed them', () => {
  let d: TestDaemon;
  const as = (uid: number, method: string, url: string, body?: Buffer, type?: string) => requestAs(uid, d.socket, method, url, body, type);

  before(async () => {
    d = await startDaemon({ socketGroup: 'nogroup' });
    fs.chmodSync(d.dir, 0o711); // the other uids reach the socket through the test's directory
    await d.deploy('roots', {
      'f.py': 'import os\ndef f(e):\n    return "root\'s " + str(len(os.environ.get("API_KEY", "")))\n',
      'ol.yaml': 'environment:\n  API_KEY: hunter2-root-secret\n',
    });
  });
  after(async () => {
    await d?.stop();
  });

  test('the socket lets the other uid in (the precondition of the tests below)', async () => {
    const status = await as(OTHER_UID, 'GET', '/v1/status');
    assert.equal(status.status, 200, status.body);
  });

  test("another uid lists and invokes root's function, and sees environment keys only", async () => {
    const list = await as(OTHER_UID, 'GET', '/v1/functions');
    assert.equal(list.status, 200);
    assert.ok(!list.body.includes('hunter2'), 'the list carries no environment value');
    const listed = JSON.parse(list.body).functions.find((f: { name: string }) => f.name === 'roots');
    assert.deepEqual(listed.environmentKeys, ['API_KEY']);
    assert.equal(listed.owner, 0);
    assert.equal(listed.environment, undefined);

    const one = await as(OTHER_UID, 'GET', '/v1/functions/roots');
    assert.equal(one.status, 200);
    assert.ok(!one.body.includes('hunter2'), "another uid does not read the function's environment values");
    assert.deepEqual(JSON.parse(one.body).environmentKeys, ['API_KEY']);

    const run = await as(OTHER_UID, 'POST', '/run/roots', Buffer.from('null'), 'application/json');
    assert.equal(run.status, 200, run.body);
    assert.equal(JSON.parse(run.body), "root's 19");
  });

  test('even root sees no values in the list; root and the owner see them on the function itself', async () => {
    const list = await d.client.request('GET', '/v1/functions');
    assert.ok(!list.body.toString().includes('hunter2'));
    assert.equal((await d.client.getFunction('roots')).environment?.API_KEY, 'hunter2-root-secret');
  });

  test("another uid may not redeploy or delete root's function: 403", async () => {
    const redeploy = await as(OTHER_UID, 'PUT', '/v1/functions/roots', await functionTar('taken over'), 'application/x-tar');
    assert.equal(redeploy.status, 403, redeploy.body);
    assert.match(JSON.parse(redeploy.body).error.message, /belongs to uid 0: only its owner or root may redeploy it/);
    const del = await as(OTHER_UID, 'DELETE', '/v1/functions/roots');
    assert.equal(del.status, 403, del.body);
    assert.match(JSON.parse(del.body).error.message, /only its owner or root may delete it/);
    const fn = await d.client.getFunction('roots');
    assert.equal(fn.version, 1, 'still the version root deployed');
    assert.equal((await d.client.run('roots')).result, "root's 19");
  });

  test('a function deployed by another uid is theirs: a third uid gets 403, the owner and root may manage it', async () => {
    const deployed = await as(OTHER_UID, 'PUT', '/v1/functions/theirs', await tarOf([
      { name: 'f.py', content: 'def f(e):\n    return "theirs"\n' },
      { name: 'ol.yaml', content: 'environment:\n  TOKEN: owner-only-value\n' },
    ]), 'application/x-tar');
    assert.equal(deployed.status, 201, deployed.body);
    assert.equal(JSON.parse(deployed.body).owner, OTHER_UID);

    const third = await as(THIRD_UID, 'GET', '/v1/functions/theirs');
    assert.ok(!third.body.includes('owner-only-value'));
    assert.equal((await as(THIRD_UID, 'PUT', '/v1/functions/theirs', await functionTar('mine now'), 'application/x-tar')).status, 403);
    assert.equal((await as(THIRD_UID, 'DELETE', '/v1/functions/theirs')).status, 403);
    assert.equal((await as(THIRD_UID, 'POST', '/run/theirs', Buffer.from('null'), 'application/json')).status, 200);

    const own = await as(OTHER_UID, 'GET', '/v1/functions/theirs');
    assert.equal(JSON.parse(own.body).environment.TOKEN, 'owner-only-value');
    const redeployed = await as(OTHER_UID, 'PUT', '/v1/functions/theirs', await functionTar('theirs v2'), 'application/x-tar');
    assert.equal(redeployed.status, 201, redeployed.body);
    assert.equal((await d.client.run('theirs')).result, 'theirs v2');

    assert.equal((await d.client.getFunction('theirs')).environment !== undefined, true, 'root reads the values');
    await d.client.remove('theirs'); // root may delete anyone's function
    assert.equal((await as(OTHER_UID, 'GET', '/v1/functions/theirs')).status, 404);
  });

  test('owners survive a restart', async () => {
    const deployed = await as(OTHER_UID, 'PUT', '/v1/functions/kept', await functionTar('kept'), 'application/x-tar');
    assert.equal(deployed.status, 201, deployed.body);
    await d.killAndRestart();
    assert.equal((await d.client.getFunction('kept')).owner, OTHER_UID);
    assert.equal((await as(THIRD_UID, 'DELETE', '/v1/functions/kept')).status, 403);
    assert.equal((await as(OTHER_UID, 'DELETE', '/v1/functions/kept')).status, 204);
  });
});
