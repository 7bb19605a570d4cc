// The benchmark wheelhouse: real libraries from Debian (python3-requests, -flask, -numpy, -pandas and what they
// depend on) repacked as wheels, so the benchmarks install them through the package cache like any package
// (PyPI is unreachable on the machines this runs on).
//
// Debian's own metadata is not enough to find the closure: dh_python strips install_requires from the egg-info
// (pandas's requires.txt has empty sections where numpy, python-dateutil and pytz were). So a distribution's
// dependencies are its remaining Requires-Dist lines (extras-only ones skipped) plus its Debian package's Depends
// on other python3-* packages, mapped back to the distributions those install. The wheels carry the merged list
// as Requires-Dist, and the package cache resolves them like any other.
//
// A distribution's files are found by its top-level names (top_level.txt, else RECORD, else `dpkg -L`): a
// package folder, a module file and extension modules beside it — which also picks up files Debian ships in a
// second package (python3-pandas-lib holds pandas' .so files). __pycache__ and .pyc are left out (pip compiles
// at install), so are .pth files and anything outside the top-level names (Debian's own hooks).

import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { normaliseName, parseMetadata, parseRecord, parseRequirement, parseTopLevelTxt, requiresTxtToRequiresDist, topLevelFromPaths } from '../packages/metadata';
import { WheelFile, writeWheel } from '../packages/wheel-writer';
import { PackageCache, ResolvedPackage } from '../packages';

export const DIST_PACKAGES = '/usr/lib/python3/dist-packages';
const SANDBOX_PYTHON = '/usr/bin/python3';

export interface DebianWheelhouse {
  /** paths of the wheels written */
  wheels: string[];
  /** normalised distribution name → version */
  packages: Record<string, string>;
}

export interface WheelhouseOptions {
  /** where Debian's Python libraries live; default /usr/lib/python3/dist-packages */
  distPackages?: string;
  /** run `apt-get install -y python3-<root>` for a missing root (default true) */
  installMissing?: boolean;
  log?: (line: string) => void;
}

interface DebianDist {
  name: string;
  key: string;
  version: string;
  metaPath: string;
  kind: 'dist-info' | 'egg-info';
  requiresDist: string[];
  summary: string | null;
  requiresPython: string | null;
}

/**
 * Repacks `roots` and, recursively, the distributions they depend on that Debian installed under dist-packages,
 * as wheels in `dir`. Deterministic file contents; existing wheels of the same name are overwritten.
 */
export async function buildDebianWheelhouse(
  dir: string,
  roots: string[] = ['requests', 'flask', 'numpy', 'pandas'],
  opts: WheelhouseOptions = {},
): Promise<DebianWheelhouse> {
  const dist = opts.distPackages ?? DIST_PACKAGES;
  const log = opts.log ?? ((line: string) => console.log(line));
  fs.mkdirSync(dir, { recursive: true });

  let index = indexDistributions(dist);
  const missing = roots.filter((r) => !index.has(normaliseName(r)));
  if (missing.length > 0) {
    if (opts.installMissing === false) throw new Error(`not installed under ${dist}: ${missing.join(', ')}`);
    const debs = missing.map((r) => `python3-${normaliseName(r)}`);
    log(`wheelhouse: installing ${debs.join(' ')} with apt-get`);
    const r = spawnSync('apt-get', ['install', '-y', ...debs], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status !== 0) throw new Error(`apt-get install ${debs.join(' ')} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ')}`);
    index = indexDistributions(dist);
    const still = roots.filter((r) => !index.has(normaliseName(r)));
    if (still.length > 0) throw new Error(`still not installed under ${dist} after apt-get: ${still.join(', ')}`);
  }

  const owners = new DebianOwners(dist, index);
  const wanted = new Map<string, Set<string>>(); // key -> dependency keys
  const queue = roots.map(normaliseName);
  while (queue.length > 0) {
    const key = queue.shift()!;
    if (wanted.has(key)) continue;
    const d = index.get(key)!;
    const deps = new Set<string>();
    for (const line of d.requiresDist) {
      const req = safeRequirement(line);
      if (req && !(req.marker ?? '').includes('extra') && index.has(req.name) && req.name !== key) deps.add(req.name);
    }
    for (const dep of owners.debianDepends(d)) if (dep !== key) deps.add(dep);
    wanted.set(key, deps);
    for (const dep of deps) if (!wanted.has(dep)) queue.push(dep);
  }

  const result: DebianWheelhouse = { wheels: [], packages: {} };
  for (const key of [...wanted.keys()].sort()) {
    const d = index.get(key)!;
    const files = distributionFiles(dist, d, owners, log);
    if (files.length === 0) {
      log(`wheelhouse: ${d.name} ${d.version} has no files of its own; skipped`);
      continue;
    }
    const hasExt = files.some((f) => /\.so(\.|$)/.test(f.path));
    const tag = hasExt ? `cp311-cp311-${linuxPlatform()}` : 'py3-none-any';
    // the original Requires-Dist lines, plus the Debian-derived dependencies they lost
    const requires = [...d.requiresDist];
    const named = new Set(requires.map((l) => safeRequirement(l)).filter((r) => r && !(r.marker ?? '').includes('extra')).map((r) => r!.name));
    for (const dep of [...wanted.get(key)!].sort()) if (!named.has(dep)) requires.push(index.get(dep)!.name);
    const metadata = [
      'Metadata-Version: 2.1',
      `Name: ${d.name}`,
      `Version: ${d.version}`,
      `Summary: ${d.summary ?? ''} (repacked from Debian by sockpit)`,
      ...(d.requiresPython ? [`Requires-Python: ${d.requiresPython}`] : []),
      ...requires.map((r) => `Requires-Dist: ${r}`),
      '',
    ].join('\n');
    const topLevel = topLevelNames(dist, d, owners);
    const wheel = writeWheel(dir, { name: d.name, version: d.version, tag, metadata, files, distInfo: { 'top_level.txt': topLevel.join('\n') + '\n' } });
    result.wheels.push(wheel);
    result.packages[key] = d.version;
    log(`wheelhouse: ${path.basename(wheel)} (${files.length} files, ${(fs.statSync(wheel).size / 1e6).toFixed(1)} MB)`);
  }
  return result;
}

