// What an uploaded function folder may hold: the limits and the check of one entry's path. Pure: the
// extractor (upload.ts) applies them while the stream arrives.

import { badRequest, SockpitError } from '../errors';

export interface UploadLimits {
  /** bytes of the tar stream as it arrives (headers and padding included) */
  maxBytes: number;
  /** files and directories in it */
  maxFiles: number;
  /** path components of its deepest entry (f.py is depth 1) */
  maxDepth: number;
}

/** a path's bytes, and one component's (Linux's NAME_MAX) */
export const MAX_PATH_BYTES = 1024;
export const MAX_NAME_BYTES = 255;

/** tar entry types that become something in the snapshot; every other type is refused */
export type AcceptedType = 'file' | 'directory';

const TYPE_NAMES: Record<string, string> = {
  symlink: 'a symbolic link',
  link: 'a hard link',
  'character-device': 'a character device',
  'block-device': 'a block device',
  fifo: 'a FIFO',
  'contiguous-file': 'a contiguous file',
};

/** The entry's path as components below the snapshot's root ([] for the root itself), or a 400 that says why not. */
export function entryComponents(name: string, limits: Pick<UploadLimits, 'maxDepth'>): string[] {
  const shown = quote(name);
  if (name.includes('\0')) throw badRequest(`upload entry ${shown}: the path holds a NUL byte`);
  if (Buffer.byteLength(name) > MAX_PATH_BYTES) throw badRequest(`upload entry ${shown}: the path is longer than ${MAX_PATH_BYTES} bytes`);
  if (name.startsWith('/')) throw badRequest(`upload entry ${shown}: absolute paths are refused (paths are relative to the function's folder)`);
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw badRequest(`upload entry ${shown}: ".." is refused in paths`);
  for (const part of parts) {
    if (Buffer.byteLength(part) > MAX_NAME_BYTES) throw badRequest(`upload entry ${shown}: a name is longer than ${MAX_NAME_BYTES} bytes`);
  }
  if (parts.length > limits.maxDepth) {
    throw new SockpitError('too_large', `upload entry ${shown} is ${parts.length} levels deep: the limit is ${limits.maxDepth} (deploy.maxDepth)`);
  }
  return parts;
}

/** 'file' or 'directory', or a 400 naming what the entry is. */
export function acceptedType(name: string, type: string | null | undefined): AcceptedType {
  if (type === 'file' || type === 'directory') return type;
  const what = TYPE_NAMES[type ?? ''] ?? `an entry of type "${type ?? 'unknown'}"`;
  throw badRequest(`upload entry ${quote(name)} is ${what}: a function folder holds regular files and directories only`);
}

export function tooManyFiles(limits: UploadLimits): SockpitError {
  return new SockpitError('too_large', `the upload holds more than ${limits.maxFiles} files and directories (deploy.maxFiles)`);
}

export function tooManyBytes(limits: UploadLimits): SockpitError {
  return new SockpitError('too_large', `the upload is larger than ${limits.maxBytes} bytes (deploy.maxBytes)`);
}

/** A caller-given path as it may appear in a message: quoted, bounded, no control characters. */
function quote(name: string): string {
  const cut = name.length > 120 ? `${name.slice(0, 120)}…` : name;
  return JSON.stringify(cut);
}
