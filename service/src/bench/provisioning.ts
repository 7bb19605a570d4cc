// `sockpit bench provisioning`: what Zygotes buy, measured side by side in one run on real libraries (Debian's
// requests, flask, numpy and pandas, repacked as wheels into a temp wheelhouse so they go through the package
// cache like any package). For a function that imports nothing and one per library:
//  1. start-up latency end to end (client side) of a cold start with Zygotes off, a Zygote hit and a warm call;
//  2. the memory one more instance costs (PSS), forked from a Zygote vs started cold.
// Each tier comes from its own daemon, so every sample is the tier it claims (the X-Sockpit-Tier header is
// checked, and a sample from another tier is left out):
//   cold   Zygotes off, no warm instances kept       → every call starts a fresh interpreter
//   zygote Zygotes on, no warm instances kept        → every call after the first forks from the Zygote tree
//   warm   Zygotes off, warm instances kept          → every call after the first thaws the idle instance;
//          also where a cold-started instance's memory is measured (it stays, parked)
//   zmem   Zygotes on, warm instances kept           → where a Zygote-forked instance's memory is measured
// measureProvisioningBench() measures and returns the report; runProvisioningBench() prints it.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunResult } from '../client';
import { cgroupTag } from '../daemon/daemon';
import { VERSION } from '../paths';
import { readLayout } from '../cgroups';
import { removeTree } from '../sandbox/rootfs';
import { mark, rotate, startDaemon, target, type DaemonChild, type Target, stopDaemons } from './daemons';
import { ownCgroupDirs } from './peers';
import { progressWriter, watchInterrupts, type ProgressFn } from './progress';
import { formatMs, formatRatio, ratio, renderTable, summarize, type Summary } from './stats';
import { buildDebianWheelhouse } from './wheelhouse';

export interface ProvisioningBenchOptions {
  json: boolean;
  progressJson?: boolean;
  /** Zygote hits and warm calls per function (default 30); cold starts are a third of it, at least 1 */
  iterations?: number;
}

export interface TierStats {
  summary: Summary;
  /** the daemon's own Server-Timing "total", p50 */
  serverTotalP50: number;
  /** p50 of each Server-Timing phase */
  phasesP50: Record<string, number>;
  /** samples left out because the call was served from another tier (or the tree grew) */
  wrongTier: number;
}

export interface FunctionRow {
  key: string;
  label: string;
  /** the requirement deployed (name==version), null for the function without imports */
  requirement: string | null;
  /** the resolved closure */
  packages: string[];
  cold: TierStats;
  zygote: TierStats;
  warm: TierStats;
  speedup: { coldOverZygote: number; coldOverWarm: number };
  /** cold p50 minus the cold p50 of the function that imports nothing: what the import costs */
  importCostMs: number;
}

export interface MemorySample {
  /** how much the summed PSS of every sandboxed process grew with one more instance (median), MB */
  marginalPssMb: number;
  /** the new instance's own PSS (shared pages split between their users), MB, median */
  instancePssMb: number;
  /** the new instance's private memory (USS: Private_Clean + Private_Dirty), MB, median */
  instanceUssMb: number;
  instanceRssMb: number;
  samples: number;
  /** calls served from another tier, left out */
  wrongTier: number;
}

export interface MemoryRow {
  key: string;
  zygote: MemorySample | null;
  cold: MemorySample | null;
}

export interface ZygoteRow {
  id: string;
  parent: string | null;
  packages: string[];
  memoryMb: number;
  hits: number;
}

export interface ProvisioningReport {
  benchmark: 'provisioning';
  version: string;
  startedAt: string;
  durationSeconds: number;
  host: { kernel: string; cpus: number; cgroupMode: string; node: string };
  /** quietMs: the pause before each timed call */
  iterations: { cold: number; zygote: number; warm: number; memory: number; warmup: number; quietMs: number };
  /** the wheelhouse: distribution → version */
  packages: Record<string, string>;
  functions: FunctionRow[];
  memory: MemoryRow[];
  /** the Zygote tree of the zygote daemon at the end */
  zygotes: ZygoteRow[];
  paper: { zygoteSpeedupImportHeavy: number; popularImportMs: number; source: string };
  targets: Target[];
  notes: string[];
}

