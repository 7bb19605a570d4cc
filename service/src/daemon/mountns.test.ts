import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rootMountIsPrivate } from './mountns';

const line = (optional: string) => `25 1 259:2 / / rw,relatime ${optional} - ext4 /dev/root rw`;

test('a root mount with a shared: tag propagates to the host; one without is private', () => {
  assert.equal(rootMountIsPrivate(`${line('shared:1')}\n`), false);
  assert.equal(rootMountIsPrivate(`${line('')}\n`), true);
  assert.equal(rootMountIsPrivate(`${line('master:1')}\n`), true);
  assert.equal(rootMountIsPrivate(''), false);
});
