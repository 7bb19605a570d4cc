import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameDecoder } from './framing';
import { decodeAnswer, decodeForkRequest, encodeForkRequest } from './zygote-messages';

const b = (o: unknown) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o));

test("a Zygote's answers decode, each with its type", () => {
  assert.deepEqual(decodeAnswer(b({ id: 'f1', pid: 42 })), { type: 'pid', id: 'f1', pid: 42 });
  assert.deepEqual(decodeAnswer(b({ id: 'f1', joined: true })), { type: 'joined', id: 'f1' });
  assert.deepEqual(decodeAnswer(b({ id: 'f1', ready: true, import_ms: 12.5 })), { type: 'ready', id: 'f1', importMs: 12.5 });
  assert.deepEqual(decodeAnswer(b({ id: 'start', ready: true })), { type: 'ready', id: 'start' });
  assert.deepEqual(decodeAnswer(b({ id: 'f1', ready: false, error: 'boom' })), { type: 'failed', id: 'f1', error: 'boom' });
  assert.deepEqual(decodeAnswer(b({ id: '', ok: false, error: 'no' })), { type: 'refused', id: '', error: 'no' });
});

test('forged answers are refused', () => {
  assert.throws(() => decodeAnswer(b({ pid: 42 })), /request id/);
  assert.throws(() => decodeAnswer(b({ id: 'f1', ready: true, import_ms: 1e308 })), /import_ms/);
  assert.throws(() => decodeAnswer(b({ id: 'f1', pid: 1.5 })), /integer/);
  assert.throws(() => decodeAnswer(b({ id: 'f1', pid: -1 })), /pid/);
  assert.throws(() => decodeAnswer(b({ id: 'f1', ready: 'yes' })), /boolean/);
  assert.throws(() => decodeAnswer(b({ id: 'f1', extra: 1 })), /unknown field/);
  assert.throws(() => decodeAnswer(b(`{"id": "f1", "error": ${'['.repeat(50000)}`)), /nested/);
  assert.throws(() => decodeAnswer(b({ id: 'f1', error: 'x'.repeat(70000) })), /more than/);
});

test('an answer is exactly one of the shapes', () => {
  assert.throws(() => decodeAnswer(b({ id: 'f1' })), /says neither/);
  assert.throws(() => decodeAnswer(b({ id: 'f1', joined: false })), /says neither/);
  assert.throws(() => decodeAnswer(b({ id: 'f1', pid: 42, ready: true })), /pid answer has no field "ready"/);
  assert.throws(() => decodeAnswer(b({ id: 'f1', ready: true, error: 'x' })), /ready answer has no field "error"/);
  assert.throws(() => decodeAnswer(b({ id: 'f1', ok: false })), /needs an error/);
});

test('a fork request encodes and decodes', () => {
  const request = { id: 'f3', kind: 'instance' as const, paths: ['/packages/a'], env: { A: 'x' }, uid: 1000, gid: 1000, hostname: 'sockpit', netns: 1 as const, cgroups: 2 };
  const [payload] = new FrameDecoder().push(encodeForkRequest(request));
  assert.equal(JSON.parse(payload.toString()).op, 'fork');
  assert.deepEqual(decodeForkRequest(payload), { type: 'fork', ...request });
  assert.throws(() => decodeForkRequest(b({ op: 'exec', id: 'x2' })), /fork requests only, not "exec"/);
  assert.throws(() => decodeForkRequest(b({ ...request, op: 'fork', kind: 'thread' })), /unknown fork kind/);
  assert.throws(() => decodeForkRequest(b({ ...request, op: 'fork', netns: 2 })), /netns is 0 or 1/);
  assert.throws(() => decodeForkRequest(b('C{"event": 1}')), /fork requests only/);
});