const DEFAULT_ITERATIONS = 30;
const PIP_PYTHON = '/usr/bin/python3';
const LIBRARIES = ['requests', 'flask', 'numpy', 'pandas'] as const;
/** after a call, before memory is read: instances freeze 50 ms after their call, Zygotes 200 ms after a fork */
const SETTLE_MS = 400;
/**
 * before each measured call: what the last call left to do after its response (a sandbox's teardown, a
 * Zygote's new spares: 3-10 ms, starting 5 ms after the response) is done by then, so no call is timed while
 * it shares the two CPUs with the clean-up of another. Back to back, the short calls (Zygote hits, warm
 * calls) paid for the clean-up of the long ones.
 */
const QUIET_MS = 40;
const now = (): number => performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs the benchmark and prints it. */
export async function runProvisioningBench(opts: ProvisioningBenchOptions): Promise<ProvisioningReport> {
  if (process.getuid?.() !== 0) throw new Error('sockpit bench provisioning must run as root (it starts daemons, like sockpitd)');
  const report = await measureProvisioningBench(opts, progressWriter(Boolean(opts.progressJson), (line) => process.stderr.write(line)));
  console.log(opts.json ? JSON.stringify(report, null, 2) : formatProvisioningReport(report));
  return report;
}


interface BenchFunction {
  key: string;
  label: string;
  module: string | null;
  requirement: string | null;
  dir: string;
}

interface Sample {
  ms: number;
  tier: string | null;
  serverTotal: number;
  timings: Record<string, number>;
  sandbox: string | null;
}

/** Cost units of one call, for the progress fraction: a cold start is far dearer than the rest. */
const COST = { cold: 10, zygote: 1, warm: 1 } as const;

