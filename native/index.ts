// The typed API over the native addon: privileged system calls the daemon cannot make from Node.
// Loading is the only logic here; every function is the raw binding with friendlier types.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NativeBinding, NativeErrorShape, RawExitStatus, RawPeerCredentials, RawSpawnOptions } from './native';

export type SpawnOptions = RawSpawnOptions;
export type ExitStatus = RawExitStatus;
/** An Error in Node's shape: code ('EPERM'), errno (negative), syscall ('mount', 'chroot', ...), path? */
export type NativeError = NativeErrorShape;
export type BindOptions = { recursive?: boolean; readonly?: boolean };
export type UmountOptions = { detach?: boolean };
export type PeerCredentials = RawPeerCredentials;

// native/index.ts runs from native/ (tsx) and, compiled, from dist/native/.
const candidates = [
  path.join(__dirname, 'build/Release/sockpit_native.node'),
  path.join(__dirname, '../../native/build/Release/sockpit_native.node'),
];

function load(): NativeBinding {
  const found = candidates.find((file) => fs.existsSync(file));
  if (found === undefined) {
    throw new Error(`sockpit native addon not built (run npm run build:native); looked in ${candidates.join(', ')}`);
  }
  return require(found) as NativeBinding;
}

const binding = load();

/** Bind source onto target; readonly also sets nosuid,nodev (recursively with mount_setattr when recursive). */
export function bindMount(source: string, target: string, options: BindOptions = {}): void {
  binding.bindMount(source, target, options);
}

/** umount2(target, UMOUNT_NOFOLLOW | (detach ? MNT_DETACH : 0)). */
export function umount(target: string, options: UmountOptions = {}): void {
  binding.umount(target, options);
}

/** A nosuid,nodev tmpfs with the given mount data, e.g. 'size=16m,mode=1777'. */
export function mountTmpfs(target: string, options: string): void {
  binding.mountTmpfs(target, options);
}

/** Remounts a tmpfs with new mount data (size=, nr_inodes=); nosuid,nodev stay. */
export function remountTmpfs(target: string, options: string): void {
  binding.remountTmpfs(target, options);
}

/** Starts a process into a sandbox; returns once it has exec'd. The caller owns pidfd (watchExit, then close). */
export function spawn(options: SpawnOptions): { pid: number; pidfd: number } {
  return binding.spawn(options);
}

/**
 * Calls back once, when the process behind pidfd exits (a child is reaped then; a process that is not our child
 * calls back with an ECHILD error). Keeps the event loop alive meanwhile unless keepAlive is false.
 */
export function watchExit(
  pidfd: number,
  callback: (status: ExitStatus, error?: NativeError) => void,
  options: { keepAlive?: boolean } = {},
): void {
  binding.watchExit(pidfd, callback, options);
}

/**
 * A new network namespace with only loopback, up; returns a close-on-exec fd that holds it. With usernsFd, the
 * namespace is owned by that user namespace (its root may then join it); otherwise by ours.
 */
export function makeNetns(usernsFd?: number): number {
  return binding.makeNetns(usernsFd);
}

/** makeNetns on a worker thread (the kernel takes milliseconds to make one): for refills beside calls. */
export function makeNetnsAsync(usernsFd?: number): Promise<number> {
  return binding.makeNetnsAsync(usernsFd);
}

/** Waits for the exit of the process behind pidfd. */
export function waitExit(pidfd: number): Promise<ExitStatus> {
  return new Promise((resolve, reject) => watchExit(pidfd, (status, error) => (error ? reject(error) : resolve(status))));
}

/** Sends a signal (number or name like 'SIGKILL'); false when the process is gone already. */
export function pidfdKill(pidfd: number, signal: number | NodeJS.Signals): boolean {
  const number = typeof signal === 'number' ? signal : os.constants.signals[signal];
  if (number === undefined) throw new TypeError(`pidfdKill(pidfd, signal): unknown signal ${String(signal)}`);
  return binding.pidfdKill(pidfd, number);
}

/** A pidfd for a process this one did not spawn (close-on-exec). */
export function pidfdOpen(pid: number): number {
  return binding.pidfdOpen(pid);
}

/** prctl(PR_SET_CHILD_SUBREAPER): orphans below this process are reparented to it (and reaped by it). */
export function setChildSubreaper(): void {
  binding.setChildSubreaper();
}

/** AF_UNIX stream socket pair, both ends close-on-exec. */
export function socketpair(): [number, number] {
  return binding.socketpair();
}

/** [read, write], both close-on-exec. */
export function pipe(): [number, number] {
  return binding.pipe();
}

/** sendmsg with SCM_RIGHTS; never blocks (EAGAIN is thrown). Returns the bytes sent. */
export function sendFds(sockfd: number, data: Buffer, fds: number[]): number {
  return binding.sendFds(sockfd, data, fds);
}

/** recvmsg of up to maxBytes and maxFds (close-on-exec); never blocks (EAGAIN is thrown). Empty data = EOF. */
export function recvFds(sockfd: number, maxBytes: number, maxFds: number): { data: Buffer; fds: number[] } {
  return binding.recvFds(sockfd, maxBytes, maxFds);
}

/** getsockopt(SO_PEERCRED) of a connected unix socket: the pid, uid and gid of the peer when it connected. */
export function peerCredentials(fd: number): PeerCredentials {
  return binding.peerCredentials(fd);
}

/** Replaces this process by file (same pid); the standard streams stay open. Returns only by throwing. */
export function execve(file: string, argv: string[], env: NodeJS.ProcessEnv): never {
  const pairs = Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  return binding.execve(file, argv, pairs);
}

/** prctl(PR_SET_PDEATHSIG, signal); returns getppid() read after it is armed. */
export function setParentDeathSignal(signal: NodeJS.Signals): number {
  const number = os.constants.signals[signal];
  return binding.setParentDeathSignal(number);
}

/** flock(fd, LOCK_EX | LOCK_NB): true if this process holds the lock now, false if another process holds it. */
export function lockFile(fd: number): boolean {
  return binding.lockFile(fd);
}

/** sd_notify(3): sends state ("READY=1", "STOPPING=1", ...) to NOTIFY_SOCKET; false when no supervisor asked. */
export function sdNotify(state: string, socketPath = process.env.NOTIFY_SOCKET): boolean {
  if (socketPath === undefined || socketPath === '') return false;
  binding.sdNotify(socketPath, state);
  return true;
}

/** The kernel's Landlock ABI version (landlock_create_ruleset with LANDLOCK_CREATE_RULESET_VERSION); 0: none. */
export function landlockAbi(): number {
  return binding.landlockAbi();
}
