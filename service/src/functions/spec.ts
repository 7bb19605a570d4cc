// The function format (OpenLambda's): a folder with f.py defining f(event), an optional requirements.txt and an
// optional ol.yaml whose `environment:` map becomes the function's environment. sockpit also reads an optional
// `limits:` map from ol.yaml (memory_mb, pids, cpus, timeout_ms) that overrides the daemon's defaults.
// Pure parsing and validation: the caller reads the files.

import { parse as parseYaml } from 'yaml';
import { badRequest } from '../errors';
import { FunctionLimits, LIMIT_KEYS, validateLimits } from '../config';

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** what one function may hold: the numbers the README's threat model lists */
export const MAX_REQUIREMENTS = 500;
export const MAX_REQUIREMENT_LINE = 1000;
export const MAX_ENV_VARS = 256;
export const MAX_ENV_BYTES = 64 * 1024;
/** YAML documents: lines and commas (they bound every map's size: yaml's duplicate-key check is quadratic), aliases
 *  (a "billion laughs" expands through aliases) */
const MAX_YAML_ENTRIES = 2000;
const MAX_YAML_ALIASES = 100;
const LIMIT_NAMES: Record<keyof FunctionLimits, string> = { memoryMb: 'memory_mb', pids: 'pids', cpus: 'cpus', timeoutMs: 'timeout_ms' };
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
    if (raw.length > MAX_REQUIREMENT_LINE) throw badRequest(`requirements.txt line ${i + 1}: longer than ${MAX_REQUIREMENT_LINE} characters`);
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:==\s*([A-Za-z0-9][A-Za-z0-9.+!_-]*))?$/.exec(line);
    // the text is the caller's own upload: quoting it back shows nothing the caller could not read
    if (!m) throw badRequest(`requirements.txt line ${i + 1}: "${line.slice(0, 200)}" is not "name" or "name==version"`);
    if (out.length >= MAX_REQUIREMENTS) throw badRequest(`requirements.txt: more than ${MAX_REQUIREMENTS} requirements`);
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
  // sizes first: the parse of a map costs more than linear time in its size
  checkYamlSize(text);
  try {
    doc = parseYaml(text, { maxAliasCount: MAX_YAML_ALIASES });
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
    const count = Object.keys(result.environment).length;
    if (count > MAX_ENV_VARS) throw badRequest(`ol.yaml environment: ${count} variables, more than ${MAX_ENV_VARS}`);
    const bytes = Object.entries(result.environment).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v) + 2, 0);
    if (bytes > MAX_ENV_BYTES) throw badRequest(`ol.yaml environment: ${bytes} bytes, more than ${MAX_ENV_BYTES}`);
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

/**
 * The daemon's defaults overridden by a function's own limits, validated; with a ceiling (at deploy), a limit
 * above the operator's `limits.max` is refused, naming it.
 */
export function effectiveLimits(defaults: FunctionLimits, own: Partial<FunctionLimits>, ceiling?: FunctionLimits): FunctionLimits {
  const limits = pickLimits({ ...defaults, ...own });
  const problems: string[] = [];
  validateLimits(limits, 'ol.yaml limits', problems);
  for (const key of ceiling ? LIMIT_KEYS : []) {
    const asked = own[key];
    if (asked !== undefined && asked > ceiling![key]) {
      problems.push(`ol.yaml limits.${LIMIT_NAMES[key]}: ${asked} is above the daemon's ceiling of ${ceiling![key]} (limits.max.${key})`);
    }
  }
  if (problems.length > 0) throw badRequest(problems.join('; '), problems);
  return limits;
}

/** What a call gets: a function deployed before the operator lowered a ceiling is held to the new one. */
export function callLimits(defaults: FunctionLimits, own: Partial<FunctionLimits>, ceiling: FunctionLimits): FunctionLimits {
  const limits = effectiveLimits(defaults, own);
  for (const key of LIMIT_KEYS) limits[key] = Math.min(limits[key], ceiling[key]);
  return limits;
}

function pickLimits(l: FunctionLimits): FunctionLimits {
  return { memoryMb: l.memoryMb, pids: l.pids, cpus: l.cpus, timeoutMs: l.timeoutMs };
}

/**
 * Every entry of a YAML map or list takes a line or a comma of its own, so their count bounds the size of every
 * collection in the document: checked before the parse, in one pass.
 */
function checkYamlSize(text: string): void {
  let separators = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c === 10 || c === 44) && ++separators > MAX_YAML_ENTRIES) {
      throw badRequest(`ol.yaml: more than ${MAX_YAML_ENTRIES} lines and commas (a function's ol.yaml is a few dozen)`);
    }
  }
}
