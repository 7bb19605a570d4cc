// `sockpit bench sandbox`: lean-container costs measured side by side in one run, modes interleaved per
// iteration so the machine's noise hits all of them alike.
//  1. sandbox create / destroy (cgroup + mounts, before Python starts) with the cgroup pool and without it
//  2. a cold `python3 -S -I -c pass` in a sockpit sandbox, in bubblewrap and in crun (+ spawn baselines)
//  3. cold and warm invocations end to end through the socket of two real daemons
// measureSandboxBench() measures and returns the report (no printing); runSandboxBench() prints it.

import { isDeepStrictEqual } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as native from '../../../native';
import { CgroupPool, createDriver, layoutForSandboxes, readLayout, type CgroupDriver } from '../cgroups';
import { cgroupTag } from '../daemon/daemon';
import { execInPrivateMountNamespace, inPrivateMountNamespace } from '../daemon/mountns';
import { RUNTIME_DIR, VERSION } from '../paths';
import { SandboxFactory, type SandboxSpec } from '../sandbox/sandbox';
import { assembleBase, removeBase, removeTree } from '../sandbox/rootfs';
import { BwrapRunner, CrunRunner, ensurePeerTools, ownCgroupDirs, PYTHON, PYTHON_ARGS, SpawnRunner, type PeerRunner } from './peers';
import { mark, rotate, startDaemon, target, type DaemonChild, type Target, stopDaemons } from './daemons';
import type { ProgressFn } from './progress';
import { progressWriter, watchInterrupts } from './progress';
import { formatMs, formatRatio, ratio, renderTable, summarize, type Summary } from './stats';

export interface SandboxBenchOptions {
  json: boolean;
  /** write progress to stderr as JSON lines ({progress, message}) for a benchmark job to read */
  progressJson?: boolean;
  /** python runs and invocations per mode; create/destroy runs 10x as many. Default 250 (~50 s here). */
  iterations?: number;
}

export interface CreateDestroyMode {
  key: 'pool' | 'nopool';
  label: string;
  create: Summary;
  destroy: Summary;
  total: Summary;
  /** sequential create→destroy loop, in bursts interleaved with the other mode */
  throughputPerSecond: number;
}

export interface RuntimeRow {
  key: string;
  label: string;
  /** what a sample times */
  measures: string;
  available: boolean;
  notes: string[];
  command?: string[];
  summary?: Summary;
}

export interface InvokeRow {
  key: 'cold' | 'warm';
  label: string;
  summary: Summary;
  /** samples dropped because the daemon answered from another tier */
  wrongTier: number;
  /** the daemon's own Server-Timing "total", p50 */
  serverTotalP50: number;
}

export type { Target };

export interface BenchReport {
  benchmark: 'sandbox';
  version: string;
  startedAt: string;
  durationSeconds: number;
  host: { kernel: string; cpus: number; cgroupMode: string; node: string };
  iterations: { createDestroy: number; python: number; invoke: number; warmup: number };
  createDestroy: {
    modes: CreateDestroyMode[];
    speedup: { create: number; destroy: number; total: number; throughput: number };
    /** a cgroup alone: acquire + release, pooled against mkdir/rmdir */
    cgroupOnly: { pool: Summary; nopool: Summary; speedup: number };
  };
  python: { command: string[]; rows: RuntimeRow[] };
  invoke: { rows: InvokeRow[] };
  targets: Target[];
  notes: string[];
}

const UID = 65534;
const GID = 65534;
const WARMUP = 3;
const DEFAULT_ITERATIONS = 250;
const now = (): number => performance.now();

