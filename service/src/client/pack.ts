// Packs a function folder into a tar stream, as the calling user (the CLI and the Electron main process run as
// whoever deploys): the daemon never reads the folder itself. Links are packed as links, never followed, and so
// are FIFOs and devices (as headers, never opened): the daemon refuses them and says which entry it was.

import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';

/** A tar stream of `dir`'s contents, paths relative to it (f.py at the top). */
export function packFolder(dir: string): Readable {
  const pack = tar.pack();
  (async () => {
    // the folder itself may be a link (the caller's own, followed as the caller); what is inside never is
    const root = fs.statSync(dir);
    if (!root.isDirectory()) throw new Error(`${dir} is not a directory`);
    await packTree(pack, dir, '');
    pack.finalize();
  })().catch((err: Error) => pack.destroy(err));
  return Readable.from(pack as unknown as AsyncIterable<Buffer>);
}

async function packTree(pack: tar.Pack, root: string, rel: string): Promise<void> {
  const names = fs.readdirSync(path.join(root, rel)).sort();
  for (const name of names) {
    const entryRel = rel === '' ? name : `${rel}/${name}`;
    const abs = path.join(root, entryRel);
    const stat = fs.lstatSync(abs);
    const header = { name: entryRel, mode: stat.mode & 0o7777, mtime: stat.mtime };
    if (stat.isDirectory()) {
      await entry(pack, { ...header, type: 'directory' });
      await packTree(pack, root, entryRel);
    } else if (stat.isFile()) {
      await entry(pack, { ...header, type: 'file' }, readRegularFile(abs));
    } else if (stat.isSymbolicLink()) {
      await entry(pack, { ...header, type: 'symlink', linkname: fs.readlinkSync(abs) });
    } else if (stat.isFIFO()) {
      await entry(pack, { ...header, type: 'fifo' });
    } else if (stat.isCharacterDevice() || stat.isBlockDevice()) {
      const type = stat.isCharacterDevice() ? 'character-device' : 'block-device';
      await entry(pack, { ...header, type, devmajor: Math.floor(stat.rdev / 256), devminor: stat.rdev % 256 });
    } else {
      throw new Error(`${abs} is a socket: a function folder holds regular files and directories only`);
    }
  }
}

/** The file's bytes, opened without following a link swapped in since lstat, and checked to be a regular file. */
function readRegularFile(p: string): Buffer {
  const fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  try {
    if (!fs.fstatSync(fd).isFile()) throw new Error(`${p} is no longer a regular file`);
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function entry(pack: tar.Pack, header: tar.Headers, content?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error | null) => (err ? reject(err) : resolve());
    if (content === undefined) pack.entry(header, done);
    else pack.entry({ ...header, size: content.length }, content, done);
  });
}
