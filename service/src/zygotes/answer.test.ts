import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAnswer } from './answer';

const b = (o: unknown) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o));

test("a Zygote's answers parse", () => {
  assert.deepEqual(parseAnswer(b({ id: 'f1', pid: 42 })), { id: 'f1', pid: 42 });
  assert.deepEqual(parseAnswer(b({ id: 'f1', ready: true, import_ms: 12.5 })), { id: 'f1', ready: true, import_ms: 12.5 });
  assert.deepEqual(parseAnswer(b({ id: '', ok: false, error: 'no' })), { id: '', ok: false, error: 'no' });
});

test('forged answers are refused', () => {
  assert.throws(() => parseAnswer(b({ pid: 42 })), /request id/);
  assert.throws(() => parseAnswer(b({ id: 'f1', ready: true, import_ms: 1e308 })), /import_ms/);
  assert.throws(() => parseAnswer(b({ id: 'f1', pid: 1.5 })), /integer/);
  assert.throws(() => parseAnswer(b({ id: 'f1', pid: -1 })), /pid/);
  assert.throws(() => parseAnswer(b({ id: 'f1', ready: 'yes' })), /boolean/);
  assert.throws(() => parseAnswer(b({ id: 'f1', extra: 1 })), /unknown field/);
  assert.throws(() => parseAnswer(b(`{"id": "f1", "error": ${'['.repeat(50000)}`)), /nested/);
  assert.throws(() => parseAnswer(b({ id: 'f1', error: 'x'.repeat(70000) })), /more than/);
});
