import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_SCRATCH, sameScratchSize, scratchMountData, scratchSize } from './scratch';

test('scratch is a share of the memory limit, with inodes per MB', () => {
  const size = scratchSize({ memoryMb: 256 }, DEFAULT_SCRATCH);
  assert.deepEqual(size, { megabytes: 128, inodes: 65536 });
  assert.equal(scratchMountData(size), 'size=128m,nr_inodes=65536,mode=0700');
});

test('scratch has a floor, never a zero size (tmpfs reads size=0 as unlimited)', () => {
  const size = scratchSize({ memoryMb: 16 }, { memoryShare: 0.01, inodesPerMb: 1 });
  assert.equal(size.megabytes, 1);
  assert.equal(size.inodes, 64);
});

test('sizes compare by value', () => {
  assert.ok(sameScratchSize(scratchSize({ memoryMb: 256 }, DEFAULT_SCRATCH), { megabytes: 128, inodes: 65536 }));
  assert.ok(!sameScratchSize(scratchSize({ memoryMb: 512 }, DEFAULT_SCRATCH), { megabytes: 128, inodes: 65536 }));
});
