import assert from 'node:assert/strict';
import { test } from 'node:test';
import { envOwnedBy, OWNER_ENV, ownerFrom } from './parent';

test('an owned environment names its owner, and only a pid counts as one', () => {
  assert.equal(ownerFrom(envOwnedBy(1234, { PATH: '/bin' })), 1234);
  assert.equal(envOwnedBy(1234, { PATH: '/bin' }).PATH, '/bin');
  assert.equal(ownerFrom({}), null);
  for (const bad of ['', '0', '-1', '12x', ' 12', '1.5']) assert.equal(ownerFrom({ [OWNER_ENV]: bad }), null, bad);
});