/** Runs the benchmark and prints it. Returns null when it re-ran itself in a private mount namespace. */
export async function runSandboxBench(opts: SandboxBenchOptions): Promise<BenchReport | null> {
  if (process.getuid?.() !== 0) {
    throw new Error('sockpit bench sandbox must run as root (it makes mounts and cgroups, like sockpitd)');
  }
  if (!inPrivateMountNamespace()) execInPrivateMountNamespace();
  const report = await measureSandboxBench(opts, progressWriter(Boolean(opts.progressJson), (line) => process.stderr.write(line)));
  console.log(opts.json ? JSON.stringify(report, null, 2) : formatReport(report));
  return report;
}

// ---------------------------------------------------------------------------------------------------------
// measuring


export async function measureSandboxBench(opts: { iterations?: number }, onProgress: ProgressFn = () => {}): Promise<BenchReport> {
  if (!inPrivateMountNamespace()) throw new Error('measureSandboxBench must run in a private mount namespace (see daemon/mountns)');
  const n = opts.iterations ?? DEFAULT_ITERATIONS;
  if (!Number.isInteger(n) || n < 1) throw new Error(`iterations must be a positive integer, got ${n}`);
  const counts = { createDestroy: 10 * n, python: n, invoke: n, warmup: WARMUP };
  const started = new Date();
  const t0 = now();
  const notes: string[] = [];

  const interrupts = watchInterrupts(onProgress);
  const check = interrupts.check;

  const tmp = fs.mkdtempSync('/tmp/sockpit-bench-');
  const stateDir = path.join(tmp, 'state');
  const baseDir = path.join(stateDir, 'base');
  const sandboxDirs = { pool: path.join(stateDir, 'sandboxes-pool'), nopool: path.join(stateDir, 'sandboxes-nopool') };
  const codeDir = path.join(tmp, 'code');
  const cleanups: Array<{ what: string; fn: () => void | Promise<void> }> = [];
  const daemons: DaemonChild[] = [];
  let report: BenchReport | undefined;
  try {
    fs.mkdirSync(stateDir, { mode: 0o700 });
    fs.mkdirSync(codeDir, { mode: 0o755 });
    fs.writeFileSync(path.join(codeDir, 'f.py'), 'def f(e):\n    return e\n');

    // --- peers' tools, before anything else (apt-get may take a while)
    notes.push(...ensurePeerTools());

    // --- the daemons for the end-to-end part
    onProgress('starting two daemons (cold-only and default config)', 0.02);
    for (const [key, config] of [
      // cold only: no warm instances kept, and no Zygotes (they would serve every call after the first)
      ['cold', { warm: { memoryBudgetMb: 0 }, zygotes: { enabled: false } }],
      ['warm', {}],
    ] as const) {
      const d = startDaemon(tmp, key, config);
      daemons.push(d);
    }
    await Promise.all(daemons.map((d) => d.ready));
    for (const d of daemons) await d.client.deploy('echo', codeDir);
    await check();

    // --- crun's bundle and helper namespace: before our own mounts exist (the helper copies the mount table)
    const crun = new CrunRunner(path.join(tmp, 'crun'));
    cleanups.push({ what: 'crun', fn: () => crun.cleanup() });
    onProgress('setting up the peers', 0.08);
    const bwrap = new BwrapRunner('bwrap', false);
    const bwrapUserns = new BwrapRunner('bwrap-userns', true);
    // a peer that can't be set up is reported unavailable; it never stops the benchmark
    for (const peer of [crun, bwrap, bwrapUserns]) {
      try {
        await peer.probe();
      } catch (err) {
        peer.available = false;
        peer.notes.push(`set-up failed: ${(err as Error).message}: unavailable`);
      }
    }
    await check();

    // --- sockpit: one driver, two pools (the mkdir/rmdir one first: a pool's start() removes stale cgroups)
    const driver = createDriver(layoutForSandboxes(readLayout()), cgroupTag(stateDir));
    const factories: { pool?: SandboxFactory; nopool?: SandboxFactory } = {};
    const nopool = new CgroupPool(driver, { pooled: false, onDiscard: (cg) => factories.nopool?.forgetCgroup(cg) });
    const pool = new CgroupPool(driver, { pooled: true, initial: 8, onDiscard: (cg) => factories.pool?.forgetCgroup(cg) });
    // clean-up runs in reverse: pooled pool stops first (its teardown removes <tag>), then the empty unpooled one
    cleanups.push({ what: 'cgroup pool (mkdir/rmdir)', fn: () => nopool.stop() });
    await nopool.start();
    cleanups.push({ what: 'cgroup pool', fn: () => pool.stop() });
    await pool.start();
    cleanups.push({ what: 'base image', fn: () => removeBase(baseDir) });
    const packagesDir = path.join(stateDir, 'packages');
    fs.mkdirSync(packagesDir, { recursive: true });
    assembleBase({ baseDir, rootfs: null, runtimeDir: RUNTIME_DIR, packagesDir, python: PYTHON, uid: UID, gid: GID });
    const factoryOpts = { baseDir, python: PYTHON, uid: UID, gid: GID };
    cleanups.push({ what: 'sandboxes', fn: () => Object.values(sandboxDirs).forEach((d) => removeTree(d)) });
    factories.pool = new SandboxFactory(pool, driver, { ...factoryOpts, sandboxesDir: sandboxDirs.pool });
    cleanups.push({ what: 'sandbox factory', fn: () => factories.pool!.close() });
    factories.nopool = new SandboxFactory(nopool, driver, { ...factoryOpts, sandboxesDir: sandboxDirs.nopool });
    cleanups.push({ what: 'sandbox factory (mkdir/rmdir)', fn: () => factories.nopool!.close() });
    const spec: SandboxSpec = { codeDir, paths: [], environment: {}, limits: { memoryMb: 256, pids: 64, cpus: 1, timeoutMs: 30_000 } };

    // --- 1. create / destroy, pooled and unpooled interleaved
    onProgress(`1/2 sandbox create+destroy: ${counts.createDestroy} x 2 modes`, 0.12);
    const cdModes = [
      { key: 'pool' as const, label: 'pool (CgroupPool pooled)', factory: factories.pool },
      { key: 'nopool' as const, label: 'mkdir/rmdir (no pool)', factory: factories.nopool },
    ];
    const cdSamples = new Map(cdModes.map((m) => [m.key, { create: [] as number[], destroy: [] as number[], total: [] as number[] }]));
    const createDestroy = async (factory: SandboxFactory) => {
      const a = now();
      const sb = await factory.prepare(spec);
      const b = now();
      await sb.destroy();
      const c = now();
      return { create: b - a, destroy: c - b, total: c - a };
    };
    for (let i = -WARMUP * 3; i < counts.createDestroy; i++) {
      for (const m of rotate(cdModes, i)) {
        const r = await createDestroy(m.factory);
        if (i < 0) continue;
        const s = cdSamples.get(m.key)!;
        s.create.push(r.create);
        s.destroy.push(r.destroy);
        s.total.push(r.total);
      }
      if (i % 50 === 0) await check();
    }
    // throughput: bursts of sequential create→destroy, alternating the modes
    onProgress('  create+destroy throughput bursts', 0.3);
    const burst = Math.max(5, Math.round(counts.createDestroy / 8));
    const through = new Map(cdModes.map((m) => [m.key, { count: 0, ms: 0 }]));
    for (let round = 0; round < 8; round++) {
      for (const m of rotate(cdModes, round)) {
        const a = now();
        for (let k = 0; k < burst; k++) await (await m.factory.prepare(spec)).destroy();
        const t = through.get(m.key)!;
        t.ms += now() - a;
        t.count += burst;
      }
      await check();
    }
    const modes: CreateDestroyMode[] = cdModes.map((m) => {
      const s = cdSamples.get(m.key)!;
      const t = through.get(m.key)!;
      return {
        key: m.key,
        label: m.label,
        create: summarize(s.create),
        destroy: summarize(s.destroy),
        total: summarize(s.total),
        throughputPerSecond: (t.count * 1000) / t.ms,
      };
    });
    const [pooled, unpooled] = modes;
    const speedup = {
      create: ratio(unpooled.create.p50, pooled.create.p50),
      destroy: ratio(unpooled.destroy.p50, pooled.destroy.p50),
      total: ratio(unpooled.total.p50, pooled.total.p50),
      throughput: ratio(pooled.throughputPerSecond, unpooled.throughputPerSecond),
    };

    // the cgroup alone, the paper's comparison: acquire + release from the pool against mkdir + kill + rmdir
    const cgLimits = { memoryBytes: spec.limits.memoryMb * 2 ** 20, pids: spec.limits.pids, cpus: spec.limits.cpus };
    const cgSamples = { pool: [] as number[], nopool: [] as number[] };
    const cgPools = [['pool', pool], ['nopool', nopool]] as const;
    for (let i = -WARMUP * 3; i < counts.createDestroy; i++) {
      for (const [key, p] of rotate(cgPools, i)) {
        const a = now();
        await p.release(p.acquire(cgLimits));
        if (i >= 0) cgSamples[key].push(now() - a);
      }
      if (i % 50 === 0) await check();
    }
    const cgroupOnly = { pool: summarize(cgSamples.pool), nopool: summarize(cgSamples.nopool), speedup: 0 };
    cgroupOnly.speedup = ratio(cgroupOnly.nopool.p50, cgroupOnly.pool.p50);

    // --- 2 + 3. python cold starts and invocations, all interleaved
    onProgress(`2/2 cold python3 and invocations: ${counts.python} iterations`, 0.4);
    const devNull = fs.openSync('/dev/null', 'r+');
    cleanups.push({ what: '/dev/null fd', fn: () => fs.closeSync(devNull) });
    const [coldD, warmD] = daemons;
    const expectTier = async (d: DaemonChild, tier: 'cold' | 'warm', i: number) => {
      const a = now();
      const r = await d.client.run('echo', { n: i });
      const ms = now() - a;
      if (r.status !== 200) throw new Error(`${d.key} daemon: run echo answered ${r.status} ${r.error?.code}: ${r.error?.message}`);
      if (!isDeepStrictEqual(r.result, { n: i })) throw new Error(`${d.key} daemon: echo returned ${JSON.stringify(r.result)} for {"n": ${i}}`);
      return { ms, tier: r.tier, serverTotal: r.timings.total ?? NaN };
    };
    await expectTier(warmD, 'warm', -1); // the first call warms

    interface Mode {
      row: RuntimeRow | null;
      run: (i: number) => Promise<void> | void;
    }
    const sockpitRow: RuntimeRow = {
      key: 'sockpit',
      label: 'sockpit sandbox + python3',
      measures: 'prepare (pool cgroup + mounts) → native.spawn (pid/uts/ipc ns, chroot, uid 65534, cgroup join) → exit; destroy not included',
      available: true,
      notes: [],
      command: [PYTHON, ...PYTHON_ARGS],
    };
    const sockpitSamples: number[] = [];
    const sockpitDestroy: number[] = [];
    const sockpitPhases = { prepare: [] as number[], spawn: [] as number[], run: [] as number[] };
    const peerRows: Array<{ row: RuntimeRow; runner: PeerRunner; samples: number[]; failures: number }> = [];
    const peerRow = (runner: PeerRunner, measures: string) => {
      const row: RuntimeRow = { key: runner.key, label: runner.label, measures, available: runner.available, notes: runner.notes, command: runner.available ? runner.command : undefined };
      const entry = { row, runner, samples: [] as number[], failures: 0 };
      peerRows.push(entry);
      return entry;
    };
    const spawnSyncNote = 'child_process.spawnSync from spawn to exit (includes Node\'s spawn overhead: see the `true` baseline)';
    const peers = [
      peerRow(bwrap, spawnSyncNote),
      peerRow(bwrapUserns, spawnSyncNote),
      peerRow(crun, spawnSyncNote),
      peerRow(new SpawnRunner('host-python', 'python3 on the host (no sandbox)', PYTHON, PYTHON_ARGS), spawnSyncNote),
      peerRow(new SpawnRunner('true', 'baseline: spawnSync /usr/bin/true', '/usr/bin/true', []), 'child_process.spawnSync overhead alone'),
    ];
    if (crun.available && crun.launcherBaseline) {
      peers.push(peerRow(new SpawnRunner('nsenter-true', "baseline: crun's launcher (nsenter → true)", crun.launcherBaseline[0], crun.launcherBaseline.slice(1)), "spawnSync of the nsenter prefix every crun sample pays"));
    }
    const invokeSamples = { cold: [] as number[], warm: [] as number[], coldServer: [] as number[], warmServer: [] as number[], coldWrong: 0, warmWrong: 0 };
    const loop: Mode[] = [
      {
        row: sockpitRow,
        run: async (i) => {
          const r = await sandboxPython(factories.pool!, driver, devNull, spec);
          if (i >= 0) {
            sockpitSamples.push(r.ms);
            sockpitDestroy.push(r.destroyMs);
            sockpitPhases.prepare.push(r.prepareMs);
            sockpitPhases.spawn.push(r.spawnMs);
            sockpitPhases.run.push(r.ms - r.prepareMs - r.spawnMs);
          }
        },
      },
      ...peers
        .filter((p) => p.runner.available)
        .map((p) => ({
          row: p.row,
          run: (i: number) => {
            try {
              const ms = p.runner.run();
              if (i >= 0) p.samples.push(ms);
            } catch (err) {
              p.failures++;
              if (p.failures <= 3) p.row.notes.push(`a run failed: ${(err as Error).message}`);
            }
          },
        })),
      {
        row: null,
        run: async (i) => {
          const r = await expectTier(coldD, 'cold', i);
          if (i < 0) return;
          if (r.tier !== 'cold') invokeSamples.coldWrong++;
          else {
            invokeSamples.cold.push(r.ms);
            invokeSamples.coldServer.push(r.serverTotal);
          }
        },
      },
      {
        row: null,
        run: async (i) => {
          const r = await expectTier(warmD, 'warm', i);
          if (i < 0) return;
          if (r.tier !== 'warm') invokeSamples.warmWrong++;
          else {
            invokeSamples.warm.push(r.ms);
            invokeSamples.warmServer.push(r.serverTotal);
          }
        },
      },
    ];
    for (let i = -WARMUP; i < counts.python; i++) {
      for (const mode of rotate(loop, i)) await mode.run(i);
      await check();
      if (i >= 0 && ((i + 1) % 10 === 0 || i + 1 === counts.python)) onProgress(`  ${i + 1}/${counts.python}`, 0.4 + (0.55 * (i + 1)) / counts.python);
    }

    sockpitRow.summary = summarize(sockpitSamples);
    const phase = (xs: number[]) => `${formatMs(summarize(xs).p50)}/${formatMs(summarize(xs).p99)}`;
    sockpitRow.notes.push(
      `phases p50/p99 ms: prepare ${phase(sockpitPhases.prepare)}, native.spawn until exec (cgroup join, namespaces, chroot) ${phase(sockpitPhases.spawn)}, ` +
        `exec → exit seen ${phase(sockpitPhases.run)}; destroy afterwards (kill + cgroup back to the pool + unmount) ${phase(sockpitDestroy)}`,
    );
    for (const p of peers) {
      if (p.failures > 0) p.row.notes.push(`${p.failures} of ${p.failures + p.samples.length} runs failed and are left out`);
      if (p.samples.length > 0) p.row.summary = summarize(p.samples);
      else p.row.available = false;
    }
    const pythonRows = [sockpitRow, ...peers.map((p) => p.row)];

    const invokeRow = (key: 'cold' | 'warm', label: string, samples: number[], server: number[], wrong: number): InvokeRow => {
      if (samples.length === 0) throw new Error(`no ${key} invocation was served from the ${key} tier (${wrong} from another)`);
      const finite = server.filter(Number.isFinite);
      return { key, label, summary: summarize(samples), wrongTier: wrong, serverTotalP50: finite.length > 0 ? summarize(finite).p50 : NaN };
    };
    let invokeRows: InvokeRow[];
    try {
      invokeRows = [
        invokeRow('cold', 'cold invoke (fresh sandbox + interpreter)', invokeSamples.cold, invokeSamples.coldServer, invokeSamples.coldWrong),
        invokeRow('warm', 'warm invoke (thawed idle instance)', invokeSamples.warm, invokeSamples.warmServer, invokeSamples.warmWrong),
      ];
    } catch (err) {
      throw new Error(`end-to-end: ${(err as Error).message}`);
    }
    if (invokeSamples.coldWrong) notes.push(`${invokeSamples.coldWrong} cold-daemon calls were not served cold: left out`);
    if (invokeSamples.warmWrong) notes.push(`${invokeSamples.warmWrong} warm-daemon calls were not served warm: left out`);

    // --- targets
    const bwrapP50 = bwrap.available ? peers[0].row.summary?.p50 ?? NaN : NaN;
    const [cold, warm] = invokeRows;
    const targets: Target[] = [
      target('sandbox create p50 (pool)', '≤ 1 ms', pooled.create.p50, pooled.create.p50 <= 1, `${formatMs(pooled.create.p50)} ms`),
      target('pool vs mkdir/rmdir, cgroup acquire+release p50', '≥ 2x faster', cgroupOnly.speedup, cgroupOnly.speedup >= 2, `${formatRatio(cgroupOnly.speedup)} (whole sandbox create+destroy: ${formatRatio(speedup.total)})`),
      target('cold invoke p50 vs bwrap + python3 p50', '≤ 1.00x (not slower)', ratio(cold.summary.p50, bwrapP50), ratio(cold.summary.p50, bwrapP50) <= 1, `${formatRatio(ratio(cold.summary.p50, bwrapP50))} (${formatMs(cold.summary.p50)} vs ${formatMs(bwrapP50)} ms)`),
      target('warm invoke p50', '≤ 2 ms', warm.summary.p50, warm.summary.p50 <= 2, `${formatMs(warm.summary.p50)} ms`),
      target('cold invoke p50', '≤ 30 ms', cold.summary.p50, cold.summary.p50 <= 30, `${formatMs(cold.summary.p50)} ms`),
    ];

    report = {
      benchmark: 'sandbox',
      version: VERSION,
      startedAt: started.toISOString(),
      durationSeconds: 0,
      host: { kernel: os.release(), cpus: os.cpus().length, cgroupMode: readLayout().mode, node: process.version },
      iterations: counts,
      createDestroy: { modes, speedup, cgroupOnly },
      python: { command: [PYTHON, ...PYTHON_ARGS], rows: pythonRows },
      invoke: { rows: invokeRows },
      targets,
      notes,
    };
  } finally {
    interrupts.dispose();
    onProgress('cleaning up', 0.96);
    const problems: string[] = [];
    // daemons first (they stop their own sandboxes, cgroups and mounts), then ours in reverse order
    problems.push(...(await stopDaemons(daemons)));
    for (const c of cleanups.reverse()) {
      try {
        await c.fn();
      } catch (err) {
        problems.push(`${c.what}: ${(err as Error).message}`);
      }
    }
    try {
      removeTree(tmp); // unmounts whatever is still under it, then removes it
    } catch (err) {
      problems.push(`${tmp}: ${(err as Error).message}`);
    }
    problems.push(...leftovers(tmp, [stateDir, ...daemons.map((d) => d.stateDir)].map(cgroupTag)));
    if (problems.length === 0) notes.push(`clean-up checked: no mounts under ${tmp}, no cgroups of ours, no crun containers, ${tmp} removed`);
    if (problems.length > 0) {
      const msg = `clean-up problems:\n  ${problems.join('\n  ')}`;
      if (report) report.notes.push(msg);
      else onProgress(msg);
    }
  }
  if (!report) throw new Error('internal: no report');
  report.durationSeconds = (now() - t0) / 1000;
  return report;
}

