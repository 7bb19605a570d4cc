import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callLimits, effectiveLimits, MAX_ENV_VARS, MAX_REQUIREMENTS, parseOlYaml, parseRequirements, validateName } from './spec';
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

test("ol.yaml limits above the operator's ceiling are refused, naming it; calls are held to a lowered ceiling", () => {
  const max = DEFAULT_CONFIG.limits.max;
  assert.throws(
    () => effectiveLimits(DEFAULT_CONFIG.limits, { memoryMb: 1 << 20, pids: 1 << 20, timeoutMs: 24 * 3600_000 }, max),
    (err: Error) =>
      /limits\.memory_mb: 1048576 is above the daemon's ceiling of 4096 \(limits\.max\.memoryMb\)/.test(err.message) &&
      /limits\.pids: 1048576 is above the daemon's ceiling of 1024 \(limits\.max\.pids\)/.test(err.message) &&
      /limits\.timeout_ms: 86400000 is above/.test(err.message),
  );
  assert.equal(effectiveLimits(DEFAULT_CONFIG.limits, { memoryMb: 4096 }, max).memoryMb, 4096, 'at the ceiling is fine');
  assert.deepEqual(Object.keys(effectiveLimits(DEFAULT_CONFIG.limits, {})).sort(), ['cpus', 'memoryMb', 'pids', 'timeoutMs']);
  assert.equal(callLimits(DEFAULT_CONFIG.limits, { memoryMb: 4096 }, { ...max, memoryMb: 512 }).memoryMb, 512);
});

test('what a client sends is bounded before it is parsed: environment, requirements, YAML size and aliases', () => {
  const env = (n: number) => `environment:\n${Array.from({ length: n }, (_, i) => `  K${i}: v`).join('\n')}\n`;
  assert.equal(Object.keys(parseOlYaml(env(MAX_ENV_VARS)).environment).length, MAX_ENV_VARS);
  assert.throws(() => parseOlYaml(env(MAX_ENV_VARS + 1)), /257 variables, more than 256/);
  assert.throws(() => parseOlYaml(`environment:\n  BIG: ${'x'.repeat(70_000)}\n`), /bytes, more than 65536/);
  // the red team's 20k keys took 2.2 s in the parser: refused before it, in one pass
  assert.throws(() => parseOlYaml(env(20_000)), /more than 2000 lines and commas/);
  assert.throws(() => parseOlYaml(`environment: {${Array.from({ length: 20_000 }, (_, i) => `K${i}: v`).join(', ')}}`), /more than 2000 lines and commas/);
  const laughs = `a: &a [x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`).join('\n')}\n`;
  assert.throws(() => parseOlYaml(laughs), /not valid YAML/);
  const reqs = (n: number) => Array.from({ length: n }, (_, i) => `p${i}==1.0`).join('\n');
  assert.equal(parseRequirements(reqs(MAX_REQUIREMENTS)).length, MAX_REQUIREMENTS);
  assert.throws(() => parseRequirements(reqs(MAX_REQUIREMENTS + 1)), /more than 500 requirements/);
  assert.throws(() => parseRequirements(`ok==1\n${'a'.repeat(5000)}`), /line 2: longer than 1000 characters/);
});
