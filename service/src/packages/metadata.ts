// Pure logic of the package cache, free of I/O: package names and keys, wheel file names, core metadata
// (METADATA / PKG-INFO), Requires-Dist lines, RECORD files and the top-level modules of an installed distribution.
// Version *ordering* and marker/specifier *evaluation* are not here: they need PEP 440/508 to the letter and run in
// pep508.ts's helper with pip's vendored `packaging`.

import { badRequest } from '../errors';

const NAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/;
/** PEP 440 public + local versions, loosely (the helper checks strictly); never starts with '-' (pip option). */
const VERSION = /^[A-Za-z0-9][A-Za-z0-9.+!_-]{0,63}$/;

/** PEP 503 normal form: lowercase, every run of `.`, `_`, `-` becomes one `-`. */
export function normaliseName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** A distribution name as it may be passed to pip, normalised; throws bad_request otherwise. */
export function checkName(name: unknown): string {
  if (typeof name !== 'string' || name.length > 100 || !NAME.test(name)) {
    throw badRequest(`invalid package name ${JSON.stringify(name)}`);
  }
  return normaliseName(name);
}

/** A version as it may be passed to pip (`name==version`); throws bad_request otherwise. */
export function checkVersion(name: string, version: unknown): string {
  if (typeof version !== 'string' || !VERSION.test(version)) {
    throw badRequest(`invalid version ${JSON.stringify(version)} for package ${name}`);
  }
  return version;
}

/** `name==version`, the cache's key and folder name (name normalised). */
export function packageKey(name: string, version: string): string {
  return `${normaliseName(name)}==${version}`;
}

/** The inverse of packageKey; null when `key` is not one (e.g. a stray file in the store). */
export function parseKey(key: string): { name: string; version: string } | null {
  const i = key.indexOf('==');
  if (i <= 0) return null;
  const name = key.slice(0, i);
  const version = key.slice(i + 2);
  if (!NAME.test(name) || normaliseName(name) !== name || !VERSION.test(version)) return null;
  return { name, version };
}

export interface WheelName {
  /** normalised distribution name */
  name: string;
  version: string;
  build: string | null;
  /** the expanded tag triples, e.g. ['py2-none-any', 'py3-none-any'] for py2.py3-none-any */
  tags: string[];
}

/** Parses `{dist}-{version}(-{build})?-{python}-{abi}-{platform}.whl` (PEP 427); null when it is not one. */
export function parseWheelFilename(filename: string): WheelName | null {
  if (!filename.endsWith('.whl')) return null;
  const parts = filename.slice(0, -4).split('-');
  if (parts.length !== 5 && parts.length !== 6) return null;
  const [dist, version] = parts;
  const build = parts.length === 6 ? parts[2] : null;
  const [py, abi, plat] = parts.slice(-3);
  if (!dist || !version || !py || !abi || !plat || (build !== null && !/^\d/.test(build))) return null;
  const tags: string[] = [];
  for (const x of py.split('.')) for (const y of abi.split('.')) for (const z of plat.split('.')) tags.push(`${x}-${y}-${z}`);
  return { name: normaliseName(dist), version, build, tags };
}

/** PEP 427's escaping of a name or version in a wheel file name or .dist-info folder name. */
export function wheelEscape(component: string): string {
  return component.replace(/[^A-Za-z0-9.]+/g, '_');
}

export interface CoreMetadata {
  name: string;
  version: string;
  summary: string | null;
  requiresDist: string[];
  providesExtra: string[];
  requiresPython: string | null;
  /** every header, in order (repeated headers repeat) */
  headers: Array<[string, string]>;
}

/**
 * Parses core metadata (METADATA or PKG-INFO: RFC 822 headers, folded lines continue with whitespace, the body
 * after the first blank line is the description and is ignored). Throws bad_request when Name or Version is missing.
 */
