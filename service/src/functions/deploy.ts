// Deploy: unpack an uploaded function folder into a fresh snapshot, validate it, resolve its packages and record
// it as <state>/functions/<name>/v<version>. The snapshot is made only of what the request carried (upload.ts):
// the daemon never opens a path a client names, so nothing of the host is read on a caller's behalf.

import fs from 'node:fs';
import { execFile } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { badRequest, SockpitError } from '../errors';
import { FunctionLimits } from '../config';
import { effectiveLimits, parseOlYaml, parseRequirements, Requirement, validateName } from './spec';
import { FunctionRecord, FunctionStore, PackageRef } from './store';
import { unpackUpload } from './upload';
import { UploadLimits } from './upload-limits';
import { Caller, checkMayManage, ownerOf } from './ownership';

export interface DeployOptions {
  functionsDir: string;
  limits: UploadLimits;
  defaultLimits: FunctionLimits;
  /** the operator's ceiling on a function's own limits (limits.max) */
  maxLimits: FunctionLimits;
  /** compiles the code to bytecode once here: /handler is read-only, so a sandbox could never cache it */
  python: string;
  /** the unprivileged uid/gid the compiler runs as (the sandboxes' own) */
  compileUid: number;
  compileGid: number;
  /** resolves requirements to their installed closure (the package cache) */
  resolvePackages: (requirements: Requirement[]) => Promise<PackageRef[]>;
}

export interface Upload {
  /** the tar stream of the folder */
  body: Readable;
  /** where the client says the folder came from: shown, never opened */
  source: string;
}

/** requirements.txt and ol.yaml are read whole: bounded first */
const MAX_SPEC_FILE_BYTES = 256 * 1024;

/** where uploads are unpacked before they become a version (removed at start-up) */
export const INCOMING = '.incoming';

export async function deployFunction(store: FunctionStore, name: string, upload: Upload, caller: Caller | null, opts: DeployOptions): Promise<FunctionRecord> {
  validateName(name);
  const owner = ownerOf(caller);
  const existing = store.get(name);
  // before a byte is unpacked: another uid's function is refused at once
  if (existing) checkMayManage(caller, existing, 'redeploy');

  const incoming = path.join(opts.functionsDir, INCOMING);
  fs.mkdirSync(incoming, { recursive: true, mode: 0o700 });
  const staging = fs.mkdtempSync(path.join(incoming, `${name}-`));
  try {
    await unpackUpload(upload.body, staging, opts.limits);
    const fpy = fs.lstatSync(path.join(staging, 'f.py'), { throwIfNoEntry: false });
    if (!fpy?.isFile()) throw badRequest('the upload has no f.py (a function is a folder with f.py defining f(event))');
    const requirements = parseRequirements(readSpecFile(staging, 'requirements.txt'));
    const ol = parseOlYaml(readSpecFile(staging, 'ol.yaml'));
    effectiveLimits(opts.defaultLimits, ol.limits, opts.maxLimits);
    // installs what is missing: a package that can't be had fails the deploy, with pip's reason
    const packages = requirements.length > 0 ? await opts.resolvePackages(requirements) : [];
    await precompile(staging, opts);

    // again after the wait: another uid may have deployed this name meanwhile (nothing awaits from here to put)
    const current = store.get(name);
    if (current) checkMayManage(caller, current, 'redeploy');
    const version = store.nextVersion(name);
    const codeDir = path.join(opts.functionsDir, name, `v${version}`);
    fs.mkdirSync(path.dirname(codeDir), { recursive: true, mode: 0o755 });
    fs.rmSync(codeDir, { recursive: true, force: true });
    fs.renameSync(staging, codeDir);
    fs.chmodSync(codeDir, 0o755);
    const record: FunctionRecord = {
      name,
      version,
      owner,
      source: upload.source,
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
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

/** An optional spec file of the snapshot: a regular file (never a directory) of bounded size, or ''. */
function readSpecFile(dir: string, name: string): string {
  const p = path.join(dir, name);
  const stat = fs.lstatSync(p, { throwIfNoEntry: false });
  if (!stat) return '';
  if (!stat.isFile()) throw badRequest(`${name} must be a regular file`);
  if (stat.size > MAX_SPEC_FILE_BYTES) throw new SockpitError('too_large', `${name} is larger than ${MAX_SPEC_FILE_BYTES} bytes`);
  return fs.readFileSync(p, 'utf8');
}

/**
 * Byte-compiles the snapshot (compileall only parses, it runs nothing), so each cold start loads f.py's
 * bytecode instead of compiling it. The snapshot holds regular files and directories only (no links to
 * follow), and the compiler parses client code: it runs as the sandboxes' uid, started in the snapshot (the
 * working directory is entered before the uid changes: the 0700 state directory stays closed to it), which owns
 * the snapshot only for that time. A file that does not compile is left alone: its error surfaces, with a
 * traceback, when a call loads it.
 */
async function precompile(codeDir: string, opts: Pick<DeployOptions, 'python' | 'compileUid' | 'compileGid'>): Promise<void> {
  chownTree(codeDir, opts.compileUid, opts.compileGid);
  try {
    // off the event loop: a large upload takes a while to compile, and the daemon keeps serving meanwhile
    await new Promise<void>((resolve) => {
      execFile(opts.python, ['-I', '-m', 'compileall', '-q', '.'], { cwd: codeDir, uid: opts.compileUid, gid: opts.compileGid, timeout: 30_000, maxBuffer: 1 << 20 }, () => resolve());
    });
  } finally {
    chownTree(codeDir, 0, 0);
  }
  makeReadable(codeDir);
}

/** lchown of every entry: the snapshot holds no links, and lchown would not follow one anyway */
function chownTree(d: string, uid: number, gid: number): void {
  fs.lchownSync(d, uid, gid);
  for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, entry.name);
    if (entry.isDirectory()) chownTree(p, uid, gid);
    else fs.lchownSync(p, uid, gid);
  }
}

/** The sandbox runs as an unprivileged uid: what compileall wrote must be world-readable too. */
function makeReadable(d: string): void {
  for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, entry.name);
    if (entry.isDirectory()) {
      fs.chmodSync(p, 0o755);
      makeReadable(p);
    } else if (entry.isFile()) fs.chmodSync(p, fs.lstatSync(p).mode & 0o111 ? 0o755 : 0o644);
  }
}
