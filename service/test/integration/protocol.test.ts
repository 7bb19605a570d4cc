// The runtime's protocol refusals: a fork request sent to something that is not a Zygote, and anything but a
// fork request sent to a Zygote, each get a clear error answer instead of a hang or a crash.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import * as native from '../../../native';
import { decodeReply as parseReply, encodeCall, encodeFrame, FrameDecoder } from '../../src/protocol';
import { RUNTIME_DIR } from '../../src/paths';

/**
 * Starts a runtime script with one end of a socketpair at fd 3 (and, at fd 4, a handle on a PID namespace:
 * zygote.py's PID_NS_FD, which it checks first); returns our end as a socket.
 */
function startRuntime(script: string) {
  const [ours, theirs] = native.socketpair();
  const pidNamespace = fs.openSync('/proc/self/ns/pid', 'r');
  const child = spawn('/usr/bin/python3', ['-S', '-I', '-B', path.join(RUNTIME_DIR, script)], {
    stdio: ['ignore', 'ignore', 'pipe', theirs, pidNamespace],
    cwd: '/tmp',
  });
  fs.closeSync(theirs);
  fs.closeSync(pidNamespace);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const socket = new net.Socket({ fd: ours, readable: true, writable: true });
  const decoder = new FrameDecoder();
  const frames: Buffer[] = [];
  const waiters: Array<() => void> = [];
  socket.on('data', (chunk: Buffer) => {
    frames.push(...decoder.push(chunk));
    for (const w of waiters.splice(0)) w();
  });
  const next = async (): Promise<Buffer> => {
    const deadline = Date.now() + 10_000;
    while (frames.length === 0) {
      if (Date.now() > deadline) throw new Error(`no answer from ${script}; stderr: ${stderr}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 100);
      });
    }
    return frames.shift()!;
  };
  const stop = async () => {
    socket.destroy();
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
  };
  return { socket, next, stop, child };
}

test('an instance refuses a fork request with a clear error, and still serves calls after it', async () => {
  const inst = startRuntime('instance.py');
  try {
    inst.socket.write(encodeFrame(Buffer.from('F{"op": "fork", "kind": "instance"}')));
    const refused = parseReply(await inst.next(), '');
    assert.equal(refused.status, 'error');
    assert.match(JSON.parse(refused.body.toString()).message, /function instance: it serves calls only.*fork requests go to a Zygote/);
    // a call still gets an answer (here f.py can't load: there is no /handler outside a sandbox)
    inst.socket.write(encodeCall('r1', Buffer.from('null')));
    assert.equal(parseReply(await inst.next(), 'r1').status, 'load_error');
  } finally {
    await inst.stop();
  }
});

test('a Zygote refuses what is not a fork request, and a fork request without its fds', async () => {
  const zygote = startRuntime('zygote.py');
  try {
    const hello = JSON.parse((await zygote.next()).toString());
    assert.equal(hello.ready, true, 'the Zygote says it is ready first');
    zygote.socket.write(encodeFrame(Buffer.from('C{"event": 1}')));
    const notFork = JSON.parse((await zygote.next()).toString());
    assert.equal(notFork.ok, false);
    assert.match(notFork.error, /serves fork requests only/);
    zygote.socket.write(encodeFrame(Buffer.from(JSON.stringify({ op: 'fork', id: 'x1', kind: 'instance', cgroups: 0 }))));
    const noFds = JSON.parse((await zygote.next()).toString());
    assert.deepEqual([noFds.id, noFds.ok], ['x1', false]);
    assert.match(noFds.error, /needs 3 fds, got 0/);
    zygote.socket.write(encodeFrame(Buffer.from(JSON.stringify({ op: 'exec', id: 'x2' }))));
    assert.match(JSON.parse((await zygote.next()).toString()).error, /fork requests only, not 'exec'/);
    assert.equal(zygote.child.exitCode, null, 'and it is still running');
  } finally {
    await zygote.stop();
  }
});
