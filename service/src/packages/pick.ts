// One step of dependency resolution, free of I/O. The resolver walks the closure level by level (breadth first):
// the Python helper says which candidate versions satisfy each demand's specifier (newest first), and this step
// picks one version per new name: the newest that satisfies every demand on that name seen in this level (and any
// constraint learned from an earlier attempt), or checks a demand against the version already picked.

import { SockpitError } from '../errors';

export interface Demand {
  /** normalised name */
  name: string;
  /** PEP 440 specifier set; '' = any version */
  specifier: string;
  /** who asks: 'requested' (the function's requirements.txt) or the key of the package that requires it */
  by: string;
  /** extras asked of the package (their Requires-Dist conditioned on `extra == ...` then apply) */
  extras: string[];
  /** the candidate versions that satisfy `specifier`, newest first (from the helper) */
  matching: string[];
}

export interface Chosen {
  name: string;
  version: string;
  /** the demands that led to / accepted this version */
  demands: Demand[];
  extras: Set<string>;
}

export interface LevelResult {
  /** names picked in this level */
  added: Chosen[];
  /** already-picked packages that were asked for extras they had not been asked before */
  extended: Array<{ chosen: Chosen; extras: string[] }>;
}

/** A demand that the version already picked does not satisfy: the resolver may retry with it as a constraint. */
export class LateConflict extends SockpitError {
  constructor(
    readonly demand: Demand,
    readonly chosen: Chosen,
  ) {
    super(
      'bad_request',
      `conflicting requirements for ${demand.name}: ${chosen.name}==${chosen.version} was picked for ` +
        `${chosen.demands.map(describeDemand).join(', ')}, but ${describeDemand(demand)} excludes it`,
      { op: 'packages.resolve' },
    );
  }
}

export function describeDemand(d: Demand): string {
  const what = d.specifier === '' ? `${d.name} (any version)` : `${d.name}${d.specifier}`;
  return d.by === 'requested' ? `${what} (requested)` : `${what} (required by ${d.by})`;
}

/**
 * Picks versions for one level. `constraints` are demands learned from earlier attempts, applied when their name is
 * picked. `available` lists every candidate version per name (for error messages). Throws a LateConflict when an
 * already-picked version fails a new demand, a SockpitError('bad_request') when no version satisfies a name's demands.
 * Deterministic: names are handled in sorted order; ties never arise (one newest version).
 */
export function pickLevel(
  chosen: Map<string, Chosen>,
  demands: readonly Demand[],
  constraints: ReadonlyMap<string, readonly Demand[]>,
  available: ReadonlyMap<string, readonly string[]>,
): LevelResult {
  const byName = new Map<string, Demand[]>();
  for (const d of demands) {
    const list = byName.get(d.name) ?? [];
    list.push(d);
    byName.set(d.name, list);
  }
  const result: LevelResult = { added: [], extended: [] };
  for (const name of [...byName.keys()].sort()) {
    const group = byName.get(name)!;
    const already = chosen.get(name);
    if (already) {
      for (const d of group) {
        if (!d.matching.includes(already.version)) throw new LateConflict(d, already);
        already.demands.push(d);
      }
      const fresh = [...new Set(group.flatMap((d) => d.extras))].filter((e) => !already.extras.has(e)).sort();
      if (fresh.length > 0) {
        for (const e of fresh) already.extras.add(e);
        result.extended.push({ chosen: already, extras: fresh });
      }
      continue;
    }
    const all = [...group, ...(constraints.get(name) ?? [])];
    const empty = all.find((d) => d.matching.length === 0);
    if (empty) {
      const have = available.get(name) ?? [];
      throw new SockpitError(
        'bad_request',
        `no version of ${name} satisfies ${describeDemand(empty)}; ` +
          (have.length === 0 ? `no distribution of ${name} was found` : `available: ${have.join(', ')}`),
        { op: 'packages.resolve' },
      );
    }
    const version = all[0].matching.find((v) => all.every((d) => d.matching.includes(v)));
    if (version === undefined) {
      throw new SockpitError(
        'bad_request',
        `conflicting requirements for ${name}: no version satisfies all of ${all.map(describeDemand).join(', ')}`,
        { op: 'packages.resolve' },
      );
    }
    const picked: Chosen = { name, version, demands: group, extras: new Set(group.flatMap((d) => d.extras)) };
    chosen.set(name, picked);
    result.added.push(picked);
  }
  return result;
}
