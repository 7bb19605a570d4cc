// The package cache: each name==version installed once with pip (`--no-deps --target`) into its own folder,
// shared read-only by every sandbox at /packages/<name>==<version>. Resolution follows Requires-Dist level by level;
// version choice and marker evaluation run in pep508.py with pip's own `packaging`.
//
// <root>/store/<key>/     the installed files (a sandbox puts /packages/<key> on sys.path)
// <root>/meta/<key>.json  what we know about it (requires, topLevel, size); its presence means "installed"
// <root>/tmp/             installs in progress; emptied by start()
//
// Bounded (README "Configuration", packages.*): pip first only downloads the archive; a wheel's unpacked size
// and file count are read from its zip directory (wheel-size.ts) before pip installs it, the installed tree is
// measured again after (pip adds .pyc files), and the whole cache has a size limit: packages no deployed
// function uses are evicted least recently used first (eviction.ts). Past a limit: 507 no_space, saying which.

import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { SockpitError, errnoOf, wrap } from '../errors';
import {
  Dependency,
  checkName,
  checkVersion,
  normaliseName,
  outputTail,
  packageKey,
  parseKey,
  parseMetadata,
  parseRecord,
  parseRequirement,
  parseTopLevelTxt,
  topLevelFromPaths,
} from './metadata';
import { Chosen, Demand, LateConflict, describeDemand, pickLevel } from './pick';
import { helperScriptPath, runPython } from './pip';
import { pickEvictions } from './eviction';
import { wheelTotals, WheelTooLarge } from './wheel-size';

export { normaliseName, packageKey, parseKey } from './metadata';
export type { Dependency } from './metadata';

/** Where the sandboxes see the store. */
export const SANDBOX_PACKAGES = '/packages';

export interface PackageCacheOptions {
  root: string;
  /** the host interpreter that runs pip and the helper; must be the sandboxes' Python version */
  pipPython: string;
  indexUrl: string | null;
  findLinks: string | null;
  wheelsOnly: boolean;
  /** per pip run; default 300 s */
  installTimeoutMs?: number;
  /** pip runs at once; default 3 */
  maxParallelInstalls?: number;
  /** bounds of one package and of the whole cache (default: unbounded) */
  limits?: PackageLimits;
  /** keys of the packages deployed functions, and deploys in progress, use: never evicted */
  inUse?: () => ReadonlySet<string>;
  onInstall?: (event: InstallEvent) => void;
}

export interface PackageLimits {
  /** what one package may unpack to (its wheel's zip directory), and occupy once installed */
  maxPackageBytes: number;
  maxPackageFiles: number;
  /** the whole cache */
  maxCacheBytes: number;
}

const UNBOUNDED: PackageLimits = { maxPackageBytes: Infinity, maxPackageFiles: Infinity, maxCacheBytes: Infinity };

export interface InstallEvent {
  name: string;
  version: string;
  key: string;
  /** wall time of the whole install (pip + metadata + move) */
  ms: number;
  ok: boolean;
  error?: string;
  sizeBytes?: number;
}

export interface ResolvedPackage {
  name: string;
  version: string;
  /** `name==version` */
  key: string;
  /** the installed folder on the host */
  dir: string;
  /** the same folder inside a sandbox: `/packages/name==version` */
  sandboxPath: string;
  /** importable top-level modules */
  topLevel: string[];
  requires: Dependency[];
  sizeBytes: number;
}

/** <root>/meta/<key>.json */
export interface PackageMeta {
  name: string;
  version: string;
  /** Name and Version as the distribution's own METADATA spells them */
  distName: string;
  distVersion: string;
  requires: Dependency[];
  topLevel: string[];
  sizeBytes: number;
  installedAt: string;
}

export interface Requirement {
  name: string;
  version: string | null;
}

interface HelperQuery {
  name: string;
  specifier: string;
  marker: string | null;
  /** extra contexts the marker is evaluated in, besides '' */
  extras: string[];
}

interface HelperAnswer {
  python: string;
  results: Array<{ applies: boolean; matching: string[]; error: string | null }>;
  available: Record<string, string[]>;
}

/** A dependency waiting for its level: the query plus who asked and which extras it asks of the dependency. */
interface Pending {
  query: HelperQuery;
  by: string;
  extras: string[];
  url?: string;
}

export interface PackageCache {
  on(event: 'install', listener: (event: InstallEvent) => void): this;
  off(event: 'install', listener: (event: InstallEvent) => void): this;
  emit(event: 'install', e: InstallEvent): boolean;
}

