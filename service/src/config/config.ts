// sockpitd's configuration: defaults, then a YAML/JSON file, then command-line flags, validated in one place.
// Pure: reading the file is done by the caller (loadConfig in index.ts).

import { parse as parseYaml } from 'yaml';
import { DEFAULT_SOCKET } from '../../../api';
import { SockpitError } from '../errors';
import { parseCidr } from '../network/egress-rules';

export interface FunctionLimits {
  /** memory limit of one sandbox */
  memoryMb: number;
  /** max processes and threads in one sandbox (fork-bomb stop) */
  pids: number;
  /** CPU quota in cores */
  cpus: number;
  /** one call's wall-clock limit */
  timeoutMs: number;
}

export interface Config {
  socket: string;
  /** group that may use the socket (mode 0660); falls back to root when the group does not exist */
  socketGroup: string;
  stateDir: string;
  /** a root filesystem directory, or null to assemble one from the host's /usr */
  base: string | null;
  /** the interpreter inside the base image */
  python: string;
  /** uid/gid function code runs as */
  sandboxUid: number;
  sandboxGid: number;
  pool: { initial: number; max: number };
  /** per sandbox, unless ol.yaml says otherwise; `max`: the operator's ceiling on what ol.yaml may ask for */
  limits: FunctionLimits & { max: FunctionLimits };
  /** each sandbox's /tmp + /host: a tmpfs of its own, sized from its memory limit */
  scratch: {
    /** the share of the sandbox's memory limit its scratch may hold */
    memoryShare: number;
    /** inodes per MB of the memory limit */
    inodesPerMb: number;
  };
  warm: {
    /** idle (frozen) instances are evicted least-recently-used above this total memory */
    memoryBudgetMb: number;
    /** idle instances older than this are destroyed */
    idleTtlMs: number;
  };
  packages: {
    /** a PEP 503 simple index; null = pip's default index, unless findLinks is set */
    indexUrl: string | null;
    /** an offline wheelhouse directory: used with --no-index */
    findLinks: string | null;
    /** install wheels only (no sdist builds: they run arbitrary code on the host) */
    wheelsOnly: boolean;
    /** the host interpreter that runs pip (it needs pip installed) */
    pipPython: string;
    /** what one package may unpack to (read from its wheel before pip runs) and occupy installed */
    maxPackageMb: number;
    maxPackageFiles: number;
    /** the whole cache; packages no deployed function uses are evicted least recently used first */
    maxCacheMb: number;
  };
  zygotes: {
    enabled: boolean;
    /** total memory of the Zygote tree; childless idle Zygotes are evicted by lowest hits per byte above it */
    memoryBudgetMb: number;
    /** a Zygote is grown for a package set once this many calls asked for it (1 = on the first miss) */
    growAfterMisses: number;
    /** every message to a Zygote gets an answer within this time, or the Zygote is taken as dead */
    replyTimeoutMs: number;
    /** the unprivileged host uid/gid that root inside the Zygotes' user namespace maps to */
    hostUid: number;
    hostGid: number;
  };
  network: {
    /**
     * isolated: every sandbox and every Zygote in a network namespace of its own: nothing of the host in it, and
     * outbound connections to other addresses through a user-mode stack (egress). host: the host's network, for
     * comparison benchmarks only (logged loudly).
     */
    mode: 'isolated' | 'host';
    /** network namespaces kept ready per pool (cold sandboxes; the Zygotes' world); at most pool.max each */
    ready: number;
    /** isolated mode: outbound connections (false: loopback only for every function, as `network: none`) */
    egress: boolean;
    /** CIDRs (or addresses) a function may reach though the deny list covers them, e.g. a private API */
    allow: string[];
  };
  /** what the daemon uses of the kernel (kernel/protections.ts) */
  kernel: {
    /**
     * Use this Landlock ABI instead of the kernel's; it may only be lower (a higher one refuses to start). A test
     * seam: it runs the paths of an older kernel (Zygotes off, scoping covered by namespaces) on a new one, and can
     * only take protections away, never add or fake one. null: the kernel's.
     */
    assumeLandlockAbi: number | null;
  };
  /** admission on the socket (api/admission.ts): caps per peer uid and in total, timeouts */
  api: {
    connectionsPerUid: number;
    /** all peers but root together; also kept under half of RLIMIT_NOFILE */
    connections: number;
    /** open GET /v1/events streams */
    subscribersPerUid: number;
    subscribers: number;
    /** a request's headers must arrive within this time */
    headerTimeoutMs: number;
    /** a kept-alive connection with no request for this long is closed */
    idleTimeoutMs: number;
  };
  /** calls served at once; more are refused with 429 rather than queued without bound */
  maxConcurrentCalls: number;
  /** largest request body accepted */
  maxBodyBytes: number;
  /** largest result a function may return (413 beyond) */
  maxResultBytes: number;
  /** what one deploy's upload may hold (functions/upload-limits.ts) */
  deploy: {
    /** bytes of the tar stream (413 beyond) */
    maxBytes: number;
    /** files and directories in it (413 beyond) */
    maxFiles: number;
    /** path components of its deepest entry (413 beyond) */
    maxDepth: number;
  };
}