export function parseMetadata(text: string, where = 'METADATA'): CoreMetadata {
  const headers: Array<[string, string]> = [];
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (line === '') break;
    if (/^[ \t]/.test(line)) {
      if (headers.length > 0) headers[headers.length - 1][1] += '\n' + line.trim();
      continue;
    }
    const i = line.indexOf(':');
    if (i <= 0) continue;
    headers.push([line.slice(0, i).trim(), line.slice(i + 1).trim()]);
  }
  const all = (key: string) => headers.filter(([k]) => k.toLowerCase() === key.toLowerCase()).map(([, v]) => v);
  const one = (key: string) => all(key)[0] ?? null;
  const name = one('Name');
  const version = one('Version');
  if (!name || !version) throw badRequest(`${where} has no ${name ? 'Version' : 'Name'} header`);
  return {
    name,
    version,
    summary: one('Summary'),
    requiresDist: all('Requires-Dist'),
    providesExtra: all('Provides-Extra'),
    requiresPython: one('Requires-Python'),
    headers,
  };
}

export interface Dependency {
  /** normalised */
  name: string;
  /** PEP 440 specifier set, '' for any version, e.g. '>=1.1,<2' */
  specifier: string;
  /** PEP 508 environment marker, without the ';' */
  marker?: string;
  /** extras asked of the dependency (`name[socks]`) */
  extras?: string[];
  /** a direct reference (`name @ url`): the cache refuses these, but they are recorded */
  url?: string;
}

/**
 * Parses one Requires-Dist value (PEP 508): `name [extras] (specifier) ; marker`, the specifier with or without
 * parentheses, or `name [extras] @ url ; marker`. Throws bad_request on a line it cannot read.
 */
export function parseRequirement(line: string): Dependency {
  const text = line.trim();
  const m = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[([^\]]*)\])?\s*(.*)$/s.exec(text);
  if (!m) throw badRequest(`cannot read requirement "${line}"`);
  const name = normaliseName(m[1]);
  const extras = (m[2] ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')
    .map(normaliseName);
  let rest = m[3];
  let url: string | undefined;
  let marker: string | undefined;
  let specifier = '';
  if (rest.startsWith('@')) {
    // the URL ends at whitespace followed by ';' (PEP 508: a ';' glued to the URL belongs to it)
    const um = /^@\s*(\S+)(?:\s+;\s*(.*))?$/s.exec(rest);
    if (!um) throw badRequest(`cannot read requirement "${line}"`);
    url = um[1];
    marker = um[2]?.trim() || undefined;
    rest = '';
  } else {
    const semi = rest.indexOf(';');
    if (semi >= 0) {
      marker = rest.slice(semi + 1).trim() || undefined;
      rest = rest.slice(0, semi);
    }
    specifier = rest.trim();
    if (specifier.startsWith('(')) {
      if (!specifier.endsWith(')')) throw badRequest(`cannot read requirement "${line}": unbalanced parentheses`);
      specifier = specifier.slice(1, -1).trim();
    }
    if (specifier !== '') {
      const clauses = specifier.split(',').map((c) => /^\s*(===|~=|==|!=|<=|>=|<|>)\s*([A-Za-z0-9.*+!_-]+)\s*$/.exec(c));
      if (clauses.some((c) => c === null)) throw badRequest(`cannot read requirement "${line}": bad version specifier "${specifier}"`);
      specifier = clauses.map((c) => c![1] + c![2]).join(',');
    }
  }
  const dep: Dependency = { name, specifier };
  if (marker !== undefined) dep.marker = marker;
  if (extras.length > 0) dep.extras = extras;
  if (url !== undefined) dep.url = url;
  return dep;
}

/**
 * Converts a setuptools requires.txt (egg-info) to Requires-Dist values: lines before any section are
 * unconditional, `[extra]`, `[:marker]` and `[extra:marker]` sections add their condition.
 */
