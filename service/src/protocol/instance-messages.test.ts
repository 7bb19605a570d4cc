import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ForeignReply, ProtocolError } from './errors';
import { FrameDecoder } from './framing';
import { decodeErrorBody, decodeInstanceRequest, decodeReply, encodeCall, encodeSetup } from './instance-messages';

test('a reply splits into header and body', () => {
  const reply = decodeReply(Buffer.from('{"id":"a1","status":"ok","load_ms":1.5,"exec_ms":0.25}\n{"x": [1, 2]}'), 'a1');
  assert.equal(reply.type, 'reply');
  assert.equal(reply.status, 'ok');
  assert.equal(reply.loadMs, 1.5);
  assert.equal(reply.execMs, 0.25);
  assert.deepEqual(JSON.parse(reply.body.toString()), { x: [1, 2] });
});

test('malformed replies are named errors', () => {
  assert.throws(() => decodeReply(Buffer.from('no newline'), 'a1'), /no header line/);
  assert.throws(() => decodeReply(Buffer.from('{"id":"a1","status":"maybe"}\n'), 'a1'), /unknown status/);
  assert.throws(() => decodeReply(Buffer.from('{oops\n'), 'a1'), ProtocolError);
  assert.throws(() => decodeReply(Buffer.from('\n'), 'a1'), ProtocolError);
});

test('forged replies are refused: other ids, nesting, timings out of range, nested error bodies', () => {
  const ok = (header: string, body = '1') => Buffer.from(`${header}\n${body}`);
  assert.throws(() => decodeReply(ok('{"id":"b2","status":"ok","load_ms":1,"exec_ms":1}'), 'a1'), ForeignReply);
  assert.throws(() => decodeReply(ok('{"status":"ok","load_ms":1,"exec_ms":1}'), 'a1'), ForeignReply);
  assert.throws(() => decodeReply(ok(`{"id":"a1","status":"ok","load_ms":${'['.repeat(3000)}`), 'a1'), /no header line|nested/);
  assert.throws(() => decodeReply(ok('{"id":"a1","status":"ok","load_ms":1e308,"exec_ms":1}'), 'a1'), /load_ms/);
  assert.throws(() => decodeReply(ok('{"id":"a1","status":"ok","load_ms":-1,"exec_ms":1}'), 'a1'), /load_ms/);
  assert.throws(() => decodeReply(ok('{"id":"a1","status":"ok","load_ms":1}'), 'a1'), /exec_ms/);
  const nested = `{"type": "E", "message": ${'['.repeat(100000)}${']'.repeat(100000)}}`;
  assert.throws(() => decodeReply(ok('{"id":"a1","status":"error","load_ms":1,"exec_ms":1}', nested), 'a1'), /nested/);
  const fine = decodeReply(ok('{"id":"a1","status":"error","load_ms":1,"exec_ms":1}', '{"type":"E","message":"m","traceback":"t"}'), 'a1');
  assert.deepEqual(decodeErrorBody(fine.body), { type: 'E', message: 'm', traceback: 't' });
});

test('a call carries its request id before the event', () => {
  const [frame] = new FrameDecoder().push(encodeCall('c0ffee', Buffer.from('{"a": 1}')));
  assert.equal(frame.toString(), 'Cc0ffee\n{"a": 1}');
  assert.deepEqual(decodeInstanceRequest(frame), { type: 'call', id: 'c0ffee', event: Buffer.from('{"a": 1}') });
});

test("a spare's set-up frame: S, the environment as one line of JSON, then the bytecode as it is", () => {
  const env = { A: 'line one\nline two', B: '2' };
  const pyc = Buffer.from([0xa7, 0x0d, 0x0d, 0x0a, 0x0a, 0x00, 0xff]); // binary, newlines included
  const [frame] = new FrameDecoder().push(encodeSetup(env, pyc));
  assert.equal(frame.subarray(0, 1).toString(), 'S');
  const newline = frame.indexOf(0x0a);
  assert.deepEqual(JSON.parse(frame.subarray(1, newline).toString()), env, 'newlines in values stay escaped');
  assert.deepEqual(frame.subarray(newline + 1), pyc);
  assert.deepEqual(decodeInstanceRequest(frame), { type: 'setup', env, bytecode: pyc });
  const [bare] = new FrameDecoder().push(encodeSetup(env, null));
  assert.equal(bare.indexOf(0x0a), bare.length - 1, 'no bytecode: the line ends the frame');
  assert.deepEqual(decodeInstanceRequest(bare), { type: 'setup', env, bytecode: null });
});

test('requests an instance does not serve are named errors', () => {
  assert.throws(() => decodeInstanceRequest(Buffer.from('F{"op": "fork"}\n')), /serves calls only/);
  assert.throws(() => decodeInstanceRequest(Buffer.from('S{"A": 1}\n')), /object of strings/);
  assert.throws(() => decodeInstanceRequest(Buffer.from('S{oops\n')), ProtocolError);
  assert.throws(() => decodeInstanceRequest(Buffer.from('C')), /no newline/);
});
