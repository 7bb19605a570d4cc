// What every instance is given on entering its sandbox, whichever path starts it (docs/sandbox-entry.md): the
// addon's spawn applies it to a cold instance; a Zygote (zygote.py child()) applies it to each instance it forks,
// reading it from SOCKPIT_INSTANCE_ENTRY, so a package its Zygote imported cannot pass a changed value on.

import type { RawRlimits } from '../../../native/native';

export interface InstanceEntry {
  /** the file mode creation mask: the daemon's own is whatever it was started with */
  umask: number;
  /** soft and hard limits, both set to the value */
  rlimits: Required<Pick<RawRlimits, 'core' | 'nofile'>>;
}

export const INSTANCE_ENTRY: Readonly<InstanceEntry> = Object.freeze({ umask: 0o022, rlimits: Object.freeze({ core: 0, nofile: 1024 }) });

/** The value of SOCKPIT_INSTANCE_ENTRY, which the first Zygote reads once at start-up. */
export function instanceEntryEnvironment(entry: InstanceEntry = INSTANCE_ENTRY): string {
  return JSON.stringify(entry);
}
