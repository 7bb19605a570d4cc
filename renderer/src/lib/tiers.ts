// The three tiers an invocation can be served by, in words a newcomer understands, and their colours.

import { TIERS, type Tier } from '../../../api';

export { TIERS };

export const TIER_COLORS: Record<string, string> = {
  warm: '#e8590c',
  zygote: '#1c7ed6',
  cold: '#5f3dc4',
};

export const TIER_TITLES: Record<Tier, string> = {
  warm: 'warm: reused an idle instance',
  zygote: 'zygote: forked from a pre-initialised Python',
  cold: 'cold: fresh container and interpreter',
};

export const TIER_EXPLANATIONS: Record<Tier, string> = {
  warm: 'An idle instance of this function was still there, frozen. sockpit thawed it and handed it the event: nothing had to start.',
  zygote:
    'A new instance was forked from a Zygote, a Python process that had already imported the packages. Only the function itself had to load: no interpreter start-up, no imports.',
  cold: 'Nothing reusable: sockpit built a fresh lean container and started a fresh Python interpreter that imported everything itself. The slowest path.',
};

export function isTier(value: unknown): value is Tier {
  return (TIERS as readonly unknown[]).includes(value);
}

/** Phases of Server-Timing, in the order they happen, and what each one is. */
export const PHASES: Record<string, string> = {
  queue: 'waiting for a slot',
  sandbox: 'preparing the lean container (cgroup from the pool, bind mounts)',
  thaw: 'thawing a frozen idle instance',
  reuse: 'reusing an idle instance that was not frozen yet',
  grow: 'growing the Zygote tree: a new child Zygote imports the missing packages',
  fork: 'forking the instance from a Zygote',
  spawn: 'starting a fresh interpreter in the container',
  boot: 'the interpreter starting up',
  load: "loading the function's code (and, cold, its imports)",
  exec: 'running the function',
  freeze: 'freezing the instance for later reuse',
};

export function phaseColor(name: string, index: number): string {
  const fixed: Record<string, string> = {
    sandbox: '#868e96',
    thaw: '#f08c00',
    reuse: '#f59f00',
    grow: '#2f9e44',
    fork: '#1c7ed6',
    spawn: '#7048e8',
    boot: '#ae3ec9',
    load: '#d6336c',
    exec: '#0ca678',
  };
  const palette = ['#15aabf', '#74b816', '#f59f00', '#e64980', '#4263eb', '#82c91e'];
  return fixed[name] ?? palette[index % palette.length];
}
