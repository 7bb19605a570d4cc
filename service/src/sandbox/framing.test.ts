import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeCall, encodeFrame, encodeSetup, ForeignReply, FrameDecoder, parseErrorBody, parseReply } from './framing';

test('frames survive being split at every byte boundary', () => {
  const payloads = [Buffer.from('{"a":1}'), Buffer.alloc(0), Buffer.from('x'.repeat(1000))];
  const stream = Buffer.concat(payloads.map(encodeFrame));
  for (let cut = 0; cut <= stream.length; cut++) {
    const decoder = new FrameDecoder();
    const got = [...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))];
    assert.deepEqual(got.map(String), payloads.map(String), `cut at ${cut}`);
    assert.equal(decoder.pending, 0);
  }
});

test('a frame over the limit is refused before it is buffered', () => {
  const decoder = new FrameDecoder(10);
  assert.throws(() => decoder.push(encodeFrame(Buffer.alloc(11))), /exceeds the 10-byte limit/);
});

test('a reply splits into header and body', () => {
  const reply = parseReply(Buffer.from('{"id":"a1","status":"ok","load_ms":1.5,"exec_ms":0.25}\n{"x": [1, 2]}'), 'a1');
  assert.equal(reply.status, 'ok');
  assert.equal(reply.loadMs, 1.5);
  assert.equal(reply.execMs, 0.25);
  assert.deepEqual(JSON.parse(reply.body.toString()), { x: [1, 2] });
});

test('malformed replies are errors', () => {
  assert.throws(() => parseReply(Buffer.from('no newline'), 'a1'), /no header line/);
  assert.throws(() => parseReply(Buffer.from('{"id":"a1","status":"maybe"}\n'), 'a1'), /unknown status/);
  assert.throws(() => parseReply(Buffer.from('{oops\n'), 'a1'), SyntaxError);
});

test('forged replies are refused: other ids, nesting, timings out of range, nested error bodies', () => {
  const ok = (header: string, body = '1') => Buffer.from(`${header}\n${body}`);
  assert.throws(() => parseReply(ok('{"id":"b2","status":"ok","load_ms":1,"exec_ms":1}'), 'a1'), ForeignReply);
  assert.throws(() => parseReply(ok('{"status":"ok","load_ms":1,"exec_ms":1}'), 'a1'), ForeignReply);
  assert.throws(() => parseReply(ok(`{"id":"a1","status":"ok","load_ms":${'['.repeat(3000)}`), 'a1'), /no header line|nested/);
  assert.throws(() => parseReply(ok('{"id":"a1","status":"ok","load_ms":1e308,"exec_ms":1}'), 'a1'), /load_ms/);
  assert.throws(() => parseReply(ok('{"id":"a1","status":"ok","load_ms":-1,"exec_ms":1}'), 'a1'), /load_ms/);
  assert.throws(() => parseReply(ok('{"id":"a1","status":"ok","load_ms":1}'), 'a1'), /exec_ms/);
  const nested = `{"type": "E", "message": ${'['.repeat(100000)}${']'.repeat(100000)}}`;
  assert.throws(() => parseReply(ok('{"id":"a1","status":"error","load_ms":1,"exec_ms":1}', nested), 'a1'), /nested/);
  const fine = parseReply(ok('{"id":"a1","status":"error","load_ms":1,"exec_ms":1}', '{"type":"E","message":"m","traceback":"t"}'), 'a1');
  assert.deepEqual(parseErrorBody(fine.body), { type: 'E', message: 'm', traceback: 't' });
});

test('a call carries its request id before the event', () => {
  const [frame] = new FrameDecoder().push(encodeCall('c0ffee', Buffer.from('{"a": 1}')));
  assert.equal(frame.toString(), 'Cc0ffee\n{"a": 1}');
});

test("a spare's set-up frame: S, the environment as one line of JSON, then the bytecode as it is", () => {
  const env = { A: 'line one\nline two', B: '2' };
  const pyc = Buffer.from([0xa7, 0x0d, 0x0d, 0x0a, 0x0a, 0x00, 0xff]); // binary, newlines included
  const [frame] = new FrameDecoder().push(encodeSetup(env, pyc));
  assert.equal(frame.subarray(0, 1).toString(), 'S');
  const newline = frame.indexOf(0x0a);
  assert.deepEqual(JSON.parse(frame.subarray(1, newline).toString()), env, 'newlines in values stay escaped');
  assert.deepEqual(frame.subarray(newline + 1), pyc);
  const [bare] = new FrameDecoder().push(encodeSetup(env, null));
  assert.equal(bare.indexOf(0x0a), bare.length - 1, 'no bytecode: the line ends the frame');
});
