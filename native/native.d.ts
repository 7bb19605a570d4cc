// The raw binding of build/Release/sockpit_native.node, exactly as src/binding.cc registers it.
// Every failed system call throws a NativeErrorShape; every bad argument throws a TypeError with a usage line.

export interface NativeErrorShape extends Error {
  /** errno name, e.g. 'EPERM' */
  code: string;
  /** negative errno, like Node's system errors */
  errno: number;
  /** the failed system call or spawn step: 'mount', 'chroot', 'execve', 'cgroup.procs', ... */
  syscall: string;
  /** the path (or object) the call acted on, when there is one */
  path?: string;
}

export interface RawBindOptions {
  recursive?: boolean;
  readonly?: boolean;
}

export interface RawUmountOptions {
  detach?: boolean;
}

export type RawNamespace = 'pid' | 'uts' | 'ipc' | 'net';

export interface RawRlimits {
  nofile?: number;
  nproc?: number;
  core?: number;
  fsize?: number;
  stack?: number;
}

export interface RawSpawnOptions {
  file: string;
  argv: string[];
  env: string[];
  root: string;
  cwd: string;
  uid: number;
  gid: number;
  /** open fds of cgroup join files (v1 `tasks` or v2 `cgroup.procs`): the child writes "0" to each, first */
  cgroupProcsFds: number[];
  fds: number[];
  namespaces: RawNamespace[];
  /** an fd of a network namespace the child joins (setns) right after its cgroups; excludes 'net' */
  netns?: number;
  hostname?: string;
  rlimits?: RawRlimits;
  /** the child's umask (0 to 0o777); default: the parent's */
  umask?: number;
  /** empty the capability bounding set before the uid change (an unprivileged instance: docs/ARCHITECTURE.md "Entering a sandbox") */
  clearBoundingSet?: boolean;
  /** a new user namespace with these /proc/<pid>/uid_map and gid_map contents, written before the child goes on */
  userns?: { uidMap: string; gidMap: string };
  /** a seccomp filter (struct sock_filter[]), installed last before execve */
  seccomp?: Buffer;
  /** Landlock after chroot: reads only beneath root; signals and abstract unix sockets scoped (landlock.cc) */
  landlock?: boolean;
  /** with landlock: use at most this Landlock ABI (0: none); default the kernel's (config kernel.assumeLandlockAbi) */
  landlockAbi?: number;
  /** with 'pid': the child's own (new) PID namespace is installed as the fd after `fds` */
  ownPidNamespaceFd?: boolean;
  dieWithParent?: boolean;
}

export interface RawExitStatus {
  pid: number;
  code: number | null;
  signal: string | null;
}

export interface RawPeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

export interface NativeBinding {
  bindMount(source: string, target: string, options?: RawBindOptions): void;
  umount(target: string, options?: RawUmountOptions): void;
  mountTmpfs(target: string, options: string): void;
  remountTmpfs(target: string, options: string): void;
  spawn(options: RawSpawnOptions): { pid: number; pidfd: number };
  makeNetns(usernsFd?: number): number;
  makeNetnsAsync(usernsFd?: number): Promise<number>;
  /** error is set only when waitid failed (then code and signal are null) */
  watchExit(
    pidfd: number,
    callback: (status: RawExitStatus, error?: NativeErrorShape) => void,
    options?: { keepAlive?: boolean },
  ): void;
  pidfdKill(pidfd: number, signal: number): boolean;
  pidfdOpen(pid: number): number;
  setChildSubreaper(): void;
  socketpair(): [number, number];
  pipe(): [number, number];
  sendFds(sockfd: number, data: Buffer, fds: number[]): number;
  recvFds(sockfd: number, maxBytes: number, maxFds: number): { data: Buffer; fds: number[] };
  peerCredentials(fd: number): RawPeerCredentials;
  execve(file: string, argv: string[], env: string[]): never;
  setParentDeathSignal(signal: number): number;
  lockFile(fd: number): boolean;
  sdNotify(socketPath: string, state: string): void;
  landlockAbi(): number;
}
