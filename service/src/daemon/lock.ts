// One daemon per state directory and per socket: a second one would reclaim the first one's cgroups and tear down
// its sandboxes. Each is guarded by an exclusive flock on a file beside it, held for the daemon's whole life (the
// kernel drops it when the daemon dies, however it dies), and holding the holder's pid for the error message.

import fs from 'node:fs';
import { SockpitError } from '../errors';
import * as native from '../../../native';

export class DaemonLock {
  private constructor(private readonly fds: number[]) {}

  /** Locks `<stateDir>/sockpitd.lock` and `<socket>.lock`, or throws a conflict naming the running daemon. */
  static acquire(stateDir: string, socket: string): DaemonLock {
    const fds: number[] = [];
    try {
      fds.push(lockOrThrow(`${stateDir}/sockpitd.lock`, `the state directory ${stateDir}`));
      fds.push(lockOrThrow(`${socket}.lock`, `the socket ${socket}`));
    } catch (err) {
      for (const fd of fds) fs.closeSync(fd);
      throw err;
    }
    return new DaemonLock(fds);
  }

  release(): void {
    for (const fd of this.fds.splice(0)) fs.closeSync(fd);
  }
}

function lockOrThrow(file: string, what: string): number {
  // O_NOFOLLOW: a link planted at the lock's path must not make root open (and truncate) another file
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o600);
  if (!native.lockFile(fd)) {
    const holder = fs.readFileSync(fd, 'utf8').trim() || 'unknown';
    fs.closeSync(fd);
    throw new SockpitError('conflict', `another sockpitd (pid ${holder}) is running on ${what}`);
  }
  fs.ftruncateSync(fd, 0);
  fs.writeSync(fd, `${process.pid}\n`, 0);
  return fd;
}
