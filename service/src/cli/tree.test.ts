import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTree } from './tree';
import type { ZygoteInfo } from '../zygotes/manager';

const z = (id: string, parent: string | null, packages: string[], children: string[], extra: Partial<ZygoteInfo> = {}): ZygoteInfo => ({
  id,
  parent,
  packages,
  children,
  state: 'frozen',
  pid: 1,
  hits: 0,
  memoryBytes: 2 ** 20,
  functions: [],
  lastUsed: '',
  ...extra,
});

test('the lineage is drawn with each Zygote showing only the packages it added', () => {
  const out = formatTree([
    z('z1', null, [], ['z2', 'z4'], { hits: 3 }),
    z('z2', 'z1', ['numpy==1.24'], ['z3']),
    z('z3', 'z2', ['numpy==1.24', 'pandas==1.5'], [], { functions: ['stats'] }),
    z('z4', 'z1', ['requests==2.28'], []),
  ]);
  assert.equal(
    out,
    [
      'z1 (base)  [frozen, 3 hits, 1.0 MB]',
      '├─ z2 + numpy==1.24  [frozen, 0 hits, 1.0 MB]',
      '│  └─ z3 + pandas==1.5  [frozen, 0 hits, 1.0 MB]  serves stats',
      '└─ z4 + requests==2.28  [frozen, 0 hits, 1.0 MB]',
    ].join('\n'),
  );
});
