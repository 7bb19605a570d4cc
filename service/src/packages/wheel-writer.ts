// Writes wheels (PEP 427): a zip of the files plus `<name>-<version>.dist-info/{METADATA,WHEEL,RECORD,...}`.
// Used by the test fixtures (generated pure-Python packages) and the benchmark wheelhouse (Debian's libraries
// repacked). The zip writer is minimal and deterministic: deflate, fixed timestamps, no zip64 (refuses >65534
// entries or >4 GiB), unix permissions kept so executables stay executable.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { recordLine, wheelEscape } from './metadata';

export interface WheelFile {
  /** '/'-separated path inside the wheel (relative to the install folder) */
  path: string;
  data: Buffer;
  /** unix permission bits, default 0o644 */
  mode?: number;
}

export interface WheelSpec {
  name: string;
  version: string;
  /** e.g. 'py3-none-any' or 'cp311-cp311-linux_x86_64' */
  tag: string;
  /** the full METADATA text */
  metadata: string;
  files: WheelFile[];
  /** more files for the .dist-info folder, e.g. { 'top_level.txt': 'pkg\n' } */
  distInfo?: Record<string, string | Buffer>;
}

export function wheelFilename(name: string, version: string, tag: string): string {
  return `${wheelEscape(name)}-${version.replace(/-/g, '_')}-${tag}.whl`;
}

export function distInfoDir(name: string, version: string): string {
  return `${wheelEscape(name)}-${version.replace(/-/g, '_')}.dist-info`;
}

/** Writes the wheel into `dir` and returns its path. */
export function writeWheel(dir: string, spec: WheelSpec): string {
  const info = distInfoDir(spec.name, spec.version);
  const purelib = spec.tag.endsWith('-none-any');
  const files: WheelFile[] = [...spec.files];
  const add = (name: string, data: string | Buffer) => files.push({ path: `${info}/${name}`, data: Buffer.isBuffer(data) ? data : Buffer.from(data) });
  add('METADATA', spec.metadata.endsWith('\n') ? spec.metadata : spec.metadata + '\n');
  add('WHEEL', `Wheel-Version: 1.0\nGenerator: sockpit\nRoot-Is-Purelib: ${purelib}\nTag: ${spec.tag}\n`);
  for (const [name, data] of Object.entries(spec.distInfo ?? {})) add(name, data);
  const seen = new Set<string>();
  for (const f of files) {
    if (f.path.startsWith('/') || f.path.split('/').includes('..') || f.path === '') throw new Error(`bad path in wheel: ${f.path}`);
    if (seen.has(f.path)) throw new Error(`duplicate path in wheel: ${f.path}`);
    seen.add(f.path);
  }
  const record = files.map((f) => recordLine(f.path, sha256(f.data), f.data.length));
  record.push(recordLine(`${info}/RECORD`, null, null));
  files.push({ path: `${info}/RECORD`, data: Buffer.from(record.join('\n') + '\n') });

  const out = path.join(dir, wheelFilename(spec.name, spec.version, spec.tag));
  writeZip(out, files);
  return out;
}

function sha256(data: Buffer): string {
  return crypto.createHash('sha256').update(data).digest('base64url');
}

/** A plain zip (deflated entries), written to `file` through a temporary name. */
export function writeZip(file: string, files: readonly WheelFile[]): void {
  if (files.length > 0xfffe) throw new Error(`zip: too many entries (${files.length}) without zip64`);
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    let offset = 0;
    const central: Buffer[] = [];
    const write = (b: Buffer) => {
      fs.writeSync(fd, b);
      offset += b.length;
    };
    for (const f of files) {
      const name = Buffer.from(f.path, 'utf8');
      const deflated = zlib.deflateRawSync(f.data, { level: 6 });
      const stored = deflated.length >= f.data.length;
      const body = stored ? f.data : deflated;
      const crc = zlib.crc32(f.data) >>> 0;
      const method = stored ? 0 : 8;
      if (offset + 30 + name.length + body.length > 0xffffffff) throw new Error('zip: archive over 4 GiB without zip64');
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4); // version needed
      local.writeUInt16LE(0x0800, 6); // UTF-8 names
      local.writeUInt16LE(method, 8);
      local.writeUInt16LE(0, 10); // 00:00:00
      local.writeUInt16LE(0x21, 12); // 1980-01-01
      local.writeUInt32LE(crc, 14);
      local.writeUInt32LE(body.length, 18);
      local.writeUInt32LE(f.data.length, 22);
      local.writeUInt16LE(name.length, 26);
      local.writeUInt16LE(0, 28);
      const cd = Buffer.alloc(46);
      cd.writeUInt32LE(0x02014b50, 0);
      cd.writeUInt16LE((3 << 8) | 20, 4); // made by unix, spec 2.0
      cd.writeUInt16LE(20, 6);
      cd.writeUInt16LE(0x0800, 8);
      cd.writeUInt16LE(method, 10);
      cd.writeUInt16LE(0, 12);
      cd.writeUInt16LE(0x21, 14);
      cd.writeUInt32LE(crc, 16);
      cd.writeUInt32LE(body.length, 20);
      cd.writeUInt32LE(f.data.length, 24);
      cd.writeUInt16LE(name.length, 28);
      cd.writeUInt16LE(0, 30); // extra
      cd.writeUInt16LE(0, 32); // comment
      cd.writeUInt16LE(0, 34); // disk
      cd.writeUInt16LE(0, 36); // internal attributes
      cd.writeUInt32LE((((0o100000 | (f.mode ?? 0o644)) << 16) >>> 0) >>> 0, 38);
      cd.writeUInt32LE(offset, 42);
      central.push(cd, name);
      write(local);
      write(name);
      write(body);
    }
    const cdStart = offset;
    for (const b of central) write(b);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(files.length, 8);
    end.writeUInt16LE(files.length, 10);
    end.writeUInt32LE(offset - cdStart, 12);
    end.writeUInt32LE(cdStart, 16);
    write(end);
    fs.closeSync(fd);
    fs.renameSync(tmp, file);
  } catch (err) {
    try {
      fs.closeSync(fd);
    } catch {
      /* already closed */
    }
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
