// sockpitd's mounts must live and die in a mount namespace of its own. Node can't unshare one for all of its
// threads, so the process replaces itself (execve, same pid) by unshare(1), which execs it again inside a fresh
// private one. No wrapper process stays behind: the pid a user or a supervisor started is the daemon's, and a
// SIGKILL of it ends the daemon.

import * as native from '../../../native';
import { which } from '../paths';
import { delegatedScopePrefix } from './scope';

const MARK = 'SOCKPIT_PRIVATE_MOUNTNS';

export function inPrivateMountNamespace(): boolean {
  return process.env[MARK] === '1';
}

/**
 * Replaces this process by the same command under `unshare --mount --propagation private`, first moved into a
 * delegated scope where a pure cgroup v2 host needs one (scope.ts). Never returns.
 */
export function execInPrivateMountNamespace(): never {
  const unshare = which('unshare', ['/usr/bin', '/bin']);
  if (unshare === null) {
    console.error("sockpit: can't find unshare(1) on PATH (it comes with util-linux)");
    process.exit(1);
  }
  const scope = delegatedScopePrefix();
  const argv = [...scope.prefix, unshare, '--mount', '--propagation', 'private', '--', process.execPath, ...process.execArgv, ...process.argv.slice(1)];
  return native.execve(argv[0], argv, { ...scope.env, [MARK]: '1' });
}

/** True when / in this mount namespace propagates nothing to or from the host (mountinfo has no shared: tag). */
export function rootMountIsPrivate(mountinfo: string): boolean {
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    if (fields[4] !== '/') continue;
    const separator = fields.indexOf('-');
    return !fields.slice(6, separator).some((tag) => tag.startsWith('shared:'));
  }
  return false;
}