export async function measureProvisioningBench(opts: { iterations?: number }, onProgress: ProgressFn = () => {}): Promise<ProvisioningReport> {
  const n = opts.iterations ?? DEFAULT_ITERATIONS;
  if (!Number.isInteger(n) || n < 1) throw new Error(`iterations must be a positive integer, got ${n}`);
  const counts = { cold: Math.max(1, Math.ceil(n / 3)), zygote: n, warm: n, memory: Math.min(3, Math.max(1, Math.ceil(n / 10))), warmup: 1, quietMs: QUIET_MS };
  const started = new Date();
  const t0 = now();
  const notes: string[] = [];

  const interrupts = watchInterrupts(onProgress);
  const check = interrupts.check;

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sockpit-bench-prov-'));
  const daemons: DaemonChild[] = [];
  let report: ProvisioningReport | undefined;
  try {
    // --- the libraries: pip for the package cache, the wheels from Debian's packages
    onProgress('checking pip and building the wheelhouse from Debian packages (apt-get when missing)', 0.01);
    notes.push(...ensurePip());
    const wheelDir = path.join(tmp, 'wheels');
    const wheelhouse = await buildDebianWheelhouse(wheelDir, [...LIBRARIES], { log: (line) => onProgress(line) });
    await check();

    const fns: BenchFunction[] = [
      { key: 'noimport', label: 'no imports', module: null, requirement: null, dir: '' },
      ...LIBRARIES.map((lib) => ({ key: lib, label: `import ${lib}`, module: lib, requirement: `${lib}==${wheelhouse.packages[lib]}`, dir: '' })),
    ];
    for (const f of fns) {
      f.dir = path.join(tmp, 'code', f.key);
      fs.mkdirSync(f.dir, { recursive: true });
      fs.writeFileSync(path.join(f.dir, 'f.py'), functionSource(f.module));
      if (f.requirement) fs.writeFileSync(path.join(f.dir, 'requirements.txt'), `${f.requirement}\n`);
    }

    // --- the daemons, side by side
    onProgress('starting four daemons (cold, zygote, warm, zygote-memory)', 0.1);
    const packages = { findLinks: wheelDir };
    const configs: Array<[string, object]> = [
      ['cold', { packages, zygotes: { enabled: false }, warm: { memoryBudgetMb: 0 } }],
      ['zygote', { packages, warm: { memoryBudgetMb: 0 } }],
      ['warm', { packages, zygotes: { enabled: false }, warm: { memoryBudgetMb: 8192 } }],
      ['zmem', { packages, warm: { memoryBudgetMb: 8192 } }],
    ];
    for (const [key, config] of configs) daemons.push(startDaemon(tmp, key, config));
    await Promise.all(daemons.map((d) => d.ready));
    const [coldD, zygD, warmD, zmemD] = daemons;
    await check();
    onProgress('deploying the functions (each daemon installs the packages into its own cache)', 0.14);
    const closures = new Map<string, string[]>();
    await Promise.all(
      daemons.map(async (d) => {
        for (const f of fns) {
          const info = await d.client.deploy(f.key, f.dir);
          closures.set(f.key, info.packages);
        }
      }),
    );
    await check();

    const call = async (d: DaemonChild, f: BenchFunction, i: number): Promise<Sample> => {
      const a = now();
      const r = await d.client.run(f.key, { n: i });
      const ms = now() - a;
      expectOk(d, f, r, i);
      return { ms, tier: r.tier, serverTotal: r.timings.total ?? NaN, timings: r.timings, sandbox: r.sandbox };
    };

    // --- warm-up: the first cold start (page cache), the tree's growth, the first warm instance
    onProgress('warming up: a cold start each, the Zygote tree grows, warm instances parked', 0.3);
    const grown = new Map<string, Sample>();
    for (const f of fns) {
      await call(coldD, f, -1);
      grown.set(f.key, await call(zygD, f, -1)); // grows the tree (or forks from the base)
      await call(zygD, f, -2); // the first hit
      await call(warmD, f, -1);
      await check();
    }
    for (const f of fns) {
      const g = grown.get(f.key)!;
      if (g.tier !== 'zygote') notes.push(`${f.key}: the first call on the Zygote daemon was served ${g.tier}, not from a Zygote`);
      else if (f.module && !('grow' in g.timings)) notes.push(`${f.key}: the first call did not grow the tree`);
    }

    // --- the measurement: iterations × functions × tiers, the tiers rotated
    type Mode = 'cold' | 'zygote' | 'warm';
    const modes: Array<{ mode: Mode; daemon: DaemonChild; count: number }> = [
      { mode: 'cold', daemon: coldD, count: counts.cold },
      { mode: 'zygote', daemon: zygD, count: counts.zygote },
      { mode: 'warm', daemon: warmD, count: counts.warm },
    ];
    const samples = new Map<string, Record<Mode, { kept: Sample[]; wrong: number; why: string[] }>>(
      fns.map((f) => [f.key, { cold: { kept: [], wrong: 0, why: [] }, zygote: { kept: [], wrong: 0, why: [] }, warm: { kept: [], wrong: 0, why: [] } }]),
    );
    const totalCost = fns.length * modes.reduce((acc, m) => acc + m.count * COST[m.mode], 0);
    let done = 0;
    const rounds = Math.max(...modes.map((m) => m.count));
    onProgress(`measuring: ${counts.cold} cold, ${counts.zygote} Zygote, ${counts.warm} warm calls per function, ${fns.length} functions`, 0.35);
    for (let i = 0; i < rounds; i++) {
      for (const [k, f] of fns.entries()) {
        for (const m of rotate(modes, i + k)) {
          if (i >= m.count) continue;
          await sleep(QUIET_MS);
          const s = await call(m.daemon, f, i);
          const bucket = samples.get(f.key)![m.mode];
          // a Zygote hit that grew the tree is not a hit
          if (s.tier !== m.mode || (m.mode === 'zygote' && 'grow' in s.timings)) {
            bucket.wrong++;
            bucket.why.push(`${s.tier}${'grow' in s.timings ? ` (grew ${formatMs(s.timings.grow)} ms)` : ''}`);
          } else bucket.kept.push(s);
          done += COST[m.mode];
        }
        await check();
      }
      onProgress(`  round ${i + 1}/${rounds}`, 0.35 + (0.45 * done) / totalCost);
    }

    const tierStats = (f: BenchFunction, mode: Mode): TierStats => {
      const { kept, wrong, why } = samples.get(f.key)![mode];
      if (kept.length === 0) throw new Error(`${f.key}: no call was served from the ${mode} tier (${wrong} from another)`);
      const phaseNames = [...new Set(kept.flatMap((s) => Object.keys(s.timings)))];
      const phasesP50: Record<string, number> = {};
      for (const p of phaseNames) {
        const xs = kept.map((s) => s.timings[p]).filter((x): x is number => Number.isFinite(x));
        if (xs.length > 0) phasesP50[p] = summarize(xs).p50;
      }
      const server = kept.map((s) => s.serverTotal).filter(Number.isFinite);
      if (wrong > 0) notes.push(`${f.key}: ${wrong} of the ${mode}-tier calls were served ${why.join(', ')}: left out`);
      return { summary: summarize(kept.map((s) => s.ms)), serverTotalP50: server.length ? summarize(server).p50 : NaN, phasesP50, wrongTier: wrong };
    };
    const rows: FunctionRow[] = fns.map((f) => {
      const cold = tierStats(f, 'cold');
      const zygote = tierStats(f, 'zygote');
      const warm = tierStats(f, 'warm');
      return {
        key: f.key,
        label: f.label,
        requirement: f.requirement,
        packages: closures.get(f.key) ?? [],
        cold,
        zygote,
        warm,
        speedup: { coldOverZygote: ratio(cold.summary.p50, zygote.summary.p50), coldOverWarm: ratio(cold.summary.p50, warm.summary.p50) },
        importCostMs: NaN,
      };
    });
    const bare = rows[0].cold.summary.p50;
    for (const r of rows) r.importCostMs = r.key === 'noimport' ? 0 : r.cold.summary.p50 - bare;

    // --- memory: one more instance, forked from a Zygote (zmem daemon) or started cold (warm daemon)
    onProgress(`memory: ${counts.memory} more instance(s) per function and tier`, 0.8);
    const memory: MemoryRow[] = [];
    for (const [k, f] of fns.entries()) {
      const zygote = await measureMemory(zmemD, f, 'zygote', counts.memory, tmp, notes);
      await check();
      const cold = await measureMemory(warmD, f, 'cold', counts.memory, tmp, notes);
      await check();
      memory.push({ key: f.key, zygote, cold });
      onProgress(`  memory ${f.key}`, 0.8 + (0.15 * (k + 1)) / fns.length);
    }

    const tree = await zygD.client.zygotes();
    const zygotes: ZygoteRow[] = tree.map((z) => ({ id: z.id, parent: z.parent, packages: z.packages, memoryMb: z.memoryBytes / 2 ** 20, hits: z.hits }));

    // --- targets
    const pandas = rows.find((r) => r.key === 'pandas')!;
    const none = rows[0];
    const pandasMem = memory.find((m) => m.key === 'pandas')?.zygote?.marginalPssMb ?? NaN;
    const targets: Target[] = [
      target('pandas: Zygote hit vs Zygotes off (cold p50 / Zygote p50)', '≥ 45x', pandas.speedup.coldOverZygote, pandas.speedup.coldOverZygote >= 45, `${formatRatio(pandas.speedup.coldOverZygote)} (${formatMs(pandas.cold.summary.p50)} vs ${formatMs(pandas.zygote.summary.p50)} ms)`),
      target('pandas: Zygote hit p50, end to end', '≤ 15 ms', pandas.zygote.summary.p50, pandas.zygote.summary.p50 <= 15, `${formatMs(pandas.zygote.summary.p50)} ms`),
      target('no imports: Zygote hit vs Zygotes off', '≥ 5x', none.speedup.coldOverZygote, none.speedup.coldOverZygote >= 5, `${formatRatio(none.speedup.coldOverZygote)} (${formatMs(none.cold.summary.p50)} vs ${formatMs(none.zygote.summary.p50)} ms)`),
      target('pandas: one more instance forked from a Zygote (Δ PSS)', '≤ 10 MB', pandasMem, pandasMem <= 10, `${formatMb(pandasMem)} MB`),
    ];

    report = {
      benchmark: 'provisioning',
      version: VERSION,
      startedAt: started.toISOString(),
      durationSeconds: 0,
      host: { kernel: os.release(), cpus: os.cpus().length, cgroupMode: readLayout().mode, node: process.version },
      iterations: counts,
      packages: wheelhouse.packages,
      functions: rows,
      memory,
      zygotes,
      paper: {
        zygoteSpeedupImportHeavy: 45,
        popularImportMs: 100,
        source: 'SOCK (Oakes et al., USENIX ATC 2018): Zygote provisioning 45x faster than lean containers without Zygotes for import-heavy functions; popular imports ~100 ms',
      },
      targets,
      notes,
    };
  } finally {
    interrupts.dispose();
    onProgress('cleaning up', 0.97);
    const problems: string[] = [];
    problems.push(...(await stopDaemons(daemons)));
    try {
      removeTree(tmp);
    } catch (err) {
      problems.push(`${tmp}: ${(err as Error).message}`);
    }
    if (fs.existsSync(tmp)) problems.push(`${tmp} still exists`);
    const tags = daemons.map((d) => cgroupTag(d.stateDir));
    for (const own of ownCgroupDirs()) {
      let names: string[] = [];
      try {
        names = fs.readdirSync(own);
      } catch {
        continue;
      }
      for (const name of names) if (tags.includes(name)) problems.push(`cgroup ${path.join(own, name)}`);
    }
    if (problems.length === 0) notes.push(`clean-up checked: ${daemons.length} daemons stopped, no cgroups of theirs left, ${tmp} removed`);
    else {
      const msg = `clean-up problems:\n  ${problems.join('\n  ')}`;
      if (report) report.notes.push(msg);
      else onProgress(msg);
    }
  }
  if (!report) throw new Error('internal: no report');
  report.durationSeconds = (now() - t0) / 1000;
  return report;
}

