// The package cache against real pip (/usr/bin/python3 -m pip, Debian's python3-pip) and a wheelhouse of generated
// wheels: installs, resolution, sharing, failures that leave nothing behind, and a PEP 503 index over HTTP.
// No daemon and no root needed.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SockpitError } from '../../src/errors';
import { InstallEvent, PackageCache, ResolvedPackage } from '../../src/packages';
import { WheelFixture, buildWheelhouse } from '../fixtures/wheels';

const PYTHON = '/usr/bin/python3';

const WHEELS: WheelFixture[] = [
  { name: 'alpha', version: '1.0', modules: { 'alpha/__init__.py': 'VALUE = "alpha 1.0"\n' } },
  {
    name: 'alpha',
    version: '2.0',
    requires: ['beta>=1.1'],
    modules: { 'alpha/__init__.py': 'import beta\nVALUE = "alpha 2.0 with beta " + beta.VERSION\n', 'alpha/sub/__init__.py': '' },
  },
  ...['1.0', '1.1', '1.2'].map((v) => ({ name: 'beta', version: v, modules: { 'beta.py': `VERSION = "${v}"\n` } })),
  {
    name: 'Gamma_Pkg',
    version: '0.3',
    // both must be skipped: the marker is false on python 3.11, the extra is not asked for (and neither exists)
    requires: ['nosuch-package>=1; python_version < "3"', 'alsonot[more]>=2; extra == "x"', 'beta<1.2; sys_platform == "linux"'],
    modules: { 'gamma_mod.py': 'G = 3\n', 'gammapkg/__init__.py': 'from gamma_mod import G\n' },
    topLevel: [], // no top_level.txt: the cache derives the names from RECORD
  },
  { name: 'delta', version: '1.0', requires: ['epsilon'], modules: { 'delta.py': '' } },
  { name: 'epsilon', version: '1.0', requires: ['beta (<1.2)'], modules: { 'epsilon.py': '' } },
  { name: 'zeta', version: '1.0', modules: { 'zeta.py': '' } },
  // 'broken' has no wheel at all
];

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const keys = (pkgs: ResolvedPackage[]) => pkgs.map((p) => p.key);
const isBadRequest = (re: RegExp) => (e: unknown) => e instanceof SockpitError && e.code === 'bad_request' && re.test(e.message);

