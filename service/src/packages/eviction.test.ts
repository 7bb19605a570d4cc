import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pickEvictions } from './eviction';

const pkgs = [
  { key: 'a==1', sizeBytes: 40, lastUsed: 3 },
  { key: 'b==1', sizeBytes: 40, lastUsed: 1 },
  { key: 'c==1', sizeBytes: 40, lastUsed: 2 },
];

test('nothing is evicted while the new package fits', () => {
  assert.deepEqual(pickEvictions(pkgs, new Set(), 120, 30, 200), []);
});

test('least recently used first, only as many as needed, never one in use', () => {
  assert.deepEqual(pickEvictions(pkgs, new Set(), 120, 60, 150)!.map((p) => p.key), ['b==1']);
  assert.deepEqual(pickEvictions(pkgs, new Set(['b==1']), 120, 60, 150)!.map((p) => p.key), ['c==1']);
  assert.deepEqual(pickEvictions(pkgs, new Set(['b==1']), 120, 100, 150)!.map((p) => p.key), ['c==1', 'a==1']);
});

test('null when the packages in use leave too little room', () => {
  assert.equal(pickEvictions(pkgs, new Set(['a==1', 'b==1']), 120, 100, 150), null);
  assert.equal(pickEvictions([], new Set(), 0, 300, 150), null);
});
