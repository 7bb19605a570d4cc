// Which protections the daemon has on this kernel, and what it does about the ones it lacks (issue 17). Pure: the
// probe (probe.ts) reads the kernel, this decides, daemon.ts acts. Invariant of the result: when
// `refuse` is null, no protection is 'missing': each is either given by the kernel ('active') or by another
// mechanism the daemon uses anyway ('covered'); where neither holds for the Zygote tier only, the tier is off.
//
// What each mapping rests on (read in the code, not assumed):
// - Landlock (native/src/landlock.cc, runtime/zygote.py) confines reads to the sandbox root. Cold instances run
//   as an unprivileged uid in a chroot, which they cannot leave without CAP_SYS_CHROOT, so for them the chroot
//   covers it. Zygotes are root in their user namespace and may chroot: only Landlock confines their reads.
// - Landlock ABI 6 scopes abstract unix sockets and signals to a sandbox's domain. Without it, abstract unix
//   sockets belong to a network namespace: network.mode isolated gives every sandbox and every Zygote one of its
//   own (sandbox.ts prepare, zygotes/manager.ts); host mode gives none, so the host's are reachable: refuse.
//   Signals: every instance, cold (sandbox.ts start) or forked (zygote.py fork), is PID 1 of a PID namespace of
//   its own and sees no other process. Zygotes do not: they share the first Zygote's PID namespace and run
//   package code (imports). They hold no CAP_KILL (zygote.py drop_capabilities), so they cannot signal an
//   instance (another uid); but they share one uid, so without ABI 6 package code in one Zygote can signal
//   another Zygote, the first one included (which ends the Zygote world and the instances forked in it). That
//   is a denial of service the daemon recovers from (it replaces Zygotes that die or stop answering); nothing is
//   read or written across (ptrace and pidfd_open are refused by seccomp, Landlock ABI 1 domains keep the rest).
//   The status says so; the Zygote tier stays on.
// - seccomp (sandbox/seccomp.ts) refuses kernel surface no function needs; nothing else covers it: refuse.
// - pidfds (native/src/spawn.cc clone3 CLONE_PIDFD, pidfd.cc): the daemon holds every process by one; refuse.
// - cgroup.kill (5.14) and cgroup.freeze (5.2): the cgroup driver falls back to freeze + SIGKILL of each member
//   and to the v1 freezer (cgroups/driver.ts).

import type { KernelProbe, Protection } from '../../../api';

export type { KernelProbe, Protection, ProtectionState } from '../../../api';

export interface KernelPolicyConfig {
  networkMode: 'isolated' | 'host';
  zygotesEnabled: boolean;
  /**
   * kernel.assumeLandlockAbi: use this Landlock ABI instead of the kernel's; may only be lower (a test seam that
   * runs the degraded paths on a new kernel, never a switch that adds anything). null: the kernel's.
   */
  assumeLandlockAbi: number | null;
}

export interface KernelPolicy {
  /** the Landlock ABI sandboxes use: the kernel's, or lower if told */
  landlockAbi: number;
  protections: Protection[];
  zygotes: { run: true } | { run: false; reason: string };
  /** why the daemon must not start, naming the kernel feature; null: it may */
  refuse: string | null;
}

const SCOPE_ABI = 6;
const SCOPE_FEATURE = 'Landlock ABI 6 (abstract unix socket and signal scoping), kernel 6.12+';

