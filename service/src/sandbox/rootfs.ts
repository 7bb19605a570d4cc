// The file-system side of a lean container: the base image, assembled once at start-up, and each sandbox's
// root, stitched from bind mounts in the daemon's private mount namespace.
//
// <state>/base            read-only: the host's /usr (+ merged-/usr links), a generated /etc, /dev nodes,
//                         the runtime at /sockpit, empty mount points /handler /host /tmp /packages
// <state>/sandboxes/<id>/root     recursive bind of base (its read-only flags are copied with it)
//                        /root/handler  read-only bind of the function's code snapshot
//                        /root/host, /root/tmp  read-write binds of the sandbox's scratch
//                        /scratch       the sandbox's own tmpfs, sized from its limits (scratch.ts): host/ and tmp/
// Nothing here ever removes a directory that still has a mount under it: removeTree unmounts first.

import fs from 'node:fs';
import path from 'node:path';
import * as native from '../../../native';
import { SockpitError, wrap } from '../errors';
import { mountsUnder } from './mountinfo';

/** Unmounts everything at or under dir (lazily, deepest first), then removes it. Never follows a mount. */
export function removeTree(dir: string): void {
  // Stacked mounts (a bind of a directory onto itself covers the mounts below it) only show up once the one
  // above is gone, so unmount until mountinfo lists nothing under dir.
  for (let pass = 0; ; pass++) {
    const points = mountsUnder(fs.readFileSync('/proc/self/mountinfo', 'utf8'), dir);
    if (points.length === 0) break;
    if (pass === 16) throw new SockpitError('internal', `Can't unmount everything under ${dir}: ${points.join(', ')} remain`, { path: dir });
    for (const point of points) {
      try {
        native.umount(point, { detach: true });
      } catch (err) {
        // EINVAL: not a mount point any more (a lazy unmount above took it along)
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw wrap(err, `Can't unmount ${point}`, { op: 'umount', path: point });
      }
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

export interface BaseOptions {
  baseDir: string;
  /** a root filesystem directory to use instead of the host's /usr */
  rootfs: string | null;
  runtimeDir: string;
  /** the package cache's store, mounted read-only at /packages */
  packagesDir: string;
  python: string;
  uid: number;
  gid: number;
}

const MOUNT_POINTS = ['handler', 'host', 'tmp', 'packages', 'sockpit'];
const DEVICES = ['null', 'zero', 'full', 'random', 'urandom'];
/** The host's own Python packages must not leak into a sandbox: only the standard library and /packages. */
function hostPackageDirs(): string[] {
  const found: string[] = [];
  for (const lib of ['/usr/lib', '/usr/local/lib']) {
    const pythons = (fs.readdirSync(lib, { withFileTypes: true }) ?? []).filter((e) => e.isDirectory() && /^python3/.test(e.name));
    for (const py of pythons) {
      for (const sub of ['dist-packages', 'site-packages']) {
        const dir = path.join(lib, py.name, sub);
        if (fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) found.push(dir);
      }
    }
  }
  return found;
}

/** an empty directory mounted over the host's package directories inside the base */
function maskDirOf(baseDir: string): string {
  return `${baseDir}.mask`;
}

/** Unmounts and removes the base image (and what assembleBase made beside it). */
export function removeBase(baseDir: string): void {
  removeTree(baseDir);
  fs.rmSync(maskDirOf(baseDir), { recursive: true, force: true });
}

export function assembleBase(opts: BaseOptions): void {
  const { baseDir } = opts;
  removeBase(baseDir);
  fs.mkdirSync(baseDir, { recursive: true, mode: 0o755 });
  try {
    if (opts.rootfs === null) {
      buildFromHost(baseDir);
    } else {
      if (!fs.statSync(opts.rootfs, { throwIfNoEntry: false })?.isDirectory()) {
        throw new SockpitError('bad_request', `base ${opts.rootfs} is not a directory`);
      }
      for (const dir of [...MOUNT_POINTS, 'dev']) fs.mkdirSync(path.join(opts.rootfs, dir), { recursive: true, mode: 0o755 });
      native.bindMount(opts.rootfs, baseDir, { recursive: true, readonly: true });
    }
    const python = path.join(baseDir, opts.python);
    if (!fs.statSync(python, { throwIfNoEntry: false })?.isFile()) {
      throw new SockpitError('bad_request', `the interpreter ${opts.python} does not exist in the base image`, { path: python });
    }
    native.bindMount(opts.runtimeDir, path.join(baseDir, 'sockpit'), { readonly: true });
    native.bindMount(opts.packagesDir, path.join(baseDir, 'packages'), { readonly: true });
    // read-only from here on; the device nodes go on top afterwards so they keep their dev flag
    if (opts.rootfs === null) native.bindMount(baseDir, baseDir, { recursive: true, readonly: true });
    for (const dev of DEVICES) native.bindMount(`/dev/${dev}`, path.join(baseDir, 'dev', dev), {});
  } catch (err) {
    removeBase(baseDir);
    throw wrap(err, `Can't assemble the base image in ${baseDir}`, { op: 'base' });
  }

  function buildFromHost(dir: string): void {
    for (const top of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) {
      const host = `/${top}`;
      const st = fs.lstatSync(host, { throwIfNoEntry: false });
      if (!st) continue;
      if (st.isSymbolicLink()) fs.symlinkSync(fs.readlinkSync(host), path.join(dir, top));
      else if (st.isDirectory()) {
        fs.mkdirSync(path.join(dir, top));
        native.bindMount(host, path.join(dir, top), { recursive: true, readonly: true });
      }
    }
    fs.mkdirSync(path.join(dir, 'usr'));
    native.bindMount('/usr', path.join(dir, 'usr'), { recursive: true, readonly: true });
    const empty = maskDirOf(dir);
    fs.mkdirSync(empty, { recursive: true, mode: 0o555 });
    for (const hidden of hostPackageDirs()) native.bindMount(empty, path.join(dir, hidden), { readonly: true });
    writeEtc(path.join(dir, 'etc'));
    for (const point of MOUNT_POINTS) fs.mkdirSync(path.join(dir, point), { mode: 0o755 });
    fs.mkdirSync(path.join(dir, 'dev'), { mode: 0o755 });
    for (const dev of DEVICES) fs.writeFileSync(path.join(dir, 'dev', dev), '');
  }

  function writeEtc(etc: string): void {
    fs.mkdirSync(etc, { mode: 0o755 });
    const files: Record<string, string> = {
      passwd: `root:x:0:0:root:/root:/usr/sbin/nologin\nsandbox:x:${opts.uid}:${opts.gid}:sockpit function:/tmp:/usr/sbin/nologin\n`,
      group: `root:x:0:\nsandbox:x:${opts.gid}:\n`,
      hosts: '127.0.0.1 localhost\n::1 localhost\n',
      hostname: 'sockpit\n',
      'nsswitch.conf': 'passwd: files\ngroup: files\nhosts: files\n',
      'resolv.conf': '',
    };
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(etc, name), text, { mode: 0o644 });
    copyAlternatives(path.join(etc, 'alternatives'));
  }
}

/**
 * Debian's update-alternatives links: /usr/lib/<triplet>/libblas.so.3 (numpy's BLAS) and many others point
 * through /etc/alternatives, so without them those /usr files dangle in the sandbox. Copies the links whose
 * targets are in the image (/usr, /bin, /sbin, /lib*); nothing else of the host's /etc.
 */
function copyAlternatives(dir: string, host = '/etc/alternatives'): void {
  let names: string[];
  try {
    names = fs.readdirSync(host);
  } catch {
    return;
  }
  fs.mkdirSync(dir, { mode: 0o755 });
  for (const name of names) {
    let target: string;
    try {
      target = fs.readlinkSync(path.join(host, name));
    } catch {
      continue; // not a link (README)
    }
    if (/^\/(usr|bin|sbin|lib[^/]*)\//.test(target)) fs.symlinkSync(target, path.join(dir, name));
  }
}

export interface SandboxDirs {
  dir: string;
  root: string;
  /** the sandbox's own tmpfs, holding scratch and tmp */
  scratchMount: string;
  scratch: string;
  tmp: string;
}

/**
 * Stitches one sandbox's root: 3 binds + 1 read-only remount, all in the daemon's private mount namespace, and
 * a tmpfs of its own for /host and /tmp, mounted with scratchData (size=, nr_inodes=).
 */
export function mountSandboxRoot(baseDir: string, dir: string, codeDir: string | null, uid: number, gid: number, scratchData: string): SandboxDirs {
  const scratchMount = path.join(dir, 'scratch');
  const dirs: SandboxDirs = { dir, root: path.join(dir, 'root'), scratchMount, scratch: path.join(scratchMount, 'host'), tmp: path.join(scratchMount, 'tmp') };
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
    fs.mkdirSync(dirs.root);
    fs.mkdirSync(scratchMount, { mode: 0o700 });
    native.mountTmpfs(scratchMount, scratchData);
    fs.mkdirSync(dirs.scratch, { mode: 0o700 });
    fs.mkdirSync(dirs.tmp, { mode: 0o700 });
    fs.chownSync(dirs.scratch, uid, gid);
    fs.chownSync(dirs.tmp, uid, gid);
    native.bindMount(baseDir, dirs.root, { recursive: true });
    if (codeDir !== null) mountCode(codeDir, dirs);
    native.bindMount(dirs.scratch, path.join(dirs.root, 'host'), {});
    native.bindMount(dirs.tmp, path.join(dirs.root, 'tmp'), {});
  } catch (err) {
    unmountSandboxRoot(dirs);
    throw wrap(err, `Can't set up the sandbox root in ${dir}`, { op: 'sandbox.mount', path: dir });
  }
  return dirs;
}

/** The function's code, read-only at /handler (in a root made by mountSandboxRoot). */
export function mountCode(codeDir: string, dirs: SandboxDirs): void {
  native.bindMount(codeDir, path.join(dirs.root, 'handler'), { readonly: true });
}

/** Gives the sandbox's scratch tmpfs a new size (a spare's, once its function is known). */
export function resizeScratch(dirs: SandboxDirs, scratchData: string): void {
  native.remountTmpfs(dirs.scratchMount, scratchData);
}

export function unmountSandboxRoot(dirs: SandboxDirs): void {
  // both are tried whatever happens to the other: a scratch left mounted would hold its memory
  let failure: unknown = null;
  for (const target of [dirs.root, dirs.scratchMount]) {
    try {
      detachIfMounted(target);
      // only ever a mount point: rmdir, never a recursive remove, so a mount that is somehow still there
      // makes this fail instead of deleting the host's files underneath (the scratch's tmpfs is freed by the
      // unmount, whatever the function left in it)
      rmdirIfPresent(target);
    } catch (err) {
      failure ??= err;
    }
  }
  if (failure !== null) throw failure;
  rmdirIfPresent(dirs.dir);
}

function detachIfMounted(target: string): void {
  try {
    native.umount(target, { detach: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EINVAL' && (err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function rmdirIfPresent(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
