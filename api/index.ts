// The contract between sockpitd and what talks to it (README.md): import from here.

export * from './benchmarks';
export * from './errors';
export * from './events';
export * from './functions';
export * from './headers';
export * from './server-timing';
export * from './socket';
export * from './stats';
export * from './status';
export * from './tiers';
export * from './zygotes';
