// The three tiers an invocation can be served by (the X-Sockpit-Tier header, the `tier` of invocation events).

export const TIERS = ['warm', 'zygote', 'cold'] as const;
export type Tier = (typeof TIERS)[number];
