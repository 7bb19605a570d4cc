import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkMayManage, mayManage, ownerOf } from './ownership';

test('the owner and root may manage a function; other uids and unknown callers may not', () => {
  assert.equal(mayManage({ uid: 1000 }, 1000), true);
  assert.equal(mayManage({ uid: 0 }, 1000), true);
  assert.equal(mayManage({ uid: 1001 }, 1000), false);
  assert.equal(mayManage(null, 1000), false);
  assert.equal(mayManage({ uid: 1000 }, 0), false);
});

test('refusals are 403s that say whose function it is', () => {
  assert.throws(() => checkMayManage({ uid: 7 }, { name: 'f', owner: 8 }, 'delete'), (err: Error & { code: string }) => err.code === 'forbidden' && /"f" belongs to uid 8: only its owner or root may delete it \(the caller is uid 7\)/.test(err.message));
  assert.throws(() => ownerOf(null), /could not be identified/);
  assert.equal(ownerOf({ uid: 5 }), 5);
});
