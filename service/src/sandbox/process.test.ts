import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findByInnerPid, parseNsPids } from './process';

test('NSpid: a pid per namespace, ours first; none on a kernel without the line', () => {
  const status = 'Name:\tpython3\nTgid:\t4242\nNgid:\t0\nPid:\t4242\nPPid:\t4000\nNSpid:\t4242\t17\t1\nNSpgid:\t4242\t17\t1\n';
  assert.deepEqual(parseNsPids(status), [4242, 17, 1]);
  assert.deepEqual(parseNsPids('Name:\tx\nPid:\t5\n'), []);
});

test('a process is found by its pid one namespace below ours; our own pid there is no match', () => {
  // this test process lives in one namespace only: no candidate has an inner pid
  assert.equal(findByInnerPid([process.pid], process.pid), null);
  assert.equal(findByInnerPid([2 ** 22 + 7], 1), null, 'a pid that does not exist is skipped');
});
