import { describe, expect, it } from 'vitest';
import { zipSync, strToU8 } from 'fflate';
import tar from 'tar-stream';
import { filesFromFolder, filesFromZip, stripCommonFolder, tarOfFiles } from './upload';

async function untar(bytes: Uint8Array): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        out[`${header.type}:${header.name}`] = Buffer.concat(chunks).toString('utf8');
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  extract.end(Buffer.from(bytes));
  await done;
  return out;
}

describe('uploads from the browser', () => {
  it('a picked folder loses its own name: f.py is at the top of the tar', async () => {
    const picked = [
      { webkitRelativePath: 'hello/f.py', arrayBuffer: async () => strToU8('def f(e):\n    return 1\n').buffer as ArrayBuffer },
      { webkitRelativePath: 'hello/lib/x.py', arrayBuffer: async () => strToU8('X = 1\n').buffer as ArrayBuffer },
    ];
    const { folder, files } = await filesFromFolder(picked);
    expect(folder).toBe('hello');
    expect(await untar(tarOfFiles(files))).toEqual({ 'file:f.py': 'def f(e):\n    return 1\n', 'file:lib/x.py': 'X = 1\n' });
  });

  it('the tar reads back with a real parser: long paths in the ustar prefix, empty and block-sized files', async () => {
    const deep = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'n'.repeat(95)}.py`;
    const files = [
      { path: 'f.py', data: new Uint8Array() },
      { path: deep, data: new Uint8Array(512).fill(0x61) },
      { path: 'odd.bin', data: new Uint8Array(513).fill(0x62) },
    ];
    const back = await untar(tarOfFiles(files));
    expect(Object.keys(back)).toEqual(['file:f.py', `file:${deep}`, 'file:odd.bin']);
    expect(back[`file:${deep}`]).toBe('a'.repeat(512));
    expect(back['file:odd.bin']).toBe('b'.repeat(513));
    expect(() => tarOfFiles([{ path: 'x'.repeat(300), data: new Uint8Array() }])).toThrow(/too long/);
  });

  it('a zip of one folder gives that folder; one with f.py at the top is taken as it is', () => {
    const wrapped = zipSync({ 'fn/': new Uint8Array(), 'fn/f.py': strToU8('a'), 'fn/requirements.txt': strToU8('b'), '__MACOSX/fn/._f.py': strToU8('x') });
    expect(filesFromZip(wrapped)).toEqual({ folder: 'fn', files: [{ path: 'f.py', data: strToU8('a') }, { path: 'requirements.txt', data: strToU8('b') }] });
    const flat = zipSync({ 'f.py': strToU8('a'), 'sub/g.py': strToU8('g') });
    expect(filesFromZip(flat).files.map((f) => f.path)).toEqual(['f.py', 'sub/g.py']);
  });

  it('files of two folders are left as they are (the daemon says f.py is missing)', () => {
    const files = [{ path: 'a/f.py', data: new Uint8Array() }, { path: 'b/f.py', data: new Uint8Array() }];
    expect(stripCommonFolder(files)).toEqual({ folder: '', files });
  });

  it('a file that is not a zip says so', () => {
    expect(() => filesFromZip(strToU8('not a zip at all'))).toThrow(/not a zip file/);
  });
});
