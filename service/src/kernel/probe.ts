// What this kernel offers, read once at start-up (I/O only; kernel/protections.ts decides what it means).
import fs from 'node:fs';
import os from 'node:os';
import * as native from '../../../native';
import type { DriverInfo } from '../cgroups';
import { filtersSupported } from '../sandbox/seccomp';
import type { KernelProbe } from './protections';

export function probeKernel(cgroups: DriverInfo): KernelProbe {
  return {
    release: os.release(),
    landlockAbi: native.landlockAbi(),
    userns: userNamespacesAllowed(),
    seccomp: filtersSupported() && /^Seccomp:/m.test(fs.readFileSync('/proc/self/status', 'utf8')),
    cgroupFreeze: cgroups.freezer === 'v2',
    cgroupKill: cgroups.killer === 'cgroup.kill',
    pidfd: pidfdsWork(),
  };
}

/**
 * Root may make a user namespace unless the kernel has none (no /proc/sys/user/max_user_namespaces: CONFIG_USER_NS
 * off) or the limit is 0. The unprivileged-only switches (Debian's kernel.unprivileged_userns_clone, Ubuntu's
 * AppArmor restriction) do not apply to root.
 */
function userNamespacesAllowed(): boolean {
  try {
    return Number(fs.readFileSync('/proc/sys/user/max_user_namespaces', 'utf8').trim()) > 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}

function pidfdsWork(): boolean {
  try {
    fs.closeSync(native.pidfdOpen(process.pid));
    return true;
  } catch (err) {
    // ENOSYS: a kernel before 5.3. Anything else is not about the kernel: let it through.
    if ((err as native.NativeError).code === 'ENOSYS') return false;
    throw err;
  }
}
