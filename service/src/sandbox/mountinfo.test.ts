import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mountsUnder } from './mountinfo';

const MOUNTINFO = [
  '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
  '40 22 254:0 /usr /var/lib/sockpit/base/usr ro,relatime - ext4 /dev/vda rw',
  '41 22 254:0 /var/lib/sockpit/base /var/lib/sockpit/base ro,relatime - ext4 /dev/vda rw',
  '42 41 254:0 /usr /var/lib/sockpit/base/usr ro,relatime - ext4 /dev/vda rw',
  '50 22 254:0 /x /var/lib/sockpit/sandboxes/1/root ro - ext4 /dev/vda rw',
  '51 50 254:0 /y /var/lib/sockpit/sandboxes/1/root/handler ro - ext4 /dev/vda rw',
  '52 22 254:0 /z /var/lib/sockpit/base-other ro - ext4 /dev/vda rw',
  '53 22 0:5 / /var/lib/sockpit/with\\040space rw - tmpfs tmpfs rw',
].join('\n');

test('finds mounts at and under a directory, deepest and topmost first', () => {
  assert.deepEqual(mountsUnder(MOUNTINFO, '/var/lib/sockpit/base'), [
    '/var/lib/sockpit/base/usr',
    '/var/lib/sockpit/base/usr',
    '/var/lib/sockpit/base',
  ]);
  assert.deepEqual(mountsUnder(MOUNTINFO, '/var/lib/sockpit/sandboxes'), [
    '/var/lib/sockpit/sandboxes/1/root/handler',
    '/var/lib/sockpit/sandboxes/1/root',
  ]);
});

test('a sibling with a common prefix is not under the directory', () => {
  assert.ok(!mountsUnder(MOUNTINFO, '/var/lib/sockpit/base').includes('/var/lib/sockpit/base-other'));
});

test('escaped characters are decoded', () => {
  assert.deepEqual(mountsUnder(MOUNTINFO, '/var/lib/sockpit/with space'), ['/var/lib/sockpit/with space']);
  assert.deepEqual(mountsUnder(MOUNTINFO, '/nowhere'), []);
});