export function decideProtections(probe: KernelProbe, cfg: KernelPolicyConfig): KernelPolicy {
  const refusals: string[] = [];
  let landlockAbi = probe.landlockAbi;
  if (cfg.assumeLandlockAbi !== null) {
    if (cfg.assumeLandlockAbi > probe.landlockAbi) {
      refusals.push(`kernel.assumeLandlockAbi is ${cfg.assumeLandlockAbi}, above this kernel's Landlock ABI ${probe.landlockAbi}: it may only lower it`);
    } else {
      landlockAbi = cfg.assumeLandlockAbi;
    }
  }
  const isolated = cfg.networkMode === 'isolated';
  const protections: Protection[] = [];
  const add = (p: Protection) => {
    protections.push(p);
    if (p.state === 'missing') refusals.push(p.detail);
  };

  add(
    landlockAbi >= 1
      ? { name: 'filesystem reads', state: 'active', detail: `Landlock ABI ${landlockAbi}: reads only beneath each sandbox's root` }
      : {
          name: 'filesystem reads',
          state: 'covered',
          coveredBy: 'chroot + unprivileged uid',
          detail: 'no Landlock (kernel 5.13+, enabled at boot): cold instances are unprivileged uids in a chroot they cannot leave; Zygotes off',
        },
  );
  add(
    landlockAbi >= SCOPE_ABI
      ? { name: 'abstract unix sockets', state: 'active', detail: `Landlock ABI ${landlockAbi}: scoped to each sandbox` }
      : isolated
        ? {
            name: 'abstract unix sockets',
            state: 'covered',
            coveredBy: 'a network namespace per sandbox',
            detail: `no ${SCOPE_FEATURE}: each sandbox and Zygote has a network namespace of its own (network.mode isolated)`,
          }
        : {
            name: 'abstract unix sockets',
            state: 'missing',
            detail:
              `Landlock ABI 6 (abstract unix socket scoping), kernel 6.12+, is missing (this kernel: ABI ${landlockAbi}): with network.mode "host" ` +
              'every sandbox could connect to the abstract unix sockets of the host. Set network.mode to "isolated".',
          },
  );
  add(
    landlockAbi >= SCOPE_ABI
      ? { name: 'signals', state: 'active', detail: `Landlock ABI ${landlockAbi}: scoped to each sandbox` }
      : {
          name: 'signals',
          state: 'covered',
          coveredBy: 'a PID namespace per instance, no CAP_KILL in Zygotes',
          detail:
            `no ${SCOPE_FEATURE}: every instance is alone in a PID namespace of its own and Zygotes cannot signal it; ` +
            'left open: package code in one Zygote can signal another Zygote (same uid), a denial of service the daemon recovers from',
        },
  );
  add(
    probe.seccomp
      ? { name: 'system call filter', state: 'active', detail: 'seccomp: kernel surface no function needs is refused' }
      : {
          name: 'system call filter',
          state: 'missing',
          detail: 'seccomp filters (CONFIG_SECCOMP_FILTER, x86_64) are missing: nothing else keeps sandboxes from kernel surface no function needs',
        },
  );
  add(
    probe.pidfd
      ? { name: 'process handles', state: 'active', detail: 'pidfds: every process is held and signalled by a handle, never by a reusable pid' }
      : {
          name: 'process handles',
          state: 'missing',
          detail: 'pidfds (pidfd_open, clone3 CLONE_PIDFD; kernel 5.4+) are missing: the daemon holds every process by one',
        },
  );
  add(
    probe.cgroupKill
      ? { name: 'cgroup kill', state: 'active', detail: 'cgroup.kill: a sandbox is killed whole, at once' }
      : {
          name: 'cgroup kill',
          state: 'covered',
          coveredBy: 'freeze + SIGKILL',
          detail: 'no cgroup.kill (cgroup v2, kernel 5.14+) where sandboxes are: the cgroup is frozen, then each member killed',
        },
  );
  add(
    probe.cgroupFreeze
      ? { name: 'cgroup freeze', state: 'active', detail: 'cgroup.freeze (cgroup v2)' }
      : { name: 'cgroup freeze', state: 'covered', coveredBy: 'the v1 freezer', detail: 'no cgroup.freeze (cgroup v2, kernel 5.2+) where sandboxes are: the v1 freezer controller' },
  );

  return { landlockAbi, protections, zygotes: zygoteTier(probe, cfg, landlockAbi), refuse: refusals.length ? refusals.join('; ') : null };
}

function zygoteTier(probe: KernelProbe, cfg: KernelPolicyConfig, landlockAbi: number): KernelPolicy['zygotes'] {
  if (!cfg.zygotesEnabled) return { run: false, reason: 'zygotes.enabled is false' };
  if (!probe.userns) {
    return { run: false, reason: 'no user namespaces (user.max_user_namespaces is 0, or CONFIG_USER_NS is off): Zygotes are root only inside one' };
  }
  if (landlockAbi < 1) {
    return { run: false, reason: 'no Landlock (kernel 5.13+, enabled at boot): Zygotes may chroot, and only Landlock confines their reads' };
  }
  return { run: true };
}