function importWith(pkgs: ResolvedPackage[], code: string): string {
  const r = spawnSync(PYTHON, ['-S', '-I', '-c', `import sys; sys.path[:0] = ${JSON.stringify(pkgs.map((p) => p.dir))}\n${code}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

function lsdir(dir: string): string[] {
  return fs.readdirSync(dir).sort();
}

describe('package cache', () => {
  let work: string;
  let wheelhouse: string;
  let cache: PackageCache;
  const events: InstallEvent[] = [];

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'sockpit-pkgs-'));
    wheelhouse = path.join(work, 'wheelhouse');
    buildWheelhouse(wheelhouse, WHEELS);
    cache = new PackageCache({ root: path.join(work, 'cache'), pipPython: PYTHON, indexUrl: null, findLinks: wheelhouse, wheelsOnly: true, onInstall: (e) => events.push(e) });
    cache.start();
  });
  after(() => {
    const times = events.filter((e) => e.ok).map((e) => `${e.key} ${Math.round(e.ms)} ms`);
    console.log(`# pip installs: ${times.join(', ')}`);
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('pip works with the configured interpreter', async () => {
    assert.match(await cache.checkPip(), /^pip \d+/);
  });

  test('ensure installs from find-links into store/ with meta, importable with -S -I', async () => {
    const pkg = await cache.ensure('alpha', '1.0');
    assert.equal(pkg.key, 'alpha==1.0');
    assert.equal(pkg.dir, path.join(cache.storeDir, 'alpha==1.0'));
    assert.equal(pkg.sandboxPath, '/packages/alpha==1.0');
    assert.deepEqual(pkg.topLevel, ['alpha']);
    assert.deepEqual(pkg.requires, []);
    assert.ok(pkg.sizeBytes > 0);
    assert.ok(fs.existsSync(path.join(pkg.dir, 'alpha/__init__.py')));
    assert.ok(fs.existsSync(path.join(pkg.dir, 'alpha/__pycache__')), 'pip precompiled the package (the store is read-only in sandboxes)');
    const meta = JSON.parse(fs.readFileSync(path.join(cache.root, 'meta/alpha==1.0.json'), 'utf8'));
    assert.equal(meta.name, 'alpha');
    assert.equal(meta.version, '1.0');
    assert.match(meta.installedAt, /^\d{4}-/);
    assert.equal(importWith([pkg], 'import alpha; print(alpha.VALUE)'), 'alpha 1.0');
    assert.deepEqual(keys(cache.list()), ['alpha==1.0']);
    assert.deepEqual(lsdir(cache.tmpDir), []);
    // a second ensure is a hit: no install
    const before = events.length;
    assert.equal(await cache.ensure('Alpha', '1.0'), pkg);
    assert.equal(events.length, before);
  });

  test('resolve of a bare name picks the newest version and pulls its dependencies', async () => {
    const pkgs = await cache.resolve([{ name: 'alpha', version: null }]);
    assert.deepEqual(keys(pkgs), ['alpha==2.0', 'beta==1.2']);
    assert.deepEqual(pkgs[0].requires, [{ name: 'beta', specifier: '>=1.1' }]);
    assert.equal(importWith(pkgs, 'import alpha; print(alpha.VALUE)'), 'alpha 2.0 with beta 1.2');
  });

  test('resolve of a pin gives exactly that version, alone', async () => {
    assert.deepEqual(keys(await cache.resolve([{ name: 'alpha', version: '1.0' }])), ['alpha==1.0']);
  });

  test('two versions of one package coexist in the store', () => {
    assert.deepEqual(lsdir(cache.storeDir), ['alpha==1.0', 'alpha==2.0', 'beta==1.2']);
    assert.deepEqual(lsdir(cache.metaDir), ['alpha==1.0.json', 'alpha==2.0.json', 'beta==1.2.json']);
    assert.deepEqual(cache.stats().packages, 3);
  });

  test('markers for other Pythons and extras-only dependencies are skipped; top-level names come from RECORD', async () => {
    const pkgs = await cache.resolve([{ name: 'gamma.pkg', version: null }]);
    assert.deepEqual(keys(pkgs), ['beta==1.1', 'gamma-pkg==0.3']);
    const gamma = pkgs[1];
    assert.deepEqual(gamma.topLevel, ['gamma_mod', 'gammapkg']);
    assert.deepEqual(gamma.requires.map((r) => r.name), ['nosuch-package', 'alsonot', 'beta']);
    assert.equal(importWith(pkgs, 'import gammapkg, beta; print(gammapkg.G, beta.VERSION)'), '3 1.1');
  });

  test('specifiers met in one level are intersected', async () => {
    // alpha 2.0 wants beta>=1.1 and gamma wants beta<1.2: both are met at the second level
    assert.deepEqual(keys(await cache.resolve([{ name: 'alpha', version: null }, { name: 'gamma-pkg', version: '0.3' }])), ['alpha==2.0', 'beta==1.1', 'gamma-pkg==0.3']);
  });

  test('a specifier met later that excludes an earlier pick restarts resolution with it known', async () => {
    // alpha picks beta 1.2 at level 2; delta -> epsilon -> beta<1.2 only shows at level 3
    assert.deepEqual(keys(await cache.resolve([{ name: 'alpha', version: null }, { name: 'delta', version: null }])), [
      'alpha==2.0',
      'beta==1.1',
      'delta==1.0',
      'epsilon==1.0',
    ]);
  });

  test('two different pins of one name in one closure are an error naming both', async () => {
    await assert.rejects(cache.resolve([{ name: 'alpha', version: '2.0' }, { name: 'beta', version: '1.0' }]), isBadRequest(/beta==1\.0 \(requested\).*beta>=1\.1 \(required by alpha==2\.0\)/));
    await assert.rejects(cache.resolve([{ name: 'alpha', version: '2.0' }, { name: 'alpha', version: '1.0' }]), isBadRequest(/alpha==2\.0 \(requested\), alpha==1\.0 \(requested\)/));
  });

  test('concurrent ensure() of one package runs pip once', async () => {
    const before = events.length;
    const all = await Promise.all(Array.from({ length: 6 }, () => cache.ensure('zeta', '1.0')));
    assert.ok(all.every((p) => p === all[0]));
    const installs = events.slice(before);
    assert.deepEqual(installs.map((e) => [e.key, e.ok]), [['zeta==1.0', true]]);
    assert.equal(cache.stats().installing, 0);
  });

  test('failed installs are clear errors and leave nothing in store/ or tmp/', async () => {
    const store = lsdir(cache.storeDir);
    const before = events.length;
    await assert.rejects(cache.ensure('broken', '1.0'), isBadRequest(/cannot install broken==1\.0: pip exited with 1: .*No matching distribution found for broken==1\.0/s));
    await assert.rejects(cache.ensure('alpha', '9.9'), isBadRequest(/cannot install alpha==9\.9: .*from versions: 1\.0, 2\.0/s));
    await assert.rejects(cache.resolve([{ name: 'broken', version: null }]), isBadRequest(/no distribution of broken was found/));
    await assert.rejects(cache.resolve([{ name: 'alpha', version: '9.9' }]), isBadRequest(/no version of alpha satisfies alpha==9\.9 \(requested\); available: 2\.0, 1\.0/));
    await assert.rejects(cache.ensure('--index-url=http://evil', '1'), isBadRequest(/invalid package name/));
    await assert.rejects(cache.ensure('alpha', '-r/etc/passwd'), isBadRequest(/invalid version/));
    assert.deepEqual(lsdir(cache.storeDir), store);
    assert.deepEqual(lsdir(cache.tmpDir), []);
    assert.deepEqual(events.slice(before).map((e) => [e.key, e.ok]), [['broken==1.0', false], ['alpha==9.9', false]]);
    assert.match(events[before].error ?? '', /broken==1\.0/);
  });

  test('a corrupt wheel fails cleanly too', async () => {
    const bad = path.join(work, 'badhouse');
    fs.mkdirSync(bad);
    fs.writeFileSync(path.join(bad, 'corrupt-1.0-py3-none-any.whl'), 'not a zip');
    const c2 = new PackageCache({ root: path.join(work, 'cache-bad'), pipPython: PYTHON, indexUrl: null, findLinks: bad, wheelsOnly: true });
    c2.start();
    await assert.rejects(c2.ensure('corrupt', '1.0'), isBadRequest(/cannot install corrupt==1\.0/));
    assert.deepEqual(lsdir(c2.storeDir), []);
    assert.deepEqual(lsdir(c2.tmpDir), []);
  });

  test('a restart keeps what was installed and clears half-done work', () => {
    fs.mkdirSync(path.join(cache.tmpDir, 'alpha==3.0.abc/target'), { recursive: true });
    fs.mkdirSync(path.join(cache.storeDir, 'omega==1.0')); // moved but meta never written
    fs.writeFileSync(path.join(cache.metaDir, 'ghost==1.0.json'), '{}'); // meta without a folder
    const again = new PackageCache({ root: cache.root, pipPython: PYTHON, indexUrl: null, findLinks: wheelhouse, wheelsOnly: true });
    again.start();
    assert.deepEqual(keys(again.list()), keys(cache.list()));
    assert.deepEqual(lsdir(again.tmpDir), []);
    assert.ok(!fs.existsSync(path.join(cache.storeDir, 'omega==1.0')));
    assert.ok(!fs.existsSync(path.join(cache.metaDir, 'ghost==1.0.json')));
    assert.deepEqual(again.get('alpha', '2.0')?.requires, [{ name: 'beta', specifier: '>=1.1' }]);
  });

  test('installs from a PEP 503 index served over HTTP', async () => {
    const files = new Map(fs.readdirSync(wheelhouse).map((f) => [f, path.join(wheelhouse, f)]));
    const hits: string[] = [];
    const server = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      const m = /^\/simple\/([a-z0-9-]+)\/$/.exec(req.url ?? '');
      if (m) {
        const mine = [...files.keys()].filter((f) => f.split('-')[0].toLowerCase().replace(/_/g, '-') === m[1]);
        if (mine.length === 0) {
          res.writeHead(404).end('not found');
          return;
        }
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(`<!DOCTYPE html><html><body>${mine.map((f) => `<a href="../../files/${f}#sha256=${sha256(files.get(f)!)}">${f}</a>`).join('<br/>')}</body></html>`);
        return;
      }
      const f = /^\/files\/([^/]+)$/.exec(req.url ?? '');
      if (f && files.has(f[1])) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        fs.createReadStream(files.get(f[1])!).pipe(res);
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const idx = new PackageCache({ root: path.join(work, 'cache-index'), pipPython: PYTHON, indexUrl: `http://127.0.0.1:${port}/simple`, findLinks: null, wheelsOnly: true });
      idx.start();
      const pkgs = await idx.resolve([{ name: 'alpha', version: null }]);
      assert.deepEqual(keys(pkgs), ['alpha==2.0', 'beta==1.2']);
      assert.equal(importWith(pkgs, 'import alpha; print(alpha.VALUE)'), 'alpha 2.0 with beta 1.2');
      assert.ok(hits.some((h) => h.startsWith('/files/alpha-2.0')));
      await assert.rejects(idx.resolve([{ name: 'broken', version: null }]), isBadRequest(/no distribution of broken was found/));
      await assert.rejects(idx.ensure('broken', '1.0'), isBadRequest(/cannot install broken==1\.0/));
      assert.deepEqual(lsdir(idx.tmpDir), []);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('package cache limits', () => {
  let work: string;
  let wheelhouse: string;
  const MB = 2 ** 20;
  const inUse = new Set<string>();
  const isNoSpace = (re: RegExp) => (e: unknown) => e instanceof SockpitError && e.code === 'no_space' && re.test(e.message);
  const blob = (name: string, mb: number): WheelFixture => ({ name, version: '1.0', modules: { [`${name}/__init__.py`]: '', [`${name}/blob.txt`]: '0'.repeat(mb * MB) } });

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'sockpit-pkg-limits-'));
    wheelhouse = path.join(work, 'wheelhouse');
    buildWheelhouse(wheelhouse, [
      blob('bomb', 40), // 40 MB of zeros in a wheel of ~40 KB
      { name: 'manyfiles', version: '1.0', modules: Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`manyfiles/m${i}.txt`, `${i}`])) },
      ...['p1', 'p2', 'p3', 'p4'].map((n) => blob(n, 3)),
    ]);
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  function limitedCache(name: string): PackageCache {
    const c = new PackageCache({
      root: path.join(work, name),
      pipPython: PYTHON,
      indexUrl: null,
      findLinks: wheelhouse,
      wheelsOnly: true,
      limits: { maxPackageBytes: 16 * MB, maxPackageFiles: 40, maxCacheBytes: 8 * MB },
      inUse: () => inUse,
    });
    c.start();
    return c;
  }

  test("a wheel that unpacks past maxPackageMb is refused from its zip directory, before pip installs it (507)", async () => {
    assert.ok(fs.statSync(path.join(wheelhouse, 'bomb-1.0-py3-none-any.whl')).size < MB);
    const c = limitedCache('bomb');
    await assert.rejects(c.ensure('bomb', '1.0'), isNoSpace(/cannot install bomb==1\.0: its wheel: it unpacks to more than 16 MB.*packages\.maxPackageMb/));
    await assert.rejects(c.ensure('manyfiles', '1.0'), isNoSpace(/cannot install manyfiles==1\.0: its wheel: it holds 6\d files, more than the 40 allowed/));
    assert.deepEqual(lsdir(c.storeDir), []);
    assert.deepEqual(lsdir(c.tmpDir), []);
  });

  test('past maxCacheMb, packages no function uses are evicted least recently used first; 507 when all are in use', async () => {
    const c = limitedCache('lru');
    await c.ensure('p1', '1.0');
    await c.ensure('p2', '1.0');
    inUse.add('p1==1.0');
    await c.ensure('p3', '1.0'); // 9 MB would not fit in 8: p2 (unused) goes, p1 (in use) stays
    assert.deepEqual(keys(c.list()), ['p1==1.0', 'p3==1.0']);
    assert.deepEqual(lsdir(c.storeDir), ['p1==1.0', 'p3==1.0']);
    assert.ok(c.stats().bytes <= 8 * MB);
    inUse.add('p3==1.0');
    await assert.rejects(c.ensure('p4', '1.0'), isNoSpace(/cannot install p4==1\.0 .*packages that deployed functions use.*packages\.maxCacheMb\) is 8\.0 MB/));
    assert.deepEqual(lsdir(c.storeDir), ['p1==1.0', 'p3==1.0']);
    assert.deepEqual(lsdir(c.tmpDir), []);
    // an evicted package comes back when it is asked for again (and something unused makes room for it)
    inUse.delete('p3==1.0');
    await c.ensure('p2', '1.0');
    assert.deepEqual(keys(c.list()), ['p1==1.0', 'p2==1.0']);
  });
});
