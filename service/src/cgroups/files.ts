// The only file I/O on cgroupfs. Every failure becomes one SockpitError "Can't <verb> <file> of <dir>: <ERRNO>",
// made at the failure site with the errno kept, so callers can tolerate a specific errno on purpose.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { SockpitError, errnoOf } from '../errors';

function fail(verb: string, what: string, dir: string, err: unknown, hint?: string): SockpitError {
  const errno = errnoOf(err) ?? 'EIO';
  return new SockpitError('internal', `Can't ${verb} ${what} of ${dir}: ${errno}${hint ? ` (${hint})` : ''}`, {
    op: `cgroup.${verb}`,
    path: path.join(dir, what),
    errno,
    cause: err,
  });
}

export function cgRead(dir: string, file: string): string {
  try {
    return fs.readFileSync(path.join(dir, file), 'utf8');
  } catch (err) {
    throw fail('read', file, dir, err);
  }
}

export function cgWrite(dir: string, file: string, value: string, hint?: string): void {
  try {
    fs.writeFileSync(path.join(dir, file), value);
  } catch (err) {
    throw fail('write', file, dir, err, hint);
  }
}

export function cgExists(dir: string, file?: string): boolean {
  return fs.existsSync(file === undefined ? dir : path.join(dir, file));
}

/** mkdir; false when it already existed (tolerated on purpose: set-up and creation are idempotent). */
export function cgMkdir(dir: string): boolean {
  try {
    fs.mkdirSync(dir);
    return true;
  } catch (err) {
    if (errnoOf(err) === 'EEXIST') return false;
    throw fail('create', 'cgroup', dir, err, errnoOf(err) === 'ENOENT' ? 'parent missing: was setup() called?' : undefined);
  }
}

/** rmdir; false when it was already gone. EBUSY (members or children left) is an error. */
export function cgRmdir(dir: string): boolean {
  try {
    fs.rmdirSync(dir);
    return true;
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return false;
    throw fail('remove', 'cgroup', dir, err, errnoOf(err) === 'EBUSY' ? 'it still has members or children' : undefined);
  }
}

/** The pids listed in cgroup.procs; a directory that vanished has none. */
export function cgProcs(dir: string): number[] {
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return [];
    throw fail('read', 'cgroup.procs', dir, err);
  }
  const pids: number[] = [];
  for (const line of text.split('\n')) if (line !== '') pids.push(Number(line));
  return pids;
}

/** Sub-cgroups (directories) below dir, depth-first, deepest first, as paths relative to dir. */
export function cgWalk(dir: string): string[] {
  const out: string[] = [];
  const visit = (rel: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true });
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') return;
      throw fail('list', 'cgroup', path.join(dir, rel), err);
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const child = rel === '' ? e.name : `${rel}/${e.name}`;
      visit(child);
      out.push(child);
    }
  };
  visit('');
  return out;
}

/** "key value" lines (memory.events, memory.oom_control, cgroup.events) → the value of key, or undefined. */
export function keyedValue(text: string, key: string): number | undefined {
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k === key && v !== undefined) return Number(v);
  }
  return undefined;
}
