import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { refusalAsRoot } from './root-check';

test('root is refused with what to do instead; any other uid may run the app', () => {
  const message = refusalAsRoot(0);
  assert.ok(message);
  assert.match(message, /does not run as root/);
  assert.match(message, /systemctl start sockpitd/);
  assert.match(message, /sudo sockpit daemon/);
  assert.match(message, /as your own user/);
  assert.equal(refusalAsRoot(1000), null);
  assert.equal(refusalAsRoot(65534), null);
  // no getuid (not POSIX): nothing to check
  assert.equal(refusalAsRoot(undefined), null);
});

test('the main process checks for root first, exits 1, and starts no process of its own (the app is only a client)', () => {
  const source = fs.readFileSync(`${__dirname}/main.ts`, 'utf8');
  const body = source.slice(source.indexOf('function main(): void {'));
  const firstStatement = body.split('\n').slice(1).join('\n').trimStart();
  assert.match(firstStatement, /^const refusal = refusalAsRoot\(process\.getuid\?\.\(\)\);\s*if \(refusal\) \{[^}]*app\.exit\(1\);/);
  assert.doesNotMatch(source, /child_process|spawn\(|no-sandbox/);
});
