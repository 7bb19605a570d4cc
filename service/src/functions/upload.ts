// Unpacks an uploaded function folder (a tar stream) into a fresh directory the daemon made. The daemon never
// opens a path a client names: every file of the snapshot is created here, O_EXCL|O_NOFOLLOW, below a directory
// nobody else writes to, from the bytes of the request. Limits apply while the stream arrives, before anything
// is buffered whole; regular files and directories only (upload-limits.ts says what is refused and why).

import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { badRequest, errnoOf, SockpitError } from '../errors';
import { acceptedType, entryComponents, tooManyBytes, tooManyFiles, UploadLimits } from './upload-limits';

export interface Unpacked {
  /** files and directories created */
  entries: number;
  /** bytes of the stream */
  bytes: number;
}

const CREATE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

/** Unpacks `body` into `root` (an empty directory the daemon created); rejects with a SockpitError on bad input. */
export function unpackUpload(body: Readable, root: string, limits: UploadLimits): Promise<Unpacked> {
  const created = new Map<string, 'file' | 'directory'>();
  let bytes = 0;

  const makeDir = (rel: string) => {
    const kind = created.get(rel);
    if (kind === 'directory') return;
    if (kind === 'file') throw badRequest(`upload entry ${JSON.stringify(rel)} is both a file and a directory`);
    if (created.size >= limits.maxFiles) throw tooManyFiles(limits);
    const abs = path.join(root, rel);
    fs.mkdirSync(abs, { mode: 0o755 });
    fs.chmodSync(abs, 0o755); // whatever the umask: sandboxes read the snapshot as an unprivileged uid
    created.set(rel, 'directory');
  };

  const writeFile = async (rel: string, mode: number, content: AsyncIterable<Buffer>) => {
    if (created.has(rel)) throw badRequest(`upload entry ${JSON.stringify(rel)} appears twice`);
    if (created.size >= limits.maxFiles) throw tooManyFiles(limits);
    created.set(rel, 'file');
    const perm = mode & 0o111 ? 0o755 : 0o644;
    const fh = await fs.promises.open(path.join(root, rel), CREATE, perm);
    try {
      for await (const chunk of content) await fh.write(chunk);
      await fh.chmod(perm);
    } finally {
      await fh.close();
    }
  };

  const unpackEntry = async (header: tar.Headers, stream: Readable) => {
    const type = acceptedType(header.name, header.type);
    const parts = entryComponents(header.name, limits);
    if (parts.length === 0) {
      if (type === 'directory') return stream.resume();
      throw badRequest('an upload entry that is a file has an empty name');
    }
    for (let i = 1; i < parts.length; i++) makeDir(parts.slice(0, i).join('/'));
    const rel = parts.join('/');
    if (type === 'directory') {
      makeDir(rel);
      return stream.resume();
    }
    await writeFile(rel, header.mode ?? 0o644, stream);
  };

  return new Promise<Unpacked>((resolve, reject) => {
    const extract = tar.extract();
    let settled = false;
    /** the entry being written: a failure is reported only after it stopped touching the directory */
    let inFlight: Promise<unknown> = Promise.resolve();
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      // the rest of the body is read and dropped, never parsed (the server's request timeout bounds how long)
      body.removeListener('data', onData);
      body.resume();
      extract.destroy();
      const error = err instanceof SockpitError ? err : badRequest(`the upload is not a valid tar stream: ${(err as Error).message}`);
      const report = () => reject(error);
      inFlight.then(report, report);
    };
    const onData = (chunk: Buffer) => {
      if (settled) return;
      bytes += chunk.length;
      if (bytes > limits.maxBytes) return fail(tooManyBytes(limits));
      if (!extract.write(chunk)) body.pause();
    };
    extract.on('drain', () => body.resume());
    extract.on('entry', (header, stream, next) => {
      // a stream cut short errors the entry too: that error reaches us through the extractor's own
      stream.on('error', () => undefined);
      inFlight = unpackEntry(header, stream as unknown as Readable);
      inFlight.then(
        () => next(),
        (err) => {
          stream.resume();
          // a system call's failure is ours; anything else is the stream's (cut short, malformed): the caller's
          const ours = !(err instanceof SockpitError) && errnoOf(err) !== undefined;
          fail(ours ? new SockpitError('internal', `Can't unpack the upload: ${(err as Error).message}`, { op: 'deploy.unpack', cause: err }) : err);
        },
      );
    });
    extract.on('error', fail);
    extract.on('finish', () => {
      if (settled) return;
      settled = true;
      resolve({ entries: created.size, bytes });
    });
    body.on('data', onData);
    body.on('error', fail);
    body.on('end', () => {
      if (settled) return;
      if (bytes === 0) return fail(badRequest('the upload is empty: send the function folder as a tar stream'));
      extract.end();
    });
  });
}
