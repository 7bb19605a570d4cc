// Deploy: read a function folder, validate it, snapshot it into <state>/functions/<name>/v<version>.

import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { badRequest, SockpitError } from '../errors';
import { FunctionLimits } from '../config';
import { effectiveLimits, parseOlYaml, parseRequirements, Requirement, validateName } from './spec';
import { FunctionRecord, FunctionStore, PackageRef } from './store';

export interface DeployOptions {
  functionsDir: string;
  maxBytes: number;
  defaultLimits: FunctionLimits;
  /** compiles the code to bytecode once here: /handler is read-only, so a sandbox could never cache it */
  python: string;
  /** resolves requirements to their installed closure (the package cache) */
  resolvePackages: (requirements: Requirement[]) => Promise<PackageRef[]>;
}

export async function deployFunction(store: FunctionStore, name: string, source: unknown, opts: DeployOptions): Promise<FunctionRecord> {
  validateName(name);
  if (typeof source !== 'string' || !path.isAbsolute(source)) {
    throw badRequest('deploy needs {"path": "/absolute/dir"} holding f.py');
  }
  const dir = path.resolve(source);
  const stat = statOrNull(dir);
  if (!stat?.isDirectory()) throw badRequest(`${dir} is not a directory`);
  const fpy = statOrNull(path.join(dir, 'f.py'));
  if (!fpy?.isFile()) throw badRequest(`${dir} has no f.py (a function is a folder with f.py defining f(event))`);

  const requirements = parseRequirements(readOptional(path.join(dir, 'requirements.txt')));
  const ol = parseOlYaml(readOptional(path.join(dir, 'ol.yaml')));
  effectiveLimits(opts.defaultLimits, ol.limits);
  checkSize(dir, opts.maxBytes);
  // installs what is missing: a package that can't be had fails the deploy, with pip's reason
  const packages = requirements.length > 0 ? await opts.resolvePackages(requirements) : [];

  const version = store.nextVersion(name);
  const codeDir = path.join(opts.functionsDir, name, `v${version}`);
  fs.rmSync(codeDir, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(codeDir), { recursive: true, mode: 0o755 });
  try {
    // symlinks are copied as links: inside the sandbox they resolve against its own root
    fs.cpSync(dir, codeDir, { recursive: true, dereference: false, verbatimSymlinks: true, preserveTimestamps: true });
    precompile(codeDir, opts.python);
    makeReadable(codeDir);
  } catch (err) {
    fs.rmSync(codeDir, { recursive: true, force: true });
    throw new SockpitError('internal', `Can't copy ${dir}: ${(err as Error).message}`, { op: 'deploy', path: dir, cause: err });
  }
  const record: FunctionRecord = {
    name,
    version,
    source: dir,
    codeDir,
    environment: ol.environment,
    limits: ol.limits,
    network: ol.network ?? 'egress',
    requirements,
    packages,
    deployedAt: new Date().toISOString(),
  };
  store.put(record);
  return record;
}

function statOrNull(p: string): fs.Stats | null {
  try {
    return fs.statSync(p);
  } catch {
    return null;
  }
}

function readOptional(p: string): string {
  try {
    return fs.readFileSync(p, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw badRequest(`Can't read ${p}: ${(err as Error).message}`);
  }
}

function checkSize(dir: string, maxBytes: number): void {
  let total = 0;
  let files = 0;
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) total += fs.statSync(p).size;
      if (++files > 100_000 || total > maxBytes) {
        throw new SockpitError('too_large', `${dir} is larger than the ${maxBytes}-byte limit for a function`);
      }
    }
  };
  walk(dir);
}

/**
 * Byte-compiles the snapshot (compileall only parses, it runs nothing), so each cold start loads f.py's
 * bytecode instead of compiling it. A file that does not compile is left alone: its error surfaces, with
 * a traceback, when a call loads it.
 */
function precompile(codeDir: string, python: string): void {
  spawnSync(python, ['-I', '-m', 'compileall', '-q', codeDir], { stdio: 'ignore', timeout: 30_000 });
}

/** The sandbox runs as an unprivileged uid: the snapshot must be world-readable (it is mounted read-only). */
function makeReadable(d: string): void {
  fs.chmodSync(d, 0o755);
  for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, entry.name);
    if (entry.isDirectory()) makeReadable(p);
    else if (entry.isFile()) fs.chmodSync(p, fs.statSync(p).mode & 0o111 ? 0o755 : 0o644);
  }
}