export class PackageCache extends EventEmitter {
  readonly root: string;
  readonly storeDir: string;
  readonly metaDir: string;
  readonly tmpDir: string;
  private readonly opts: PackageCacheOptions;
  private readonly installed = new Map<string, ResolvedPackage>();
  private readonly inflight = new Map<string, Promise<ResolvedPackage>>();
  /** when each installed package was last installed or resolved (LRU eviction) */
  private readonly lastUsed = new Map<string, number>();
  /** packages in a resolution under way, with how many hold each: not evicted meanwhile */
  private readonly pinned = new Map<string, number>();
  private readonly limits: PackageLimits;
  private started = false;
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(opts: PackageCacheOptions) {
    super();
    this.opts = opts;
    this.root = path.resolve(opts.root);
    this.storeDir = path.join(this.root, 'store');
    this.metaDir = path.join(this.root, 'meta');
    this.tmpDir = path.join(this.root, 'tmp');
    this.limits = opts.limits ?? UNBOUNDED;
    if (opts.onInstall) this.on('install', opts.onInstall);
  }

  /**
   * Creates the folders, removes installs left in progress by a previous run, drops store folders without meta
   * (a crash between the move and the meta write) and meta without a folder, and loads what is installed.
   */
  start(): void {
    try {
      for (const d of [this.storeDir, this.metaDir, this.tmpDir]) fs.mkdirSync(d, { recursive: true, mode: 0o755 });
      for (const e of fs.readdirSync(this.tmpDir)) fs.rmSync(path.join(this.tmpDir, e), { recursive: true, force: true });
      this.installed.clear();
      const metas = new Set<string>();
      for (const f of fs.readdirSync(this.metaDir)) {
        const file = path.join(this.metaDir, f);
        const key = f.endsWith('.json') ? f.slice(0, -5) : null;
        const meta = key !== null && parseKey(key) ? readMeta(file) : null;
        if (key === null || meta === null || !isDir(path.join(this.storeDir, key))) {
          fs.rmSync(file, { force: true });
          continue;
        }
        metas.add(key);
        this.installed.set(key, this.toResolved(key, meta));
        this.lastUsed.set(key, fs.statSync(file).mtimeMs); // touched at each use (touch())
      }
      for (const d of fs.readdirSync(this.storeDir)) {
        if (!metas.has(d)) fs.rmSync(path.join(this.storeDir, d), { recursive: true, force: true });
      }
    } catch (err) {
      throw wrap(err, `cannot prepare the package cache in ${this.root}`, { op: 'packages.start', path: this.root });
    }
    this.started = true;
  }

  /** The installed packages, sorted by key. */
  list(): ResolvedPackage[] {
    return [...this.installed.values()].sort((a, b) => compareKeys(a.key, b.key));
  }

  get(name: string, version: string): ResolvedPackage | undefined {
    return this.installed.get(packageKey(name, version));
  }

  stats(): { packages: number; bytes: number; installing: number } {
    let bytes = 0;
    for (const p of this.installed.values()) bytes += p.sizeBytes;
    return { packages: this.installed.size, bytes, installing: this.inflight.size };
  }

  /** `pip --version` of the configured interpreter; rejects with a clear message when pip is missing. */
  async checkPip(): Promise<string> {
    this.ensureStarted();
    const r = await runPython(this.opts.pipPython, ['-I', '-m', 'pip', '--version'], { tmpDir: this.tmpDir, timeoutMs: 30_000 }).catch((err) => {
      throw wrap(err, `cannot run ${this.opts.pipPython}`, { op: 'packages.pip', code: 'internal' });
    });
    if (r.code !== 0) {
      throw new SockpitError('internal', `${this.opts.pipPython} -m pip does not work: ${outputTail(r.stderr + r.stdout)}`, { op: 'packages.pip' });
    }
    return r.stdout.trim();
  }