export interface WheelhouseCheck {
  packages: ResolvedPackage[];
  /** resolve + pip installs, cold cache */
  installMs: number;
  /** `import <module>` in a fresh `python3 -S -I` with only the cache folders on sys.path */
  importMs: number;
  /** the same interpreter start without the import, for comparison */
  bareMs: number;
}

/**
 * Installs `requirement` (a name) from the wheelhouse into a throwaway package cache and imports `module` with
 * the sandbox interpreter and nothing but those cache folders on sys.path. Removes the cache afterwards.
 */
export async function checkWheelhouse(wheelhouse: string, requirement: string, module = requirement, pipPython = SANDBOX_PYTHON): Promise<WheelhouseCheck> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sockpit-wheelhouse-check-'));
  try {
    const cache = new PackageCache({ root, pipPython, indexUrl: null, findLinks: wheelhouse, wheelsOnly: true });
    cache.start();
    const t0 = performance.now();
    const packages = await cache.resolve([{ name: requirement, version: null }]);
    const installMs = performance.now() - t0;
    const run = (code: string) => {
      const t = performance.now();
      const r = spawnSync(SANDBOX_PYTHON, ['-S', '-I', '-c', `import sys; sys.path[:0] = ${JSON.stringify(packages.map((p) => p.dir))}\n${code}`], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`import ${module} failed with only the cache on sys.path:\n${r.stderr.trim().split('\n').slice(-5).join('\n')}`);
      return performance.now() - t;
    };
    run(`import ${module}`); // page cache warm-up
    const importMs = median([0, 1, 2].map(() => run(`import ${module}`)));
    const bareMs = median([0, 1, 2].map(() => run('pass')));
    return { packages, installMs, importMs, bareMs };
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function linuxPlatform(): string {
  const arch = os.arch() === 'x64' ? 'x86_64' : os.arch() === 'arm64' ? 'aarch64' : os.arch();
  return `linux_${arch}`;
}

function safeRequirement(line: string) {
  try {
    return parseRequirement(line);
  } catch {
    return null;
  }
}

/** Every distribution's metadata folder under dist-packages, by normalised name. */
function indexDistributions(dist: string): Map<string, DebianDist> {
  const out = new Map<string, DebianDist>();
  for (const e of fs.readdirSync(dist).sort()) {
    const kind = e.endsWith('.dist-info') ? 'dist-info' : e.endsWith('.egg-info') ? 'egg-info' : null;
    if (kind === null) continue;
    const metaPath = path.join(dist, e);
    let text: string;
    let requiresDist: string[];
    try {
      if (fs.statSync(metaPath).isFile()) text = fs.readFileSync(metaPath, 'utf8');
      else text = fs.readFileSync(path.join(metaPath, kind === 'dist-info' ? 'METADATA' : 'PKG-INFO'), 'utf8');
    } catch {
      continue;
    }
    let md;
    try {
      md = parseMetadata(text, e);
    } catch {
      continue;
    }
    requiresDist = md.requiresDist;
    const requiresTxt = path.join(metaPath, 'requires.txt');
    if (kind === 'egg-info' && fs.existsSync(requiresTxt)) requiresDist = requiresTxtToRequiresDist(fs.readFileSync(requiresTxt, 'utf8'));
    const key = normaliseName(md.name);
    if (out.has(key)) continue;
    out.set(key, { name: md.name, key, version: md.version, metaPath, kind, requiresDist, summary: md.summary, requiresPython: md.requiresPython });
  }
  return out;
}

/** Debian's view: which package owns a distribution, what it Depends on, which distributions those install. */
class DebianOwners {
  private readonly listCache = new Map<string, string[]>();

  constructor(
    private readonly dist: string,
    private readonly index: Map<string, DebianDist>,
  ) {}

  owner(p: string): string | null {
    try {
      const out = execFileSync('dpkg-query', ['-S', p], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      return out.split('\n')[0].split(':')[0].split(',')[0].trim() || null;
    } catch {
      return null;
    }
  }

  files(pkg: string): string[] {
    let list = this.listCache.get(pkg);
    if (!list) {
      try {
        list = execFileSync('dpkg-query', ['-L', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 }).split('\n').filter((l) => l !== '');
      } catch {
        list = [];
      }
      this.listCache.set(pkg, list);
    }
    return list;
  }

  /** Distributions (keys in the index) installed by the python3-* packages that `d`'s Debian package Depends on. */
  debianDepends(d: DebianDist): string[] {
    const pkg = this.owner(d.metaPath);
    if (!pkg) return [];
    let depends = '';
    try {
      depends = execFileSync('dpkg-query', ['-W', '-f=${Depends}', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return [];
    }
    const out = new Set<string>();
    for (const group of depends.split(',')) {
      // alternatives: the first python3-* one that is installed
      for (const alt of group.split('|')) {
        const name = alt.trim().split(/[\s(:]/)[0];
        if (!/^python3-/.test(name)) continue;
        const dists = this.distributionsOf(name);
        if (dists.length === 0 && this.files(name).length === 0) continue; // not installed (or virtual)
        for (const k of dists) out.add(k);
        break;
      }
    }
    return [...out].sort();
  }

  private distributionsOf(pkg: string): string[] {
    const out: string[] = [];
    for (const f of this.files(pkg)) {
      if (path.dirname(f) !== this.dist || !/\.(egg|dist)-info$/.test(f)) continue;
      for (const d of this.index.values()) if (d.metaPath === f) out.push(d.key);
    }
    return out;
  }
}

function topLevelNames(dist: string, d: DebianDist, owners: DebianOwners): string[] {
  const isDir = fs.statSync(d.metaPath).isDirectory();
  const tl = path.join(d.metaPath, 'top_level.txt');
  if (isDir && fs.existsSync(tl)) {
    const names = parseTopLevelTxt(fs.readFileSync(tl, 'utf8')).filter((n) => moduleEntries(dist, n).length > 0);
    if (names.length > 0) return names;
  }
  const record = path.join(d.metaPath, 'RECORD');
  if (isDir && fs.existsSync(record)) {
    const names = topLevelFromPaths(parseRecord(fs.readFileSync(record, 'utf8')).map((e) => e.path));
    if (names.length > 0) return names;
  }
  const pkg = owners.owner(d.metaPath);
  const prefix = dist + '/';
  return pkg ? topLevelFromPaths(owners.files(pkg).filter((f) => f.startsWith(prefix)).map((f) => f.slice(prefix.length))) : [];
}

/** The entries directly in dist-packages that make up top-level module `name`. */
function moduleEntries(dist: string, name: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dist)) {
    if (e === name || e === `${name}.py` || (e.startsWith(`${name}.`) && /\.so$/.test(e))) out.push(e);
  }
  return out.sort();
}

function distributionFiles(dist: string, d: DebianDist, owners: DebianOwners, log: (line: string) => void): WheelFile[] {
  const files: WheelFile[] = [];
  const seenDirs = new Set<string>();
  const add = (abs: string, rel: string) => {
    let st: fs.Stats;
    try {
      st = fs.statSync(abs); // follows symlinks: the wheel holds the content
    } catch {
      log(`wheelhouse: ${d.name}: skipping dangling ${rel}`);
      return;
    }
    if (st.isDirectory()) {
      const real = fs.realpathSync(abs);
      if (seenDirs.has(real)) return;
      seenDirs.add(real);
      for (const e of fs.readdirSync(abs).sort()) {
        if (e === '__pycache__' || e.endsWith('.pyc')) continue;
        add(path.join(abs, e), `${rel}/${e}`);
      }
    } else if (st.isFile()) {
      files.push({ path: rel, data: fs.readFileSync(abs), mode: st.mode & 0o777 });
    }
  };
  for (const top of topLevelNames(dist, d, owners)) for (const e of moduleEntries(dist, top)) add(path.join(dist, e), e);
  return files;
}