export function requiresTxtToRequiresDist(text: string): string[] {
  const out: string[] = [];
  let condition: string | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const section = /^\[(.*)\]$/.exec(line);
    if (section) {
      const [extra, marker] = section[1].split(/:(.*)/s).map((s) => (s ?? '').trim());
      const parts: string[] = [];
      if (marker) parts.push(extra ? `(${marker})` : marker);
      if (extra) parts.push(`extra == "${extra}"`);
      condition = parts.length > 0 ? parts.join(' and ') : null;
      continue;
    }
    out.push(condition ? `${line}; ${condition}` : line);
  }
  return out;
}

export interface RecordEntry {
  path: string;
  hash: string;
  size: number | null;
}

/** Parses a RECORD file (CSV: path,hash,size; paths may be quoted when they hold commas or quotes). */
export function parseRecord(text: string): RecordEntry[] {
  const out: RecordEntry[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const fields = parseCsvLine(line);
    const size = fields[2] ? Number(fields[2]) : null;
    out.push({ path: fields[0] ?? '', hash: fields[1] ?? '', size: size !== null && Number.isFinite(size) ? size : null });
  }
  return out;
}

function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur === '') quoted = true;
    else if (c === ',') {
      fields.push(cur);
      cur = '';
    } else cur += c;
  }
  fields.push(cur);
  return fields;
}

/** One RECORD line for a file (hash = `sha256=<urlsafe base64, no padding>`). */
export function recordLine(path: string, sha256Base64Url: string | null, size: number | null): string {
  const quote = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  return `${quote(path)},${sha256Base64Url === null ? '' : `sha256=${sha256Base64Url}`},${size === null ? '' : size}`;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The importable top-level names among paths relative to an install folder (RECORD entries or a file listing):
 * `pkg/...` gives `pkg`, `mod.py` gives `mod`, `ext.cpython-311-x86_64-linux-gnu.so` gives `ext`. Metadata folders,
 * `__pycache__`, `bin/` and paths outside the folder (`../`) are skipped. Sorted, unique.
 */
export function topLevelFromPaths(paths: Iterable<string>): string[] {
  const names = new Set<string>();
  for (const raw of paths) {
    const p = raw.replace(/\\/g, '/').replace(/^\.\//, '');
    if (p === '' || p.startsWith('../') || p.startsWith('/')) continue;
    const slash = p.indexOf('/');
    if (slash > 0) {
      const dir = p.slice(0, slash);
      if (/\.(dist-info|egg-info|data)$/.test(dir) || dir === '__pycache__' || dir === 'bin') continue;
      // a package (regular or namespace) holds Python code somewhere below it
      if (IDENTIFIER.test(dir) && /\.(py|pyc|so|pyd)$/.test(p)) names.add(dir);
      continue;
    }
    let m = /^([A-Za-z_][A-Za-z0-9_]*)\.(py|pyc|pyd)$/.exec(p);
    if (!m) m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\.[A-Za-z0-9_-]+)?\.so$/.exec(p);
    if (m && m[1] !== '__init__') names.add(m[1]);
  }
  return [...names].sort();
}

/** Reads top_level.txt: one name a line; `a/b` (nested) entries keep only their top component. Sorted, unique. */
export function parseTopLevelTxt(text: string): string[] {
  const names = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    const top = line.trim().split('/')[0];
    if (IDENTIFIER.test(top)) names.add(top);
  }
  return [...names].sort();
}

/** The last `maxLines` useful lines of a tool's output: its ERROR lines when it printed any, else the tail. */
export function outputTail(output: string, maxLines = 6, maxChars = 1500): string {
  const lines = output
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '');
  const errors = lines.filter((l) => /^(ERROR|error|\w*Error\b)/.test(l.trim()));
  let picked = (errors.length > 0 ? errors : lines).slice(-maxLines).join('\n');
  if (picked.length > maxChars) picked = '…' + picked.slice(-maxChars);
  return picked;
}
