import { test } from 'node:test';
import assert from 'node:assert/strict';
import { effectiveLimits, parseOlYaml, parseRequirements, validateName } from './spec';
import { DEFAULT_CONFIG } from '../config';

test('function names are checked', () => {
  assert.equal(validateName('hello-world_2'), 'hello-world_2');
  for (const bad of ['', 'Hello', '-x', '../etc', 'a/b', 'x'.repeat(64), 42, null]) {
    assert.throws(() => validateName(bad), /invalid function name/, String(bad));
  }
});

test('requirements: pinned and bare names, comments, normalised names', () => {
  assert.deepEqual(parseRequirements('# deps\nRequests==2.31.0\n\nsimple_json  # inline\n'), [
    { name: 'requests', version: '2.31.0' },
    { name: 'simple-json', version: null },
  ]);
  assert.deepEqual(parseRequirements('\n# only comments\n'), []);
  assert.deepEqual(parseRequirements('Zope.-_Interface'), [{ name: 'zope-interface', version: null }], 'PEP 503: runs of - _ . are one -');
  assert.throws(() => parseRequirements('numpy>=1.0'), /line 1/);
  assert.throws(() => parseRequirements('ok\n-e git+https://x'), /line 2/);
});

test('ol.yaml: environment becomes strings, limits map to sockpit names', () => {
  const parsed = parseOlYaml('environment:\n  GREETING: hi\n  COUNT: 3\n  ON: true\nlimits:\n  memory_mb: 64\n  timeout_ms: 500\n');
  assert.deepEqual(parsed.environment, { GREETING: 'hi', COUNT: '3', ON: 'true' });
  assert.deepEqual(parsed.limits, { memoryMb: 64, timeoutMs: 500 });
  assert.deepEqual(parseOlYaml(''), { environment: {}, limits: {} });
});

test('ol.yaml: network is "none" or "egress"', () => {
  assert.equal(parseOlYaml('network: none\n').network, 'none');
  assert.equal(parseOlYaml('network: egress\n').network, 'egress');
  assert.equal(parseOlYaml('limits: {}\n').network, undefined, 'absent: the daemon default (egress)');
  for (const bad of ['network: host', 'network: [none]', 'network: true']) assert.throws(() => parseOlYaml(bad), /ol.yaml network: must be "none" or "egress"/, bad);
});

test('ol.yaml: bad documents are refused with the reason', () => {
  assert.throws(() => parseOlYaml('environment: [1, 2]'), /environment: must be a map/);
  assert.throws(() => parseOlYaml('environment:\n  1BAD: x'), /not a valid variable name/);
  assert.throws(() => parseOlYaml('environment:\n  PATH: /evil'), /set by sockpit/);
  assert.throws(() => parseOlYaml('limits:\n  disk: 3'), /unknown limit "disk"/);
  assert.throws(() => parseOlYaml('key: [unclosed'), /not valid YAML/);
});

test('effective limits validate the merged result', () => {
  assert.equal(effectiveLimits(DEFAULT_CONFIG.limits, { memoryMb: 64 }).memoryMb, 64);
  assert.equal(effectiveLimits(DEFAULT_CONFIG.limits, {}).timeoutMs, DEFAULT_CONFIG.limits.timeoutMs);
  assert.throws(() => effectiveLimits(DEFAULT_CONFIG.limits, { memoryMb: 1 }), /memoryMb/);
});