/** what is still there after clean-up: mounts under tmp, tmp itself, cgroups with our tags or crun's ids */
function leftovers(tmp: string, tags: string[]): string[] {
  const left: string[] = [];
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.split(' ')[4]?.startsWith(`${tmp}/`));
  if (mounts.length > 0) left.push(`${mounts.length} mount(s) under ${tmp}`);
  if (fs.existsSync(tmp)) left.push(`${tmp} still exists`);
  for (const own of ownCgroupDirs()) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(own);
    } catch {
      continue;
    }
    for (const name of names) {
      if (tags.includes(name) || name.startsWith(`sockpit-bench-crun-${process.pid}-`)) left.push(`cgroup ${path.join(own, name)}`);
    }
  }
  return left;
}

/** A cold python3 in a sockpit sandbox: prepare → spawn (joins the cgroup, namespaces, chroot, uid) → exit. */
async function sandboxPython(
  factory: SandboxFactory,
  driver: CgroupDriver,
  devNull: number,
  spec: SandboxSpec,
): Promise<{ ms: number; destroyMs: number; prepareMs: number; spawnMs: number }> {
  const a = now();
  const sandbox = await factory.prepare(spec);
  const prepared = now();
  let spawned = NaN;
  const fds: number[] = [];
  let ms: number;
  try {
    for (const file of driver.joinFiles(sandbox.cgroup)) fds.push(fs.openSync(file, fs.constants.O_WRONLY));
    const { pidfd } = native.spawn({
      file: PYTHON,
      argv: [PYTHON, ...PYTHON_ARGS],
      env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'HOME=/tmp', 'LANG=C.UTF-8'],
      root: sandbox.dirs.root,
      cwd: '/tmp',
      uid: UID,
      gid: GID,
      cgroupProcsFds: fds,
      fds: [devNull, devNull, devNull],
      namespaces: ['pid', 'uts', 'ipc'],
      hostname: 'sockpit',
      rlimits: { core: 0, nofile: 1024 },
      dieWithParent: true,
    });
    spawned = now(); // native.spawn returns once the child has joined the cgroup, set up and exec'd
    let status;
    try {
      status = await native.waitExit(pidfd);
    } finally {
      fs.closeSync(pidfd);
    }
    ms = now() - a;
    if (status.code !== 0) throw new Error(`python3 in sandbox ${sandbox.id} exited with ${status.code ?? status.signal}`);
  } catch (err) {
    await sandbox.destroy().catch(() => {}); // the error that matters is the first one
    throw err;
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
  const b = now();
  await sandbox.destroy();
  return { ms, destroyMs: now() - b, prepareMs: prepared - a, spawnMs: spawned - prepared };
}

