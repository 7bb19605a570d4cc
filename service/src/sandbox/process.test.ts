import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findByInnerPid, parseNsPids, sigkillPending } from './process';

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

test('a pending SIGKILL is read from either pending set; other signals are not one', () => {
  const status = (sig: string, shd: string) => `Name:\tpython3\nSigQ:\t0/1\nSigPnd:\t${sig}\nShdPnd:\t${shd}\nSigBlk:\t0000000000000100\n`;
  assert.equal(sigkillPending(status('0000000000000000', '0000000000000100')), true, 'process-wide');
  assert.equal(sigkillPending(status('0000000000000100', '0000000000000000')), true, 'thread');
  assert.equal(sigkillPending(status('0000000000004000', '0000000000000002')), false, 'SIGTERM and SIGINT only');
  assert.equal(sigkillPending(status('0000000000000000', '0000000000000000')), false);
  assert.equal(sigkillPending('Name:\tx\n'), false);
});
