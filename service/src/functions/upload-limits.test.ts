import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptedType, entryComponents } from './upload-limits';

const limits = { maxDepth: 3 };

test('entry paths become components below the folder', () => {
  assert.deepEqual(entryComponents('f.py', limits), ['f.py']);
  assert.deepEqual(entryComponents('./lib//x.py', limits), ['lib', 'x.py']);
  assert.deepEqual(entryComponents('lib/', limits), ['lib']);
  assert.deepEqual(entryComponents('./', limits), []);
  assert.deepEqual(entryComponents('a/b/c', limits), ['a', 'b', 'c']);
});

test('paths that leave the folder, or are too long or too deep, are refused', () => {
  assert.throws(() => entryComponents('/etc/passwd', limits), /absolute paths are refused/);
  assert.throws(() => entryComponents('../x', limits), /"\.\." is refused/);
  assert.throws(() => entryComponents('a/../../x', limits), /"\.\." is refused/);
  assert.throws(() => entryComponents('a/..', limits), /"\.\." is refused/);
  assert.throws(() => entryComponents('a\0b', limits), /NUL/);
  assert.throws(() => entryComponents('x'.repeat(256), limits), /longer than 255 bytes/);
  assert.throws(() => entryComponents('a/'.repeat(600), limits), /longer than 1024 bytes/);
  assert.throws(() => entryComponents('a/b/c/d', limits), (err: Error & { code: string }) => err.code === 'too_large' && /4 levels deep: the limit is 3/.test(err.message));
});

test('only regular files and directories are accepted', () => {
  assert.equal(acceptedType('f.py', 'file'), 'file');
  assert.equal(acceptedType('lib', 'directory'), 'directory');
  assert.throws(() => acceptedType('requirements.txt', 'symlink'), /"requirements.txt" is a symbolic link: a function folder holds regular files and directories only/);
  assert.throws(() => acceptedType('x', 'link'), /hard link/);
  assert.throws(() => acceptedType('x', 'character-device'), /character device/);
  assert.throws(() => acceptedType('x', 'block-device'), /block device/);
  assert.throws(() => acceptedType('x', 'fifo'), /FIFO/);
  assert.throws(() => acceptedType('x', null), /type "unknown"/);
});