  /**
   * Installs name==version once (or returns it when already installed); concurrent calls for the same key share
   * one install. A failure is a SockpitError('bad_request') naming the package with the tail of pip's output,
   * and leaves nothing behind.
   */
  ensure(name: string, version: string): Promise<ResolvedPackage> {
    let key: string;
    try {
      this.ensureStarted();
      const n = checkName(name);
      key = packageKey(n, checkVersion(n, version));
    } catch (err) {
      return Promise.reject(err);
    }
    const hit = this.installed.get(key);
    if (hit) return Promise.resolve(hit);
    let p = this.inflight.get(key);
    if (!p) {
      const { name: n, version: v } = parseKey(key)!;
      p = this.install(n, v).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  /**
   * The closure of `requirements` as installed packages, sorted by key: exact pins are honoured, bare names and
   * dependencies get the newest available version satisfying every specifier on them, markers are evaluated for
   * the sandbox interpreter (extras-only dependencies are skipped unless that extra was asked for). Breadth-first
   * and greedy; when a later specifier excludes a version picked earlier, resolution restarts once per such
   * conflict with that specifier known up front. A closure needing two versions of one name is a bad_request
   * naming both demands.
   */
  async resolve(requirements: readonly Requirement[]): Promise<ResolvedPackage[]> {
    this.ensureStarted();
    const top: Pending[] = requirements.map((r) => {
      const name = checkName(r.name);
      const specifier = r.version === null ? '' : `==${checkVersion(name, r.version)}`;
      return { query: { name, specifier, marker: null, extras: [] }, by: 'requested', extras: [] };
    });
    const constraints = new Map<string, Demand[]>();
    const pins = new Set<string>();
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const closure = await this.resolveOnce(top, constraints, pins);
          for (const pkg of closure) this.touch(pkg.key);
          return closure;
        } catch (err) {
          if (!(err instanceof LateConflict) || attempt >= 8) throw err;
          const list = constraints.get(err.demand.name) ?? [];
          if (list.some((d) => d.by === err.demand.by && d.specifier === err.demand.specifier)) throw err;
          list.push(err.demand);
          constraints.set(err.demand.name, list);
        }
      }
    } finally {
      for (const key of pins) this.unpin(key);
    }
  }

  /** Keeps packages from eviction until the returned function is called (a deploy, until it is stored). */
  hold(keys: readonly string[]): () => void {
    const pins = new Set<string>();
    for (const key of keys) this.pin(key, pins);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const key of pins) this.unpin(key);
    };
  }

  private pin(key: string, pins: Set<string>): void {
    if (pins.has(key)) return;
    pins.add(key);
    this.pinned.set(key, (this.pinned.get(key) ?? 0) + 1);
  }

  private unpin(key: string): void {
    const n = this.pinned.get(key) ?? 0;
    if (n <= 1) this.pinned.delete(key);
    else this.pinned.set(key, n - 1);
  }

  /** Marks a package as used now, in memory and (for the next start) as its meta file's mtime. */
  private touch(key: string): void {
    const now = Date.now();
    this.lastUsed.set(key, now);
    try {
      fs.utimesSync(path.join(this.metaDir, `${key}.json`), now / 1000, now / 1000);
    } catch {
      // an evicted or vanished meta file: the next start reads what is there
    }
  }

  private async resolveOnce(top: Pending[], constraints: Map<string, Demand[]>, pins: Set<string>): Promise<ResolvedPackage[]> {
    const chosen = new Map<string, Chosen>();
    const packages = new Map<string, ResolvedPackage>();
    let pending = top;
    while (pending.length > 0) {
      const answer = await this.helper(pending.map((p) => p.query));
      const demands: Demand[] = [];
      pending.forEach((p, i) => {
        const r = answer.results[i];
        if (!r || !r.applies) return;
        if (p.url !== undefined) {
          throw new SockpitError('bad_request', `${p.by} requires ${p.query.name} @ ${p.url}: direct references are not supported by the package cache`, { op: 'packages.resolve' });
        }
        const demand: Demand = { name: p.query.name, specifier: p.query.specifier, by: p.by, extras: p.extras, matching: r.matching };
        if (r.error !== null) throw new SockpitError('bad_request', `cannot resolve ${describeDemand(demand)}: ${r.error}`, { op: 'packages.resolve' });
        demands.push(demand);
      });
      const available = new Map(Object.entries(answer.available));
      const level = pickLevel(chosen, demands, constraints, available);
      // pinned as each arrives: another install making room must not evict what this closure just got
      const installed = await Promise.all(level.added.map((c) => this.ensure(c.name, c.version).then((pkg) => (this.pin(pkg.key, pins), pkg))));
      const next: Pending[] = [];
      const follow = (pkg: ResolvedPackage, contexts: string[], onlyExtraDeps: boolean) => {
        for (const dep of pkg.requires) {
          if (onlyExtraDeps && !(dep.marker ?? '').includes('extra')) continue;
          next.push({
            query: { name: dep.name, specifier: dep.specifier, marker: dep.marker ?? null, extras: contexts },
            by: pkg.key,
            extras: dep.extras ?? [],
            ...(dep.url !== undefined ? { url: dep.url } : {}),
          });
        }
      };
      installed.forEach((pkg, i) => {
        packages.set(pkg.name, pkg);
        follow(pkg, [...level.added[i].extras].sort(), false);
      });
      for (const { chosen: c, extras } of level.extended) follow(packages.get(c.name)!, extras, true);
      pending = next;
    }
    return [...packages.values()].sort((a, b) => compareKeys(a.key, b.key));
  }

  private async helper(queries: HelperQuery[]): Promise<HelperAnswer> {
    const installed: Record<string, string[]> = {};
    for (const p of this.installed.values()) (installed[p.name] ??= []).push(p.version);
    const request = {
      indexUrl: this.opts.indexUrl,
      findLinks: this.opts.findLinks,
      wheelsOnly: this.opts.wheelsOnly,
      installed,
      queries,
    };
    const r = await runPython(this.opts.pipPython, ['-I', helperScriptPath()], {
      tmpDir: this.tmpDir,
      timeoutMs: 120_000,
      input: JSON.stringify(request),
    }).catch((err) => {
      throw wrap(err, `cannot run ${this.opts.pipPython} for package resolution`, { op: 'packages.resolve', code: 'internal' });
    });
    if (r.code !== 0 || r.timedOut) {
      throw new SockpitError(
        'internal',
        `package resolution helper failed (${r.timedOut ? 'timed out' : `exit ${r.code ?? r.signal}`}): ${outputTail(r.stderr + r.stdout)}`,
        { op: 'packages.resolve' },
      );
    }
    try {
      const answer = JSON.parse(r.stdout) as HelperAnswer;
      if (!Array.isArray(answer.results) || answer.results.length !== queries.length) throw new Error('wrong number of results');
      return answer;
    } catch (err) {
      throw wrap(err, 'package resolution helper answered nonsense', { op: 'packages.resolve', code: 'internal' });
    }
  }

  private ensureStarted(): void {
    if (!this.started) this.start();
  }

  private async acquire(): Promise<void> {
    const max = this.opts.maxParallelInstalls ?? 3;
    if (this.running < max) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }

  private async install(name: string, version: string): Promise<ResolvedPackage> {
    const key = packageKey(name, version);
    await this.acquire();
    const started = performance.now();
    let work: string | null = null;
    let moved = false;
    try {
      work = fs.mkdtempSync(path.join(this.tmpDir, `${key}.`));
      const target = path.join(work, 'target');
      const download = path.join(work, 'download');
      const common = ['--no-deps', '--disable-pip-version-check', '--no-input', '--no-cache-dir', '--progress-bar', 'off', '--no-color'];
      if (this.opts.wheelsOnly) common.push('--only-binary', ':all:');
      if (this.opts.indexUrl !== null) common.push('--index-url', this.opts.indexUrl);
      if (this.opts.findLinks !== null) {
        if (this.opts.indexUrl === null) common.push('--no-index');
        common.push('--find-links', this.opts.findLinks);
      }
      // first the archive only, to look inside it before anything is unpacked
      await this.pip(key, work, ['download', ...common, '--dest', download, `${name}==${version}`]);
      const archives = fs.readdirSync(download);
      if (archives.length !== 1) throw new SockpitError('bad_request', `cannot install ${key}: pip downloaded ${archives.length} files`, { op: 'packages.install' });
      const archive = path.join(download, archives[0]);
      const expected = archive.endsWith('.whl') ? (await this.checkWheel(key, archive)).uncompressedBytes : fs.statSync(archive).size;
      this.makeRoom(key, expected);
      await this.pip(key, work, ['install', ...common, '--target', target, '--no-warn-script-location', archive]);
      const meta = readInstalled(target, name, version);
      const files = listFiles(target).length;
      if (meta.sizeBytes > this.limits.maxPackageBytes || files > this.limits.maxPackageFiles) {
        throw tooLarge(key, `installed, it holds ${files} files and ${mb(meta.sizeBytes)} MB`, this.limits);
      }
      this.makeRoom(key, meta.sizeBytes);
      const dest = path.join(this.storeDir, key);
      try {
        fs.renameSync(target, dest);
        moved = true;
      } catch (err) {
        // another process put it there first: theirs is as good as ours
        if (errnoOf(err) !== 'EEXIST' && errnoOf(err) !== 'ENOTEMPTY') throw err;
      }
      const metaTmp = path.join(work, 'meta.json');
      fs.writeFileSync(metaTmp, JSON.stringify(meta, null, 2) + '\n');
      fs.renameSync(metaTmp, path.join(this.metaDir, `${key}.json`));
      const pkg = this.toResolved(key, meta);
      this.installed.set(key, pkg);
      this.lastUsed.set(key, Date.now());
      this.emit('install', { name, version, key, ms: performance.now() - started, ok: true, sizeBytes: meta.sizeBytes });
      return pkg;
    } catch (err) {
      if (moved) fs.rmSync(path.join(this.storeDir, key), { recursive: true, force: true });
      const e =
        err instanceof SockpitError && (err.code === 'bad_request' || err.code === 'no_space')
          ? err
          : wrap(err, `cannot install ${key}`, { op: 'packages.install', code: errnoOf(err) === 'ENOSPC' ? 'no_space' : 'bad_request', path: work ?? undefined });
      this.emit('install', { name, version, key, ms: performance.now() - started, ok: false, error: e.message });
      throw e;
    } finally {
      if (work !== null) fs.rmSync(work, { recursive: true, force: true });
      this.release();
    }
  }

  /** Runs pip; its failure is a clear error (507 no_space when the disk is full). */
  private async pip(key: string, work: string, args: string[]): Promise<void> {
    const r = await runPython(this.opts.pipPython, ['-I', '-m', 'pip', ...args], { tmpDir: work, timeoutMs: this.opts.installTimeoutMs ?? 300_000 }).catch((err) => {
      throw wrap(err, `cannot run ${this.opts.pipPython}`, { op: 'packages.install' });
    });
    if (r.code === 0 && !r.timedOut) return;
    if (/\[Errno 28\]|No space left on device/.test(r.stderr + r.stdout)) {
      throw new SockpitError('no_space', `cannot install ${key}: no space left on device in the package cache (${this.root}); free some space and deploy again`, {
        op: 'packages.install',
        errno: 'ENOSPC',
        detail: { package: key, output: (r.stderr + r.stdout).slice(-8000) },
      });
    }
    const how = r.timedOut ? `pip timed out after ${Math.round(r.ms / 1000)} s` : `pip exited with ${r.code ?? r.signal}`;
    throw new SockpitError('bad_request', `cannot install ${key}: ${how}: ${outputTail(r.stderr + '\n' + r.stdout) || '(no output)'}`, {
      op: 'packages.install',
      detail: { package: key, output: (r.stderr + r.stdout).slice(-8000) },
    });
  }

  /** What the wheel unpacks to, from its zip directory; 507 past packages.maxPackageMb / maxPackageFiles. */
  private async checkWheel(key: string, archive: string) {
    try {
      return await wheelTotals(archive, { maxBytes: this.limits.maxPackageBytes, maxFiles: this.limits.maxPackageFiles });
    } catch (err) {
      if (err instanceof WheelTooLarge) throw tooLarge(key, `its wheel: ${err.message}`, this.limits);
      throw new SockpitError('bad_request', `cannot install ${key}: its wheel is not a valid zip: ${(err as Error).message}`, { op: 'packages.install' });
    }
  }

  /**
   * Evicts packages no deployed function uses, least recently used first, until `bytes` more fit under
   * packages.maxCacheMb; 507 when the packages in use leave too little room.
   */
  private makeRoom(key: string, bytes: number): void {
    const max = this.limits.maxCacheBytes;
    const used = this.stats().bytes;
    if (used + bytes <= max) return;
    const keep = new Set([...(this.opts.inUse?.() ?? []), ...this.pinned.keys(), key]);
    const cached = [...this.installed.values()].map((p) => ({ key: p.key, sizeBytes: p.sizeBytes, lastUsed: this.lastUsed.get(p.key) ?? 0 }));
    const victims = pickEvictions(cached, keep, used, bytes, max);
    if (victims === null) {
      throw new SockpitError(
        'no_space',
        `cannot install ${key} (${mb(bytes)} MB): the package cache holds ${mb(used)} MB of packages that deployed functions use, and its limit (packages.maxCacheMb) is ${mb(max)} MB; remove functions or raise the limit`,
        { op: 'packages.install', detail: { package: key, cacheBytes: used, neededBytes: bytes, maxCacheBytes: max } },
      );
    }
    for (const victim of victims) this.evict(victim.key);
  }

  /** Removes a package from the cache: its meta first, so a crash in between leaves a folder start() drops. */
  private evict(key: string): void {
    fs.rmSync(path.join(this.metaDir, `${key}.json`), { force: true });
    this.installed.delete(key);
    this.lastUsed.delete(key);
    // renamed away first: a sandbox's path never shows a half-removed package
    const doomed = path.join(this.tmpDir, `evicted-${key}-${process.pid}-${Date.now()}`);
    fs.renameSync(path.join(this.storeDir, key), doomed);
    fs.rmSync(doomed, { recursive: true, force: true });
    console.error(`sockpitd: package ${key} evicted from the cache (least recently used, no deployed function uses it)`);
  }

  private toResolved(key: string, meta: PackageMeta): ResolvedPackage {
    return {
      name: meta.name,
      version: meta.version,
      key,
      dir: path.join(this.storeDir, key),
      sandboxPath: `${SANDBOX_PACKAGES}/${key}`,
      topLevel: meta.topLevel,
      requires: meta.requires,
      sizeBytes: meta.sizeBytes,
    };
  }
}

