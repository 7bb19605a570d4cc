// On a pure cgroup v2 host a daemon must own its cgroup to give controllers to its sandboxes' cgroups (v2's
// no-internal-processes rule): a unit with Delegate=yes does that (sockpitd.service), a root shell's session
// scope does not (the shell is in it). Started from such a place under systemd, `sockpit daemon` moves itself
// into a transient scope of its own with Delegate=yes (systemd-run --scope registers the calling process and then
// execs the command: the pid stays the one the user started). Hybrid and v1 hosts need none of this.

import fs from 'node:fs';
import path from 'node:path';
import { readLayout } from '../cgroups';
import { which } from '../paths';

const MARK = 'SOCKPIT_DELEGATED_SCOPE';

export interface ScopeFacts {
  /** the cgroup layout's mode ('v2': every controller on the unified hierarchy) */
  mode: 'v2' | 'hybrid' | 'v1';
  /** systemd is PID 1 (/run/systemd/system exists) */
  systemd: boolean;
  /** processes other than this one in its own cgroup */
  others: number;
  /** this process was already moved into a scope of its own (the mark is set) */
  moved: boolean;
}

/** Whether to move into a delegated scope first. Pure. */
export function needsDelegatedScope(f: ScopeFacts): boolean {
  return f.mode === 'v2' && f.systemd && f.others > 0 && !f.moved;
}

/** The command prefix that puts what follows into a delegated scope, or [] when it is not needed here. */
export function delegatedScopePrefix(env: NodeJS.ProcessEnv = process.env): { prefix: string[]; env: NodeJS.ProcessEnv } {
  const none = { prefix: [], env };
  let facts: ScopeFacts;
  try {
    const layout = readLayout();
    const own = layout.unified?.dir;
    const procs = own ? fs.readFileSync(path.join(own, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number) : [];
    facts = { mode: layout.mode, systemd: fs.existsSync('/run/systemd/system'), others: procs.filter((p) => p !== process.pid).length, moved: env[MARK] === '1' };
  } catch {
    return none; // the daemon's own start-up reports what is wrong with the cgroups, in its words
  }
  if (!needsDelegatedScope(facts)) return none;
  const systemdRun = which('systemd-run', ['/usr/bin', '/bin']);
  if (systemdRun === null) return none;
  return { prefix: [systemdRun, '--scope', '--quiet', '--collect', '--property=Delegate=yes', '--'], env: { ...env, [MARK]: '1' } };
}
