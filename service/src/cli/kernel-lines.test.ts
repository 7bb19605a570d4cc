import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatKernel } from './kernel-lines';

const kernel = { release: '6.1.0', landlockAbi: 7, landlockAbiUsed: 2, userns: true, seccomp: true, cgroupFreeze: true, cgroupKill: false, pidfd: true };

test('status prints the kernel and a line per protection, with what covers it', () => {
  const lines = formatKernel({
    kernel,
    protections: [
      { name: 'signals', state: 'covered', coveredBy: 'a PID namespace per instance', detail: 'no ABI 6' },
      { name: 'system call filter', state: 'active', detail: 'seccomp' },
    ],
  });
  assert.deepEqual(lines, [
    'kernel 6.1.0: Landlock ABI 7 (using 2), user namespaces yes, seccomp yes, cgroup.freeze yes, cgroup.kill no',
    'protection signals: covered by a PID namespace per instance (no ABI 6)',
    'protection system call filter: active (seccomp)',
  ]);
});

test('a daemon that reports no kernel gets no lines', () => {
  assert.deepEqual(formatKernel({} as never), []);
});
