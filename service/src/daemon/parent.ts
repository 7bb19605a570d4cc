// A daemon started by a program (a test suite, a benchmark, `npm start`, the e2e set-up) belongs to it: when that
// owner dies, even by SIGKILL, the daemon stops too, instead of running on with nobody to stop it. The owner says
// so by its pid in SOCKPIT_OWNER_PID. A daemon a user or a supervisor starts by hand has no owner; a supervisor
// (systemd, Type=notify) is told when the daemon is ready and when it stops.

import fs from 'node:fs';
import * as native from '../../../native';

export const OWNER_ENV = 'SOCKPIT_OWNER_PID';

/** The environment for a daemon that must stop when `owner` dies. */
export function envOwnedBy(owner: number, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, [OWNER_ENV]: String(owner) };
}

/** The owner's pid from the environment, or null when there is none (or it is not a pid). */
export function ownerFrom(env: NodeJS.ProcessEnv): number | null {
  const text = env[OWNER_ENV];
  if (text === undefined || !/^[1-9][0-9]*$/.test(text)) return null;
  return Number(text);
}

/**
 * Calls stop(reason) once when the owner named in the environment dies. When the owner is the parent, the
 * kernel's parent-death signal (SIGTERM, whose handler stops the daemon) does it; getppid() read after arming it
 * tells whether the owner died before. Otherwise the owner's pidfd is watched without keeping the daemon alive.
 */
export function stopWithOwner(stop: (reason: string) => void): void {
  const owner = ownerFrom(process.env);
  if (owner === null) return;
  if (process.ppid === owner) {
    if (native.setParentDeathSignal('SIGTERM') !== owner) stop(`its owner (pid ${owner}) exited`);
    return;
  }
  let pidfd: number;
  try {
    pidfd = native.pidfdOpen(owner);
  } catch {
    stop(`its owner (pid ${owner}) is gone`);
    return;
  }
  native.watchExit(
    pidfd,
    () => {
      fs.closeSync(pidfd);
      stop(`its owner (pid ${owner}) exited`);
    },
    { keepAlive: false },
  );
}

/**
 * A daemon whose owner died has nobody reading its output: writes to a closed pipe must not become uncaught
 * errors (whose report would be one more write to the same pipe).
 */
export function ignoreClosedOutput(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
}

/** sd_notify(3) to systemd when it started us (NOTIFY_SOCKET); a no-op otherwise. A failure is logged, not fatal. */
export function tellSupervisor(state: string): void {
  try {
    native.sdNotify(state);
  } catch (err) {
    console.error(`sockpitd: can't notify systemd (${state.split('\n')[0]}): ${(err as Error).message}`);
  }
}
