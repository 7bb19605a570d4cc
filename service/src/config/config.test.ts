import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig, DEFAULT_CONFIG, parseConfigText } from './config';

test('defaults, then file, then flags', () => {
  const file = parseConfigText('stateDir: /srv/sockpit\npool:\n  initial: 4\nlimits:\n  memoryMb: 128\n', 'f');
  const cfg = buildConfig(file, { socket: '/tmp/s.sock', poolSize: 2 });
  assert.equal(cfg.stateDir, '/srv/sockpit');
  assert.equal(cfg.socket, '/tmp/s.sock');
  assert.equal(cfg.pool.initial, 2);
  assert.equal(cfg.pool.max, DEFAULT_CONFIG.pool.max);
  assert.equal(cfg.limits.memoryMb, 128);
  assert.equal(cfg.limits.pids, DEFAULT_CONFIG.limits.pids);
});

test('JSON is accepted as YAML', () => {
  assert.equal(buildConfig(parseConfigText('{"python": "/opt/py/bin/python3"}', 'f'), {}).python, '/opt/py/bin/python3');
});

test('every problem is reported, unknown keys included', () => {
  const file = parseConfigText('sokcet: /x\nstateDir: relative\nlimits:\n  pids: -1\npool: 3\n', 'cfg.yaml');
  assert.throws(
    () => buildConfig(file, {}, 'cfg.yaml'),
    (err: Error) =>
      /cfg\.yaml\.sokcet: unknown setting/.test(err.message) &&
      /stateDir: must be an absolute path/.test(err.message) &&
      /limits\.pids/.test(err.message) &&
      /cfg\.yaml\.pool: must be a map/.test(err.message),
  );
});

test('a socket path too long for sun_path is refused', () => {
  assert.throws(() => buildConfig({}, { socket: '/' + 'x'.repeat(120) }), /longer than 107 bytes/);
});

test('a config file that is not a map is refused', () => {
  assert.throws(() => parseConfigText('- a\n- b\n', 'f'), /must be a map/);
  assert.deepEqual(parseConfigText('', 'f'), {});
});

test('package and zygote settings: flags override, bad values are named', () => {
  const cfg = buildConfig(parseConfigText('zygotes:\n  memoryBudgetMb: 512\n', 'f'), { findLinks: '/srv/wheels', noZygotes: true });
  assert.equal(cfg.packages.findLinks, '/srv/wheels');
  assert.equal(cfg.packages.indexUrl, null);
  assert.equal(cfg.zygotes.enabled, false);
  assert.equal(cfg.zygotes.memoryBudgetMb, 512);
  assert.throws(() => buildConfig({}, { indexUrl: 'ftp://x', findLinks: 'rel' }), (e: Error) => /indexUrl: must be an http/.test(e.message) && /findLinks: must be an absolute/.test(e.message));
  assert.throws(() => buildConfig({}, { indexUrl: 'http://127.0.0.1:1/simple', findLinks: '/w' }), /not both/);
  assert.equal(buildConfig(parseConfigText('packages:\n  indexUrl: null\n', 'f'), {}).packages.indexUrl, null);
});

test('network: egress on by default; allow takes addresses and CIDRs, v4 and v6, and names what is not one', () => {
  assert.deepEqual(buildConfig({}, {}, 'cfg.yaml').network, { mode: 'isolated', ready: 8, egress: true, allow: [] });
  const ok = buildConfig(parseConfigText('network:\n  egress: false\n  allow: [10.1.2.3, 192.168.0.0/16, "fd00::/8"]\n', 'cfg.yaml'), {}, 'cfg.yaml');
  assert.equal(ok.network.egress, false);
  assert.deepEqual(ok.network.allow, ['10.1.2.3', '192.168.0.0/16', 'fd00::/8']);
  for (const [bad, why] of [
    ['allow: [10.0.0.0/33]', /"10.0.0.0\/33" is not an IPv4 or IPv6 address or CIDR/],
    ['allow: [example.com]', /"example.com" is not/],
    ['allow: [1]', /1 is not/],
    ['allow: 10.0.0.1', /network.allow: must be a/],
    ['egress: yes please', /network.egress: must be a boolean/],
  ] as const) {
    assert.throws(() => buildConfig(parseConfigText(`network:\n  ${bad}\n`, 'cfg.yaml'), {}, 'cfg.yaml'), why, bad);
  }
});

test('scratch, admission and package-cache limits: defaults, and bad values named', () => {
  const cfg = buildConfig({}, {});
  assert.deepEqual(cfg.scratch, { memoryShare: 0.5, inodesPerMb: 256 });
  assert.equal(cfg.api.connectionsPerUid, 256);
  assert.equal(cfg.packages.maxCacheMb, 10240);
  assert.throws(() => buildConfig({ scratch: { memoryShare: 0 } }, {}), /scratch\.memoryShare: must be a number in \(0, 1\]/);
  assert.throws(() => buildConfig({ scratch: { memoryShare: 1.5 } }, {}), /scratch\.memoryShare/);
  assert.throws(() => buildConfig({ api: { headerTimeoutMs: 60_000 } }, {}), /api\.headerTimeoutMs: must be an integer in \[100, 29000\]/);
  assert.throws(() => buildConfig({ api: { subscribers: 0 } }, {}), /api\.subscribers/);
  assert.throws(() => buildConfig({ packages: { maxPackageMb: 4096, maxCacheMb: 1024 } }, {}), /maxPackageMb: must not exceed packages\.maxCacheMb/);
  assert.throws(() => buildConfig({ api: { maxSockets: 1 } }, {}), /api\.maxSockets: unknown setting/);
});

test('limits.max: the ceilings are validated, and no default may be above its ceiling', () => {
  assert.equal(buildConfig({}, {}).limits.max.memoryMb, 4096);
  assert.throws(() => buildConfig(parseConfigText('limits:\n  memoryMb: 8192\n', 'f'), {}), /limits\.memoryMb: 8192 is above limits\.max\.memoryMb \(4096\)/);
  assert.equal(buildConfig(parseConfigText('limits:\n  memoryMb: 8192\n  max:\n    memoryMb: 16384\n', 'f'), {}).limits.memoryMb, 8192);
  assert.throws(() => buildConfig(parseConfigText('limits:\n  max:\n    pids: 0\n', 'f'), {}), /limits\.max\.pids/);
  assert.throws(() => buildConfig(parseConfigText('deploy:\n  maxFiles: 0\n', 'f'), {}), /deploy\.maxFiles/);
});

test('kernel.assumeLandlockAbi: null by default, a small integer otherwise', () => {
  assert.equal(buildConfig({}, {}).kernel.assumeLandlockAbi, null);
  assert.equal(buildConfig(parseConfigText('kernel:\n  assumeLandlockAbi: 2\n', 'f'), {}).kernel.assumeLandlockAbi, 2);
  assert.throws(() => buildConfig({ kernel: { assumeLandlockAbi: 'two' } }, {}), /kernel\.assumeLandlockAbi: must be a number/);
  assert.throws(() => buildConfig({ kernel: { assumeLandlockAbi: -1 } }, {}), /kernel\.assumeLandlockAbi: must be an integer/);
});
