import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMs, formatRatio, percentile, ratio, renderTable, summarize } from './stats';

test('percentile interpolates between the closest ranks', () => {
  const s = [10, 20, 30, 40];
  assert.equal(percentile(s, 0), 10);
  assert.equal(percentile(s, 100), 40);
  assert.equal(percentile(s, 50), 25); // rank 1.5
  assert.equal(percentile([1, 2, 3, 4, 5], 50), 3);
  assert.ok(Math.abs(percentile(s, 99) - 39.7) < 1e-9); // rank 2.97
  assert.equal(percentile([7], 99), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
  assert.throws(() => percentile(s, 101), RangeError);
  assert.throws(() => percentile(s, -1), RangeError);
});

test('percentile of 1..100 at 99 is 99.01 (numpy linear)', () => {
  const s = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.ok(Math.abs(percentile(s, 99) - 99.01) < 1e-9);
  assert.ok(Math.abs(percentile(s, 50) - 50.5) < 1e-9);
});

test('summarize sorts a copy and computes every field', () => {
  const samples = [5, 1, 4, 2, 3];
  const s = summarize(samples);
  assert.deepEqual(s, { n: 5, p50: 3, p99: 4.96, mean: 3, min: 1, max: 5 });
  assert.deepEqual(samples, [5, 1, 4, 2, 3], 'input untouched');
  // numbers sort numerically, not as strings
  assert.equal(summarize([10, 9, 100]).p50, 10);
  assert.throws(() => summarize([]), RangeError);
  assert.throws(() => summarize([1, NaN]), RangeError);
});

test('a single outlier moves p99 and mean but not p50', () => {
  const base = Array.from({ length: 99 }, () => 1);
  const s = summarize([...base, 1000]);
  assert.equal(s.p50, 1);
  assert.ok(s.p99 > 1 && s.p99 < 1000);
  assert.ok(Math.abs(s.mean - (99 + 1000) / 100) < 1e-9);
  assert.equal(s.max, 1000);
});

test('ratio and its formatting', () => {
  assert.equal(ratio(6, 3), 2);
  assert.ok(Number.isNaN(ratio(1, 0)));
  assert.ok(Number.isNaN(ratio(NaN, 1)));
  assert.equal(formatRatio(2.414), '2.41x');
  assert.equal(formatRatio(18.04), '18.0x');
  assert.equal(formatRatio(123.4), '123x');
  assert.equal(formatRatio(NaN), '-');
});

test('formatMs picks the precision by magnitude', () => {
  assert.equal(formatMs(0.12345), '0.123');
  assert.equal(formatMs(1.2345), '1.23');
  assert.equal(formatMs(12.345), '12.3');
  assert.equal(formatMs(1234.5), '1235');
  assert.equal(formatMs(Infinity), '-');
});

test('renderTable aligns columns, right-aligns where asked, counts ✓ as one column', () => {
  const out = renderTable(['name', 'ms'], [['a', '1.5'], ['long name', '12.25'], ['x ✓', '3']], ['left', 'right']);
  const lines = out.split('\n');
  assert.deepEqual(lines, ['name          ms', '---------  -----', 'a            1.5', 'long name  12.25', 'x ✓            3']);
  for (const l of lines) assert.equal(l, l.trimEnd());
});

test('renderTable fills missing cells', () => {
  const out = renderTable(['a', 'b', 'c'], [['1'], ['22', '3', '4']]);
  assert.deepEqual(out.split('\n'), ['a   b  c', '--  -  -', '1', '22  3  4']);
});
