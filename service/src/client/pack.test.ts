import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tar from 'tar-stream';
import { packFolder } from './pack';

async function entries(dir: string): Promise<Array<{ name: string; type: string; linkname?: string | null; body: string }>> {
  const out: Array<{ name: string; type: string; linkname?: string | null; body: string }> = [];
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (h, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        out.push({ name: h.name, type: h.type ?? '?', linkname: h.linkname, body: Buffer.concat(chunks).toString() });
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  packFolder(dir).pipe(extract as unknown as NodeJS.WritableStream);
  await done;
  return out;
}

test('a folder is packed with paths relative to it; links and FIFOs as what they are, never followed or opened', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockpit-pack-'));
  try {
    const fn = path.join(dir, 'fn');
    fs.mkdirSync(path.join(fn, 'lib'), { recursive: true });
    fs.writeFileSync(path.join(fn, 'f.py'), 'def f(e):\n    return 1\n');
    fs.writeFileSync(path.join(fn, 'lib', 'x.py'), 'X = 1\n');
    fs.symlinkSync('/etc/shadow', path.join(fn, 'requirements.txt'));
    execFileSync('mkfifo', [path.join(fn, 'pipe')]);
    fs.symlinkSync(fn, path.join(dir, 'via-link'));
    const packed = await entries(path.join(dir, 'via-link'));
    assert.deepEqual(packed, [
      { name: 'f.py', type: 'file', linkname: null, body: 'def f(e):\n    return 1\n' },
      { name: 'lib', type: 'directory', linkname: null, body: '' },
      { name: 'lib/x.py', type: 'file', linkname: null, body: 'X = 1\n' },
      { name: 'pipe', type: 'fifo', linkname: null, body: '' },
      { name: 'requirements.txt', type: 'symlink', linkname: '/etc/shadow', body: '' },
    ]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
