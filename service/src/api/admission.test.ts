import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectionCeiling, Quota, refusal } from './admission';

test('a quota caps each uid and the total; root is held to its own cap only', () => {
  const q = new Quota(2, 3);
  assert.equal(q.take(1000), 'ok');
  assert.equal(q.take(1000), 'ok');
  assert.equal(q.take(1000), 'uid');
  assert.equal(q.take(1001), 'ok');
  assert.equal(q.take(1002), 'total');
  assert.equal(q.take(0), 'ok', 'the operator is not locked out by others filling the total');
  assert.equal(q.take(0), 'ok');
  assert.equal(q.take(0), 'uid');
  assert.equal(q.size, 3);
  q.give(1000);
  assert.equal(q.take(1002), 'ok');
  q.give(4242); // never taken: no underflow
  assert.equal(q.held(4242), 0);
  assert.match(refusal('connections', 'uid', q), /at most 2/);
  assert.match(refusal('connections', 'total', q), /at most 3 in all/);
});

test('the connection total stays under half of the fd limit', () => {
  assert.equal(connectionCeiling(1024, 20000), 1024);
  assert.equal(connectionCeiling(1024, 1024), 512);
  assert.equal(connectionCeiling(1024, null), 1024);
  assert.equal(connectionCeiling(1024, 8), 16);
});
