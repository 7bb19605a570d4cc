// The function format (OpenLambda's): a folder with f.py defining f(event), an optional requirements.txt and an
// optional ol.yaml whose `environment:` map becomes the function's environment. sockpit also reads an optional
// `limits:` map from ol.yaml (memory_mb, pids, cpus, timeout_ms) that overrides the daemon's defaults.
// Pure parsing and validation: the caller reads the files.

import { parse as parseYaml } from 'yaml';
import { badRequest } from '../errors';
import { FunctionLimits, validateLimits } from '../config';

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** variables the runtime sets itself */
const RESERVED_ENV = new Set(['PATH', 'HOME', 'PYTHONPATH', 'PYTHONHOME', 'LD_PRELOAD', 'LD_LIBRARY_PATH']);

export function validateName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw badRequest(`invalid function name ${JSON.stringify(name)}: use 1-63 of a-z 0-9 _ -, starting with a letter or digit`);
  }
  return name;
}

export interface Requirement {
  name: string;
  /** exact version, or null when only the name is given */
  version: string | null;
}

/** Parses requirements.txt: one `name` or `name==version` a line; comments and blank lines ignored. */
export function parseRequirements(text: string): Requirement[] {
  const out: Requirement[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:==\s*([A-Za-z0-9][A-Za-z0-9.+!_-]*))?$/.exec(line);
    if (!m) throw badRequest(`requirements.txt line ${i + 1}: "${line}" is not "name" or "name==version"`);
    out.push({ name: m[1].toLowerCase().replace(/[-_.]+/g, '-'), version: m[2] ?? null });
  });
  return out;
}

export interface OlYaml {
  environment: Record<string, string>;
  limits: Partial<FunctionLimits>;
  /** none: loopback only; egress (the default, when absent): outbound connections past the daemon's deny list */
  network?: FunctionNetwork;
}

export type FunctionNetwork = 'egress' | 'none';

export function parseOlYaml(text: string): OlYaml {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw badRequest(`ol.yaml is not valid YAML: ${(err as Error).message}`);
  }
  const result: OlYaml = { environment: {}, limits: {} };
  if (doc === null || doc === undefined) return result;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw badRequest('ol.yaml must be a map');
  const { environment, limits, network } = doc as Record<string, unknown>;
  if (network !== undefined && network !== null) {
    if (network !== 'none' && network !== 'egress') throw badRequest(`ol.yaml network: must be "none" or "egress", got ${JSON.stringify(network)}`);
    result.network = network;
  }
  if (environment !== undefined && environment !== null) {
    if (typeof environment !== 'object' || Array.isArray(environment)) throw badRequest('ol.yaml environment: must be a map');
    for (const [key, value] of Object.entries(environment)) {
      if (!ENV_NAME.test(key)) throw badRequest(`ol.yaml environment: "${key}" is not a valid variable name`);
      if (RESERVED_ENV.has(key)) throw badRequest(`ol.yaml environment: ${key} is set by sockpit and cannot be overridden`);
      if (value === null || typeof value === 'object') throw badRequest(`ol.yaml environment.${key}: must be a string, number or boolean`);
      const text = String(value);
      if (text.includes('\0')) throw badRequest(`ol.yaml environment.${key}: contains a NUL byte`);
      result.environment[key] = text;
    }
  }
  if (limits !== undefined && limits !== null) {
    if (typeof limits !== 'object' || Array.isArray(limits)) throw badRequest('ol.yaml limits: must be a map');
    const names: Record<string, keyof FunctionLimits> = { memory_mb: 'memoryMb', pids: 'pids', cpus: 'cpus', timeout_ms: 'timeoutMs' };
    for (const [key, value] of Object.entries(limits)) {
      const field = names[key];
      if (field === undefined) throw badRequest(`ol.yaml limits: unknown limit "${key}" (known: ${Object.keys(names).join(', ')})`);
      if (typeof value !== 'number') throw badRequest(`ol.yaml limits.${key}: must be a number`);
      result.limits[field] = value;
    }
  }
  return result;
}

/** The daemon's defaults overridden by a function's own limits, validated. */
export function effectiveLimits(defaults: FunctionLimits, own: Partial<FunctionLimits>): FunctionLimits {
  const limits = { ...defaults, ...own };
  const problems: string[] = [];
  validateLimits(limits, 'ol.yaml limits', problems);
  if (problems.length > 0) throw badRequest(problems.join('; '), problems);
  return limits;
}
