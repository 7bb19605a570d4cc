// What every instance is given on entering its sandbox, whichever path starts it (docs/ARCHITECTURE.md "Entering a sandbox"). The
// addon's spawn applies it to a cold instance and to the first Zygote; the first Zygote records what it was given
// before anything else runs in it (zygote.py, _FRESH_*), and every Zygote sets it again in each instance it forks,
// so a package a Zygote imported cannot pass a changed value on.

export interface InstanceEntry {
  /** the file mode creation mask: the daemon's own is whatever it was started with */
  umask: number;
  /** soft and hard limits, both set to the value; every other limit is sockpitd's own */
  rlimits: { core: number; nofile: number };
}

export const INSTANCE_ENTRY: Readonly<InstanceEntry> = Object.freeze({ umask: 0o022, rlimits: Object.freeze({ core: 0, nofile: 1024 }) });
