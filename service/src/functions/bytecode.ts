// f.py's bytecode, as deploy compiled it into the snapshot (`__pycache__/f.<tag>.pyc`), read once by the daemon
// and sent to a spare with its function (zygotes/spare.ts): the spare then loads f.py without a file read or
// importlib's path work (instance.py, import_file), the largest part of what a Zygote hit did inside the sandbox.

import fs from 'node:fs';
import path from 'node:path';

/** a .pyc larger than this is left on disk: the spare reads it itself */
export const MAX_BYTECODE_BYTES = 1 << 20;
/** all .pyc kept in memory together, and how many snapshots; the least recently used go first */
const CACHE_BUDGET_BYTES = 16 << 20;
const CACHE_MAX_ENTRIES = 1024;

export interface PycHeader {
  /** the Python version's magic number, 4 bytes */
  magic: Buffer;
  /** 0: checked against the source's mtime and size (the only kind compileall writes by default) */
  flags: number;
  sourceMtime: number;
  sourceSize: number;
}

/** The 16-byte header of a .pyc (PEP 552), or null when there is none. */
export function parsePycHeader(pyc: Buffer): PycHeader | null {
  if (pyc.length < 16) return null;
  return {
    magic: pyc.subarray(0, 4),
    flags: pyc.readUInt32LE(4),
    sourceMtime: pyc.readUInt32LE(8),
    sourceSize: pyc.readUInt32LE(12),
  };
}

/**
 * The .pyc of `<codeDir>/f.py` when it is there and was compiled from the f.py beside it; null otherwise (no
 * .pyc because f.py does not compile, more than one Python's .pyc, a stale or unusual one, a huge one): the
 * spare then imports f.py from its file, the way every other instance does.
 */
export function readBytecode(codeDir: string, filename = 'f.py'): Buffer | null {
  const stem = filename.replace(/\.py$/, '');
  const cacheDir = path.join(codeDir, '__pycache__');
  let candidates: string[];
  try {
    candidates = fs.readdirSync(cacheDir).filter((n) => n.startsWith(`${stem}.`) && n.endsWith('.pyc') && n.split('.').length === 3);
  } catch {
    return null;
  }
  if (candidates.length !== 1) return null;
  try {
    const source = fs.statSync(path.join(codeDir, filename));
    const pyc = fs.readFileSync(path.join(cacheDir, candidates[0]));
    const header = parsePycHeader(pyc);
    if (!header || header.flags !== 0 || pyc.length > MAX_BYTECODE_BYTES) return null;
    // what importlib checks before it trusts a .pyc: the source's mtime (seconds, 32 bits) and size
    const fresh = header.sourceMtime === Math.floor(source.mtimeMs / 1000) % 2 ** 32 && header.sourceSize === source.size % 2 ** 32;
    return fresh ? pyc : null;
  } catch {
    return null;
  }
}

/**
 * readBytecode per code snapshot, read on first use. Snapshots never change (each deploy makes a new
 * `v<version>` folder, versions are never reused), so an entry stays right for as long as its folder exists.
 */
export class BytecodeCache {
  private readonly entries = new Map<string, Buffer | null>();
  private bytes = 0;

  constructor(
    private readonly budgetBytes = CACHE_BUDGET_BYTES,
    private readonly maxEntries = CACHE_MAX_ENTRIES,
  ) {}

  of(codeDir: string): Buffer | null {
    if (this.entries.has(codeDir)) {
      const hit = this.entries.get(codeDir)!;
      this.entries.delete(codeDir); // most recently used last
      this.entries.set(codeDir, hit);
      return hit;
    }
    const pyc = readBytecode(codeDir);
    this.entries.set(codeDir, pyc);
    this.bytes += pyc?.length ?? 0;
    for (const [dir, old] of this.entries) {
      if ((this.bytes <= this.budgetBytes && this.entries.size <= this.maxEntries) || dir === codeDir) break;
      this.entries.delete(dir);
      this.bytes -= old?.length ?? 0;
    }
    return pyc;
  }

  get size(): number {
    return this.entries.size;
  }
}
