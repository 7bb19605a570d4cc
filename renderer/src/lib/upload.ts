// A function folder as the browser has it (files picked with a folder input, or a zip), packed into the tar
// stream sockpitd's deploy takes. The daemon checks everything again (paths, types, limits): this only shapes
// what the user picked into the folder layout the daemon expects, f.py at the top.

import { unzipSync } from 'fflate';
import { ustar } from './ustar';

export interface UploadFile {
  /** relative to the function's folder, '/'-separated */
  path: string;
  data: Uint8Array;
}

/** What a folder input gives: each File with its path below the picked folder's parent. */
export interface PickedFile {
  webkitRelativePath: string;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** Files of a folder input, with the picked folder's own name taken off their paths; and that name. */
export async function filesFromFolder(picked: readonly PickedFile[]): Promise<{ folder: string; files: UploadFile[] }> {
  const files: UploadFile[] = [];
  for (const file of picked) files.push({ path: file.webkitRelativePath, data: new Uint8Array(await file.arrayBuffer()) });
  return stripCommonFolder(files);
}

/** The files of a zip; a zip made of one folder (as most are) gives that folder's contents. */
export function filesFromZip(zip: Uint8Array): { folder: string; files: UploadFile[] } {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(zip);
  } catch (err) {
    throw new Error(`not a zip file: ${(err as Error).message}`);
  }
  const files = Object.entries(entries)
    // directories are implied by their files; macOS adds resource forks under __MACOSX/
    .filter(([p]) => !p.endsWith('/') && !p.startsWith('__MACOSX/'))
    .map(([p, data]) => ({ path: p, data }));
  return stripCommonFolder(files);
}

/** When f.py is not at the top and every file is below one folder, that folder is the function's folder. */
export function stripCommonFolder(files: UploadFile[]): { folder: string; files: UploadFile[] } {
  if (files.length === 0 || files.some((f) => f.path === 'f.py')) return { folder: '', files };
  const first = files[0].path.split('/')[0];
  if (!files.every((f) => f.path.startsWith(`${first}/`))) return { folder: '', files };
  return { folder: first, files: files.map((f) => ({ ...f, path: f.path.slice(first.length + 1) })) };
}

/** The tar stream of the files (regular files only, 0644). */
export function tarOfFiles(files: readonly UploadFile[]): Uint8Array {
  return ustar(files);
}