/** Reads what pip put in `target`: the distribution's METADATA, its top-level modules and its size. */
function readInstalled(target: string, name: string, version: string): PackageMeta {
  const entries = fs.readdirSync(target);
  const distInfo = entries.find((e) => e.endsWith('.dist-info') && normaliseName(e.slice(0, -10).split('-')[0]) === name);
  if (!distInfo) {
    throw new SockpitError('bad_request', `cannot install ${name}==${version}: pip left no ${name} .dist-info folder (found: ${entries.join(', ') || 'nothing'})`, {
      op: 'packages.install',
    });
  }
  const infoDir = path.join(target, distInfo);
  const md = parseMetadata(fs.readFileSync(path.join(infoDir, 'METADATA'), 'utf8'), `${distInfo}/METADATA`);
  if (normaliseName(md.name) !== name) {
    throw new SockpitError('bad_request', `cannot install ${name}==${version}: the wheel's METADATA names ${md.name}`, { op: 'packages.install' });
  }
  const requires = md.requiresDist.map((line) => parseRequirement(line));
  const exists = (top: string) =>
    isDir(path.join(target, top)) || fs.existsSync(path.join(target, `${top}.py`)) || entries.some((e) => e.startsWith(`${top}.`) && /\.(so|pyd)$/.test(e));
  let topLevel: string[] = [];
  const tl = path.join(infoDir, 'top_level.txt');
  if (fs.existsSync(tl)) topLevel = parseTopLevelTxt(fs.readFileSync(tl, 'utf8')).filter(exists);
  if (topLevel.length === 0) {
    const record = path.join(infoDir, 'RECORD');
    const paths = fs.existsSync(record) ? parseRecord(fs.readFileSync(record, 'utf8')).map((e) => e.path) : listFiles(target);
    topLevel = topLevelFromPaths(paths).filter(exists);
  }
  return {
    name,
    version,
    distName: md.name,
    distVersion: md.version,
    requires,
    topLevel,
    sizeBytes: treeSize(target),
    installedAt: new Date().toISOString(),
  };
}

function readMeta(file: string): PackageMeta | null {
  try {
    const m = JSON.parse(fs.readFileSync(file, 'utf8')) as PackageMeta;
    if (typeof m.name !== 'string' || typeof m.version !== 'string' || !Array.isArray(m.requires) || !Array.isArray(m.topLevel)) return null;
    return m;
  } catch {
    return null;
  }
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Every file below `dir`, relative, '/'-separated (symlinks are not followed). */
function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out;
}

/** Bytes of the regular files below `dir` (symlinks counted as themselves). */
export function treeSize(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) total += treeSize(p);
    else total += fs.lstatSync(p).size;
  }
  return total;
}

function mb(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(1);
}

function tooLarge(key: string, what: string, limits: PackageLimits): SockpitError {
  return new SockpitError(
    'no_space',
    `cannot install ${key}: ${what}; one package may hold at most ${mb(limits.maxPackageBytes)} MB and ${limits.maxPackageFiles} files (packages.maxPackageMb, packages.maxPackageFiles)`,
    { op: 'packages.install', detail: { package: key } },
  );
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