// ---------------------------------------------------------------------------------------------------------
// printing

export function formatReport(r: BenchReport): string {
  const out: string[] = [];
  const it = r.iterations;
  out.push(
    `sockpit ${r.version} bench sandbox — ${r.startedAt}, Linux ${r.host.kernel}, ${r.host.cpus} CPUs, cgroups ${r.host.cgroupMode}, ${r.durationSeconds.toFixed(0)} s`,
  );
  out.push(`samples: ${it.createDestroy} create/destroy per mode, ${it.python} python runs and invocations per mode (after ${it.warmup} warm-up rounds), modes interleaved`);
  out.push('');

  out.push('1. Sandbox create + destroy (cgroup + mounts, before Python starts; ms)');
  const cd = r.createDestroy;
  const cdRow = (m: CreateDestroyMode) => [
    m.label,
    formatMs(m.create.p50),
    formatMs(m.create.p99),
    formatMs(m.destroy.p50),
    formatMs(m.destroy.p99),
    formatMs(m.total.p50),
    formatMs(m.total.p99),
    m.throughputPerSecond.toFixed(0),
  ];
  out.push(
    renderTable(
      ['mode', 'create p50', 'p99', 'destroy p50', 'p99', 'create+destroy p50', 'p99', 'sandboxes/s'],
      [
        ...cd.modes.map(cdRow),
        ['speed-up of the pool (p50)', formatRatio(cd.speedup.create), '', formatRatio(cd.speedup.destroy), '', formatRatio(cd.speedup.total), '', formatRatio(cd.speedup.throughput)],
      ],
      ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
  );
  const cg = cd.cgroupOnly;
  out.push(
    `a cgroup alone, acquire + release p50: pool ${formatMs(cg.pool.p50)} ms, mkdir/rmdir ${formatMs(cg.nopool.p50)} ms: ${formatRatio(cg.speedup)} faster (p99 ${formatMs(cg.pool.p99)} vs ${formatMs(cg.nopool.p99)})`,
  );
  out.push('');

  out.push(`2. Cold \`${r.python.command.join(' ')}\` (ms, start to exit)`);
  const rows = r.python.rows;
  const bwrapP50 = rows.find((x) => x.key === 'bwrap')?.summary?.p50 ?? NaN;
  const sockpitP50 = rows.find((x) => x.key === 'sockpit')?.summary?.p50 ?? NaN;
  const spawnP50 = rows.find((x) => x.key === 'true')?.summary?.p50 ?? NaN;
  out.push(
    renderTable(
      ['runtime', 'p50', 'p99', 'mean', 'min', 'p50 - spawnSync true', 'vs bwrap p50', 'vs sockpit p50'],
      rows.map((x) =>
        x.summary
          ? [
              x.label,
              formatMs(x.summary.p50),
              formatMs(x.summary.p99),
              formatMs(x.summary.mean),
              formatMs(x.summary.min),
              x.key === 'sockpit' || x.key === 'true' ? '' : formatMs(x.summary.p50 - spawnP50),
              formatRatio(ratio(x.summary.p50, bwrapP50)),
              formatRatio(ratio(x.summary.p50, sockpitP50)),
            ]
          : [x.label, 'unavailable'],
      ),
      ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
  );
  out.push('(peers are timed around child_process.spawnSync; sockpit around native.spawn + pidfd wait, without that overhead)');
  out.push('');

  out.push('3. End to end through the socket: client.run("echo", {"n": i}) (ms, client side)');
  out.push(
    renderTable(
      ['invocation', 'p50', 'p99', 'mean', 'min', 'server total p50', 'vs bwrap+python3 p50'],
      r.invoke.rows.map((x) => [
        x.label,
        formatMs(x.summary.p50),
        formatMs(x.summary.p99),
        formatMs(x.summary.mean),
        formatMs(x.summary.min),
        formatMs(x.serverTotalP50),
        formatRatio(ratio(x.summary.p50, bwrapP50)),
      ]),
      ['left', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
  );
  out.push('');

  out.push('Targets');
  out.push(
    renderTable(
      ['', 'target', 'measured', ''],
      r.targets.map((t) => [t.name, t.target, t.measured, mark(t.ok)]),
    ),
  );

  const notes = [
    ...r.python.rows.flatMap((x) => x.notes.map((n) => `${x.label}: ${n}`)),
    ...r.notes,
  ];
  if (notes.length > 0) {
    out.push('');
    out.push('Notes');
    for (const n of notes) out.push(`- ${n}`);
  }
  return out.join('\n');
}