function functionSource(module: string | null): string {
  const imp = module ? `import ${module}\n` : '';
  const version = module ? `${module}.__version__` : 'None';
  return `${imp}\ndef f(event):\n    return {"n": event["n"], "version": ${version}}\n`;
}

function expectOk(d: DaemonChild, f: BenchFunction, r: RunResult, i: number): void {
  if (r.status !== 200) {
    const tb = (r.error?.detail as { traceback?: string } | undefined)?.traceback;
    throw new Error(`${d.key} daemon: run ${f.key} answered ${r.status} ${r.error?.code}: ${r.error?.message}${tb ? `\n${tb}` : ''}`);
  }
  const result = r.result as { n?: unknown } | null;
  if (result?.n !== i) throw new Error(`${d.key} daemon: ${f.key} returned ${JSON.stringify(r.result)} for {"n": ${i}}`);
}

/** pip for the package cache (the python3-* libraries themselves are buildDebianWheelhouse's job) */
function ensurePip(): string[] {
  const has = () => spawnSync(PIP_PYTHON, ['-m', 'pip', '--version'], { stdio: 'ignore' }).status === 0;
  if (has()) return [];
  const r = spawnSync('apt-get', ['install', '-y', 'python3-pip'], { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0 || !has()) throw new Error(`${PIP_PYTHON} has no pip and apt-get install python3-pip failed: ${(r.stderr || r.stdout || '').trim().split('\n').slice(-3).join(' / ')}`);
  return ['installed python3-pip with apt-get'];
}

/**
 * One more instance of `f` on daemon `d`, `count` times: each under a new function name (same code), so each
 * call makes a new instance that stays parked. Returns the medians, then removes those functions again.
 */
async function measureMemory(d: DaemonChild, f: BenchFunction, tier: 'zygote' | 'cold', count: number, tmp: string, notes: string[]): Promise<MemorySample | null> {
  const names = Array.from({ length: count }, (_, j) => `${f.key}-mem${j + 1}`);
  for (const name of names) await d.client.deploy(name, f.dir);
  const marginal: number[] = [];
  const own: Array<{ pss: number; uss: number; rss: number }> = [];
  let wrong = 0;
  const wrongTiers: string[] = [];
  try {
    // the function itself has run here already (the tree grew, its instance is parked): the baseline
    const r0 = await d.client.run(f.key, { n: 0 });
    if (r0.status !== 200) throw new Error(`${d.key} daemon: run ${f.key} answered ${r0.status}: ${r0.error?.message}`);
    await sleep(SETTLE_MS);
    let before = sumMemory(processesUnder(tmp));
    for (const name of names) {
      const r = await d.client.run(name, { n: 1 });
      if (r.status !== 200) throw new Error(`${d.key} daemon: run ${name} answered ${r.status}: ${r.error?.message}`);
      await sleep(SETTLE_MS);
      const procs = processesUnder(tmp);
      const after = sumMemory(procs);
      if (r.tier !== tier || !r.sandbox) {
        wrong++;
        wrongTiers.push(`${r.tier}${r.timings.fork === undefined ? '' : ` (fork ${formatMs(r.timings.fork)} ms)`}`);
      } else {
        const mine = procs.filter((p) => p.root.includes(`/sandboxes/${r.sandbox}/`));
        if (mine.length === 0) notes.push(`${d.key}: no process found in sandbox ${r.sandbox} of ${name}`);
        else {
          own.push(sumMemory(mine));
          marginal.push(after.pss - before.pss);
        }
      }
      before = after;
    }
  } finally {
    for (const name of names) await d.client.remove(name).catch(() => {});
  }
  if (wrong > 0) notes.push(`${f.key}: ${wrong} memory sample(s) on the ${d.key} daemon were served ${wrongTiers.join(', ')}, not from the ${tier} tier: left out`);
  if (marginal.length === 0) return null;
  const mb = (kb: number[]) => summarize(kb).p50 / 1024;
  return {
    marginalPssMb: mb(marginal),
    instancePssMb: mb(own.map((o) => o.pss)),
    instanceUssMb: mb(own.map((o) => o.uss)),
    instanceRssMb: mb(own.map((o) => o.rss)),
    samples: marginal.length,
    wrongTier: wrong,
  };
}

export interface SmapsRollup {
  /** kB */
  rss: number;
  pss: number;
  /** Private_Clean + Private_Dirty */
  uss: number;
}

/** The fields we use of /proc/<pid>/smaps_rollup (values in kB). */
export function parseSmapsRollup(text: string): SmapsRollup {
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };
  return { rss: field('Rss'), pss: field('Pss'), uss: field('Private_Clean') + field('Private_Dirty') };
}

