import assert from 'node:assert/strict';
import { test } from 'node:test';
import { numberIn, parseFlatObject } from './flat-json';

const b = (s: string) => Buffer.from(s);

test('a flat object parses', () => {
  assert.deepEqual(parseFlatObject(b('{"a": "x{[", "b": 1.5, "c": true, "d": null}'), 100), { a: 'x{[', b: 1.5, c: true, d: null });
  assert.deepEqual(parseFlatObject(b('{"a": "q\\"{"}'), 100), { a: 'q"{' });
});

test('nesting, oversize, non-objects and infinities are refused', () => {
  assert.throws(() => parseFlatObject(b('{"a": {"b": 1}}'), 100), /nested/);
  assert.throws(() => parseFlatObject(b('{"a": [1]}'), 100), /nested/);
  assert.throws(() => parseFlatObject(b(`{"a": ${'['.repeat(100000)}`), 1 << 20), /nested/);
  assert.throws(() => parseFlatObject(b('{"a": "xxxxxxxx"}'), 8), /more than/);
  assert.throws(() => parseFlatObject(b('"x"'), 100), /not a JSON object/);
  assert.throws(() => parseFlatObject(b('[]'), 100), /nested/);
  assert.throws(() => parseFlatObject(b('{"a": 1e999}'), 100), /finite/);
  assert.throws(() => parseFlatObject(b('{"a": '), 100), SyntaxError);
});

test('numbers are checked against a range', () => {
  const o = parseFlatObject(b('{"ms": 1e308, "ok": 3, "s": "3"}'), 100);
  assert.equal(numberIn(o, 'ok', 0, 10), 3);
  assert.throws(() => numberIn(o, 'ms', 0, 86_400_000), /not a number in/);
  assert.throws(() => numberIn(o, 's', 0, 10), /not a number in/);
  assert.throws(() => numberIn(o, 'missing', 0, 10), /not a number in/);
});
