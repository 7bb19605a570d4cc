import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WarmCache } from './warm-cache';

test('take returns the most recently parked instance of that function', () => {
  const cache = new WarmCache<string>(1000, 60_000);
  cache.put('a1', 'a', 10, 0);
  cache.put('b1', 'b', 10, 1);
  cache.put('a2', 'a', 10, 2);
  assert.equal(cache.take('a'), 'a2');
  assert.equal(cache.take('a'), 'a1');
  assert.equal(cache.take('a'), null);
  assert.equal(cache.size, 1);
});

test('over budget, the least recently used are evicted first', () => {
  const cache = new WarmCache<string>(100, 60_000);
  assert.deepEqual(cache.put('x', 'f', 40, 0), []);
  assert.deepEqual(cache.put('y', 'g', 40, 1), []);
  assert.deepEqual(cache.put('z', 'h', 40, 2), ['x']);
  assert.equal(cache.memoryBytes, 80);
  // re-parking y makes it the most recent: z is next out
  cache.take('g');
  cache.put('y', 'g', 40, 3);
  assert.deepEqual(cache.put('w', 'k', 40, 4), ['z']);
});

test('an instance bigger than the whole budget is not kept', () => {
  const cache = new WarmCache<string>(100, 60_000);
  assert.deepEqual(cache.put('huge', 'f', 500, 0), ['huge']);
  assert.equal(cache.size, 0);
});

test('idle instances past their time-to-live expire; removeWhere drops a function', () => {
  const cache = new WarmCache<string>(1000, 50);
  cache.put('old', 'f', 1, 0);
  cache.put('new', 'f', 1, 40);
  cache.put('other', 'g@2', 1, 40);
  assert.deepEqual(cache.expire(60), ['old']);
  assert.deepEqual(cache.removeWhere((k) => k.startsWith('g@')), ['other']);
  assert.deepEqual(cache.items().map((e) => e.item), ['new']);
});