export const DEFAULT_CONFIG: Config = {
  socket: DEFAULT_SOCKET,
  socketGroup: 'sockpit',
  stateDir: '/var/lib/sockpit',
  base: null,
  python: '/usr/bin/python3',
  sandboxUid: 65534,
  sandboxGid: 65534,
  pool: { initial: 8, max: 512 },
  limits: { memoryMb: 256, pids: 64, cpus: 1, timeoutMs: 30_000, max: { memoryMb: 4096, pids: 1024, cpus: 4, timeoutMs: 900_000 } },
  scratch: { memoryShare: 0.5, inodesPerMb: 256 },
  warm: { memoryBudgetMb: 1024, idleTtlMs: 600_000 },
  packages: { indexUrl: null, findLinks: null, wheelsOnly: true, pipPython: '/usr/bin/python3', maxPackageMb: 1024, maxPackageFiles: 100_000, maxCacheMb: 10_240 },
  zygotes: { enabled: true, memoryBudgetMb: 2048, growAfterMisses: 1, replyTimeoutMs: 10_000, hostUid: 400_000, hostGid: 400_000 },
  network: { mode: 'isolated', ready: 8, egress: true, allow: [] },
  kernel: { assumeLandlockAbi: null },
  api: { connectionsPerUid: 256, connections: 1024, subscribersPerUid: 16, subscribers: 64, headerTimeoutMs: 10_000, idleTimeoutMs: 30_000 },
  maxConcurrentCalls: 64,
  maxBodyBytes: 6 * 1024 * 1024,
  maxResultBytes: 6 * 1024 * 1024,
  deploy: { maxBytes: 64 * 1024 * 1024, maxFiles: 10_000, maxDepth: 32 },
};

/** What the command line may set; undefined means "not given". */
export interface ConfigFlags {
  socket?: string;
  stateDir?: string;
  base?: string;
  python?: string;
  poolSize?: number;
  indexUrl?: string;
  findLinks?: string;
  noZygotes?: boolean;
}

