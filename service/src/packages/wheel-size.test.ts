import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { writeWheel } from './wheel-writer';
import { wheelTotals, WheelTooLarge } from './wheel-size';

function wheel(dir: string, files: Record<string, Buffer>): string {
  return writeWheel(dir, {
    name: 'bomb',
    version: '1.0',
    tag: 'py3-none-any',
    metadata: 'Metadata-Version: 2.1\nName: bomb\nVersion: 1.0\n',
    files: Object.entries(files).map(([p, data]) => ({ path: p, data })),
    distInfo: {},
  });
}

test("a wheel's unpacked size and file count come from its central directory", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockpit-wheel-size-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const zeros = wheel(dir, { 'bomb/zeros.bin': Buffer.alloc(8 * 2 ** 20), 'bomb/__init__.py': Buffer.from('') });
  assert.ok(fs.statSync(zeros).size < 64 * 1024, 'deflated zeros are small on disk');
  const totals = await wheelTotals(zeros, { maxBytes: 2 ** 30, maxFiles: 1000 });
  assert.ok(totals.uncompressedBytes >= 8 * 2 ** 20 && totals.uncompressedBytes < 9 * 2 ** 20, String(totals.uncompressedBytes));
  assert.ok(totals.files >= 3, 'the files and the .dist-info ones');
  await assert.rejects(wheelTotals(zeros, { maxBytes: 2 ** 20, maxFiles: 1000 }), (e) => e instanceof WheelTooLarge && /more than 1 MB/.test(e.message));
  await assert.rejects(wheelTotals(zeros, { maxBytes: 2 ** 30, maxFiles: 2 }), (e) => e instanceof WheelTooLarge && /files, more than the 2/.test(e.message));
  const notZip = path.join(dir, 'x.whl');
  fs.writeFileSync(notZip, 'not a zip');
  await assert.rejects(wheelTotals(notZip, { maxBytes: 2 ** 30, maxFiles: 10 }));
});
