import { test } from 'node:test';
import assert from 'node:assert/strict';
import { needsDelegatedScope, type ScopeFacts } from './scope';

const shell: ScopeFacts = { mode: 'v2', systemd: true, others: 2, moved: false };

test('a daemon started from a shell on pure v2 under systemd moves into a delegated scope', () => {
  assert.equal(needsDelegatedScope(shell), true);
});

test('it stays where it is when it owns its cgroup (a unit with Delegate=yes), was moved already, or the host is not pure v2', () => {
  assert.equal(needsDelegatedScope({ ...shell, others: 0 }), false, 'alone in its cgroup: sockpitd.service');
  assert.equal(needsDelegatedScope({ ...shell, moved: true }), false, 'once only: never a loop of re-executions');
  assert.equal(needsDelegatedScope({ ...shell, mode: 'hybrid' }), false, 'hybrid: controllers are on v1');
  assert.equal(needsDelegatedScope({ ...shell, mode: 'v1' }), false);
  assert.equal(needsDelegatedScope({ ...shell, systemd: false }), false, 'no systemd to ask: the start-up error says what to do');
});
