import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatServerTiming, parseServerTiming } from './server-timing';

test('phases round-trip through the header, in order', () => {
  const header = formatServerTiming({ sandbox: 0.4321, spawn: 1, exec: 0.05 });
  assert.equal(header, 'sandbox;dur=0.432, spawn;dur=1.000, exec;dur=0.050');
  assert.deepEqual(Object.entries(parseServerTiming(header)), [['sandbox', 0.432], ['spawn', 1], ['exec', 0.05]]);
});

test('entries without a duration or with extra params parse', () => {
  assert.deepEqual(parseServerTiming('miss, db;desc="x";dur=2.5'), { miss: 0, db: 2.5 });
  assert.deepEqual(parseServerTiming(undefined), {});
});