interface ProcMemory extends SmapsRollup {
  pid: number;
  root: string;
}

/** Every process whose root directory is under `dir` (the sandboxes of our daemons), with its memory. */
function processesUnder(dir: string): ProcMemory[] {
  const out: ProcMemory[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const root = fs.readlinkSync(`/proc/${entry}/root`);
      if (!root.startsWith(`${dir}/`)) continue;
      out.push({ pid: Number(entry), root, ...parseSmapsRollup(fs.readFileSync(`/proc/${entry}/smaps_rollup`, 'utf8')) });
    } catch {
      // gone while we looked, or a kernel thread
    }
  }
  return out;
}

function sumMemory(procs: SmapsRollup[]): SmapsRollup {
  return procs.reduce((acc, p) => ({ rss: acc.rss + p.rss, pss: acc.pss + p.pss, uss: acc.uss + p.uss }), { rss: 0, pss: 0, uss: 0 });
}

function formatMb(mb: number): string {
  return Number.isFinite(mb) ? mb.toFixed(1) : '-';
}

// ---------------------------------------------------------------------------------------------------------
// printing

export function formatProvisioningReport(r: ProvisioningReport): string {
  const out: string[] = [];
  const it = r.iterations;
  out.push(
    `sockpit ${r.version} bench provisioning — ${r.startedAt}, Linux ${r.host.kernel}, ${r.host.cpus} CPUs, cgroups ${r.host.cgroupMode}, ${r.durationSeconds.toFixed(0)} s`,
  );
  out.push(
    `samples per function: ${it.cold} cold (Zygotes off), ${it.zygote} Zygote hits, ${it.warm} warm calls, after ${it.warmup} warm-up each; tiers rotated, each call after a ${it.quietMs} ms pause (the last one's clean-up done); ${it.memory} more instance(s) per memory cell`,
  );
  out.push(`libraries: Debian's, repacked as wheels: ${Object.entries(r.packages).map(([k, v]) => `${k}==${v}`).join(' ')}`);
  out.push('');

  out.push('1. Start-up end to end: client.run(f, {"n": i}) through the socket (ms, client side)');
  out.push(
    renderTable(
      ['function', 'cold p50', 'p99', 'Zygote p50', 'p99', 'warm p50', 'p99', 'cold/Zygote', 'cold/warm', 'import cost', 'SOCK paper'],
      r.functions.map((f) => [
        f.label,
        formatMs(f.cold.summary.p50),
        formatMs(f.cold.summary.p99),
        formatMs(f.zygote.summary.p50),
        formatMs(f.zygote.summary.p99),
        formatMs(f.warm.summary.p50),
        formatMs(f.warm.summary.p99),
        formatRatio(f.speedup.coldOverZygote),
        formatRatio(f.speedup.coldOverWarm),
        f.key === 'noimport' ? '' : formatMs(f.importCostMs),
        f.key === 'noimport' ? '' : f.key === 'pandas' ? `${r.paper.zygoteSpeedupImportHeavy}x; ~${r.paper.popularImportMs} ms import` : `~${r.paper.popularImportMs} ms import`,
      ]),
      ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
    ),
  );
  out.push('(import cost = cold p50 minus the cold p50 of the function without imports)');
  out.push('');

  out.push("   the daemon's Server-Timing phases, p50 (ms)");
  const phases = (t: TierStats) =>
    Object.entries(t.phasesP50)
      .map(([k, v]) => `${k} ${formatMs(v)}`)
      .join(', ');
  out.push(
    renderTable(
      ['function', 'cold', 'Zygote', 'warm'],
      r.functions.map((f) => [f.label, phases(f.cold), phases(f.zygote), phases(f.warm)]),
    ),
  );
  out.push('');

  out.push('2. Memory of one more instance (MB; PSS/USS from /proc/<pid>/smaps_rollup of the instance on the host)');
  const cell = (m: MemorySample | null, pick: (m: MemorySample) => number) => (m ? formatMb(pick(m)) : '-');
  out.push(
    renderTable(
      ['function', 'Δ PSS Zygote', 'Δ PSS cold', 'inst PSS Zygote', 'inst PSS cold', 'USS Zygote', 'USS cold', 'RSS Zygote', 'RSS cold'],
      r.memory.map((m) => [
        r.functions.find((f) => f.key === m.key)?.label ?? m.key,
        cell(m.zygote, (x) => x.marginalPssMb),
        cell(m.cold, (x) => x.marginalPssMb),
        cell(m.zygote, (x) => x.instancePssMb),
        cell(m.cold, (x) => x.instancePssMb),
        cell(m.zygote, (x) => x.instanceUssMb),
        cell(m.cold, (x) => x.instanceUssMb),
        cell(m.zygote, (x) => x.instanceRssMb),
        cell(m.cold, (x) => x.instanceRssMb),
      ]),
      ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
  );
  out.push('(Δ PSS = growth of the summed PSS of every sandboxed process when one more instance is parked: what it really costs;');
  out.push(" an instance's own PSS also carries its share of the pages it shares with its Zygote)");
  out.push('');

  out.push('3. The Zygote tree of the Zygote daemon');
  out.push(
    renderTable(
      ['id', 'parent', 'packages', 'memory MB', 'hits'],
      r.zygotes.map((z) => [z.id, z.parent ?? '', z.packages.length ? z.packages.join(' ') : '(base)', formatMb(z.memoryMb), String(z.hits)]),
      ['left', 'left', 'left', 'right', 'right'],
    ),
  );
  out.push('');

  out.push('Targets');
  out.push(renderTable(['', 'target', 'measured', ''], r.targets.map((t) => [t.name, t.target, t.measured, mark(t.ok)])));
  out.push(`SOCK paper: ${r.paper.source}`);

  if (r.notes.length > 0) {
    out.push('');
    out.push('Notes');
    for (const n of r.notes) out.push(`- ${n}`);
  }
  return out.join('\n');
}