/** settings that are a string or null */
/** settings that may be null, and the type they have otherwise */
const NULLABLE = new Map<string, 'string' | 'number'>([
  ['base', 'string'],
  ['indexUrl', 'string'],
  ['findLinks', 'string'],
  ['assumeLandlockAbi', 'number'],
]);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function parseConfigText(text: string, source: string): Record<string, Json> {
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new SockpitError('bad_request', `${source}: not valid YAML or JSON: ${(err as Error).message}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new SockpitError('bad_request', `${source}: the configuration must be a map`);
  }
  return value as Record<string, Json>;
}

/** Merges defaults, file and flags, and validates the result. Unknown keys are errors: a typo must not pass. */
export function buildConfig(file: Record<string, Json>, flags: ConfigFlags, source = 'config'): Config {
  const problems: string[] = [];
  const cfg: Config = structuredClone(DEFAULT_CONFIG);
  mergeInto(cfg as unknown as Record<string, Json>, file, source, problems);
  if (flags.socket !== undefined) cfg.socket = flags.socket;
  if (flags.stateDir !== undefined) cfg.stateDir = flags.stateDir;
  if (flags.base !== undefined) cfg.base = flags.base;
  if (flags.python !== undefined) cfg.python = flags.python;
  if (flags.poolSize !== undefined) cfg.pool.initial = flags.poolSize;
  if (flags.indexUrl !== undefined) cfg.packages.indexUrl = flags.indexUrl;
  if (flags.findLinks !== undefined) cfg.packages.findLinks = flags.findLinks;
  if (flags.noZygotes) cfg.zygotes.enabled = false;
  validate(cfg, problems);
  if (problems.length > 0) {
    throw new SockpitError('bad_request', `invalid configuration:\n  ${problems.join('\n  ')}`, { detail: problems });
  }
  return cfg;
}

function mergeInto(target: Record<string, Json>, patch: Record<string, Json>, at: string, problems: string[]): void {
  for (const [key, value] of Object.entries(patch)) {
    const where = `${at}.${key}`;
    if (!(key in target)) {
      problems.push(`${where}: unknown setting`);
      continue;
    }
    const current = target[key];
    if (current !== null && typeof current === 'object' && !Array.isArray(current)) {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        problems.push(`${where}: must be a map`);
        continue;
      }
      mergeInto(current, value, where, problems);
      continue;
    }
    const nullable = NULLABLE.has(key);
    const expected = NULLABLE.get(key) ?? typeof current;
    if (value !== null && typeof value !== expected) {
      problems.push(`${where}: must be a ${expected}, got ${JSON.stringify(value)}`);
      continue;
    }
    if (value === null && !nullable) {
      problems.push(`${where}: must not be null`);
      continue;
    }
    target[key] = value;
  }
}

function validate(cfg: Config, problems: string[]): void {
  const absolute = (name: string, value: string | null) => {
    if (value !== null && !value.startsWith('/')) problems.push(`${name}: must be an absolute path, got "${value}"`);
  };
  absolute('socket', cfg.socket);
  absolute('stateDir', cfg.stateDir);
  absolute('base', cfg.base);
  absolute('python', cfg.python);
  // sun_path holds 108 bytes including the terminating NUL
  if (Buffer.byteLength(cfg.socket) > 107) problems.push(`socket: path longer than 107 bytes`);
  if (cfg.stateDir === '/') problems.push('stateDir: must not be /');
  const int = (name: string, value: number, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name}: must be an integer in [${min}, ${max}], got ${value}`);
    }
  };
  int('sandboxUid', cfg.sandboxUid, 1, 2 ** 32 - 2);
  int('sandboxGid', cfg.sandboxGid, 1, 2 ** 32 - 2);
  int('pool.initial', cfg.pool.initial, 0, 4096);
  int('pool.max', cfg.pool.max, 1, 65536);
  if (cfg.pool.initial > cfg.pool.max) problems.push('pool.initial: must not exceed pool.max');
  validateLimits(cfg.limits, 'limits', problems);
  if (!(cfg.scratch.memoryShare > 0 && cfg.scratch.memoryShare <= 1)) {
    problems.push(`scratch.memoryShare: must be a number in (0, 1], got ${cfg.scratch.memoryShare}`);
  }
  int('scratch.inodesPerMb', cfg.scratch.inodesPerMb, 1, 1 << 16);
  validateLimits(cfg.limits.max, 'limits.max', problems);
  for (const key of LIMIT_KEYS) {
    if (cfg.limits[key] > cfg.limits.max[key]) problems.push(`limits.${key}: ${cfg.limits[key]} is above limits.max.${key} (${cfg.limits.max[key]})`);
  }
  int('warm.memoryBudgetMb', cfg.warm.memoryBudgetMb, 0, 1 << 20);
  int('warm.idleTtlMs', cfg.warm.idleTtlMs, 0, 7 * 24 * 3600_000);
  absolute('packages.findLinks', cfg.packages.findLinks);
  absolute('packages.pipPython', cfg.packages.pipPython);
  if (cfg.packages.indexUrl !== null && !/^https?:\/\/\S+$/.test(cfg.packages.indexUrl)) {
    problems.push(`packages.indexUrl: must be an http(s) URL, got "${cfg.packages.indexUrl}"`);
  }
  if (cfg.packages.indexUrl !== null && cfg.packages.findLinks !== null) {
    problems.push('packages: set indexUrl or findLinks, not both');
  }
  int('packages.maxPackageMb', cfg.packages.maxPackageMb, 1, 1 << 20);
  int('packages.maxPackageFiles', cfg.packages.maxPackageFiles, 1, 1 << 24);
  int('packages.maxCacheMb', cfg.packages.maxCacheMb, 1, 1 << 24);
  if (cfg.packages.maxPackageMb > cfg.packages.maxCacheMb) problems.push('packages.maxPackageMb: must not exceed packages.maxCacheMb');
  int('zygotes.memoryBudgetMb', cfg.zygotes.memoryBudgetMb, 0, 1 << 20);
  int('zygotes.growAfterMisses', cfg.zygotes.growAfterMisses, 1, 1 << 20);
  int('zygotes.replyTimeoutMs', cfg.zygotes.replyTimeoutMs, 100, 600_000);
  int('zygotes.hostUid', cfg.zygotes.hostUid, 1, 2 ** 32 - 2);
  int('zygotes.hostGid', cfg.zygotes.hostGid, 1, 2 ** 32 - 2);
  if (cfg.zygotes.hostUid === cfg.sandboxUid) problems.push('zygotes.hostUid: must differ from sandboxUid');
  if (cfg.network.mode !== 'isolated' && cfg.network.mode !== 'host') {
    problems.push(`network.mode: must be "isolated" or "host", got ${JSON.stringify(cfg.network.mode)}`);
  }
  int('network.ready', cfg.network.ready, 0, 4096);
  if (cfg.network.ready > cfg.pool.max) problems.push('network.ready: must not exceed pool.max');
  if (!Array.isArray(cfg.network.allow) || cfg.network.allow.length > 256) problems.push('network.allow: must be a list of at most 256 CIDRs');
  else {
    for (const entry of cfg.network.allow as unknown[]) {
      if (typeof entry !== 'string' || parseCidr(entry) === null) problems.push(`network.allow: ${JSON.stringify(entry)} is not an IPv4 or IPv6 address or CIDR`);
    }
  }
  if (cfg.kernel.assumeLandlockAbi !== null) int('kernel.assumeLandlockAbi', cfg.kernel.assumeLandlockAbi, 0, 1 << 16);
  int('api.connectionsPerUid', cfg.api.connectionsPerUid, 1, 1 << 20);
  int('api.connections', cfg.api.connections, 1, 1 << 20);
  int('api.subscribersPerUid', cfg.api.subscribersPerUid, 1, 1 << 16);
  int('api.subscribers', cfg.api.subscribers, 1, 1 << 16);
  // below the request timeout (30 s): Node refuses a header timeout above it
  int('api.headerTimeoutMs', cfg.api.headerTimeoutMs, 100, 29_000);
  int('api.idleTimeoutMs', cfg.api.idleTimeoutMs, 100, 3600_000);
  int('maxConcurrentCalls', cfg.maxConcurrentCalls, 1, 65536);
  int('maxBodyBytes', cfg.maxBodyBytes, 1024, 1 << 30);
  int('maxResultBytes', cfg.maxResultBytes, 1024, 1 << 30);
  int('deploy.maxBytes', cfg.deploy.maxBytes, 1024, 2 ** 40);
  int('deploy.maxFiles', cfg.deploy.maxFiles, 1, 1 << 24);
  int('deploy.maxDepth', cfg.deploy.maxDepth, 1, 256);
}

export const LIMIT_KEYS = ['memoryMb', 'pids', 'cpus', 'timeoutMs'] as const satisfies ReadonlyArray<keyof FunctionLimits>;

export function validateLimits(limits: FunctionLimits, at: string, problems: string[]): void {
  const check = (name: keyof FunctionLimits, min: number, max: number, integer = true) => {
    const value = limits[name];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      problems.push(`${at}.${name}: must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${JSON.stringify(value)}`);
    }
  };
  check('memoryMb', 16, 1 << 20);
  check('pids', 4, 1 << 20);
  check('cpus', 0.01, 1024, false);
  check('timeoutMs', 10, 24 * 3600_000);
}
