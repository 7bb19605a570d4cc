import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSmapsRollup } from './provisioning';

test('parseSmapsRollup reads Rss, Pss and the private pages (kB)', () => {
  const text = `55d6a4c2b000-7ffd8a1f5000 ---p 00000000 00:00 0                          [rollup]
Rss:               45120 kB
Pss:               13812 kB
Pss_Dirty:          2290 kB
Pss_Anon:           2250 kB
Shared_Clean:      20000 kB
Shared_Dirty:      22000 kB
Private_Clean:       100 kB
Private_Dirty:      2200 kB
Swap:                  0 kB
SwapPss:               0 kB
`;
  assert.deepEqual(parseSmapsRollup(text), { rss: 45120, pss: 13812, uss: 2300 });
  assert.deepEqual(parseSmapsRollup(''), { rss: 0, pss: 0, uss: 0 });
});
