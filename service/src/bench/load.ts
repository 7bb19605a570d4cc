// `sockpit bench load`: N concurrent clients over the socket make a fixed number of calls across many functions
// while a killer SIGKILLs random Zygotes and function instances. Every call must end with a right answer or a
// clear, retryable error (which the client retries); nothing may be lost (no HTTP answer, or a malformed one) or
// wrong (200 with a wrong result). Afterwards: the daemon is still the same process, and once it stops it leaves
// no mount, cgroup, process or scratch directory behind.
// measureLoadBench() measures and returns the report; runLoadBench() prints it.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TIER_HEADER } from '../../../api';
import { SockpitClient, type RawResponse } from '../client';
import { readLayout } from '../cgroups';
import { VERSION } from '../paths';
import { removeTree } from '../sandbox/rootfs';
import { writeWheel } from '../packages/wheel-writer';
import { mark, startDaemon, target, type DaemonChild, type Target } from './daemons';
import { alive, cgroupsOf, mountsOf, processesOf, uidOf } from './leaks';
import { progressWriter, type ProgressFn } from './progress';
import { formatMs, renderTable, summarize, type Summary } from './stats';

export interface LoadBenchOptions {
  json: boolean;
  progressJson?: boolean;
  /** concurrent clients (default 32) */
  clients?: number;
  /** calls in all (default 10 000) */
  calls?: number;
  /** functions deployed (default 8) */
  functions?: number;
  /** kill random Zygotes and instances while the calls run (default true) */
  kills?: boolean;
  /** the daemon's network.mode (default isolated; host only to compare) */
  network?: 'isolated' | 'host';
}

export interface LoadCounts {
  /** calls answered 200 with the right result */
  ok: number;
  /** of those, calls that needed one or more retries after a retryable error */
  retried: number;
  /** retryable error answers seen in all (each retried) */
  retries: number;
  /** calls still answered with a retryable error after the last attempt (a clear error, but no result) */
  gaveUp: number;
  /** calls answered with a non-retryable error status */
  failed: number;
  /** no HTTP answer at all, or a malformed one */
  lost: number;
  /** 200 with a wrong result */
  wrong: number;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface LoadReport {
  benchmark: 'load';
  version: string;
  startedAt: string;
  durationSeconds: number;
  host: { kernel: string; cpus: number; cgroupMode: string; node: string };
  params: { clients: number; calls: number; functions: number; kills: boolean; maxAttempts: number; maxConcurrentCalls: number };
  /** seconds the calls took, from the first sent to the last answered */
  loadSeconds: number;
  throughput: number;
  /** end to end per call, retries included, ms */
  latency: Summary;
  counts: LoadCounts;
  /** the tier of each right answer */
  tiers: Record<string, number>;
  /** retryable and other error answers by status and code, e.g. "502 instance_died" */
  errors: Record<string, number>;
  kills: { zygotes: number; instances: number };
  /** examples of lost, wrong or failed calls (at most 10) */
  problems: string[];
  checks: Check[];
  targets: Target[];
  notes: string[];
}

const DEFAULTS = { clients: 32, calls: 10_000, functions: 8 };
const SANDBOX_UID = 65534;
const MAX_ATTEMPTS = 6;
const RETRYABLE = new Set([429, 502, 503, 504]);
/** a call with no answer after this long is lost */
const CALL_DEADLINE_MS = 60_000;
const MAX_CONCURRENT_CALLS = 64;

export async function runLoadBench(opts: LoadBenchOptions): Promise<LoadReport> {
  if (process.getuid?.() !== 0) throw new Error('sockpit bench load must run as root (it starts a daemon, like sockpitd)');
  const report = await measureLoadBench(opts, progressWriter(Boolean(opts.progressJson), (line) => process.stderr.write(line)));
  console.log(opts.json ? JSON.stringify(report, null, 2) : formatLoadReport(report));
  if (report.counts.lost > 0 || report.counts.wrong > 0 || report.checks.some((c) => !c.ok)) process.exitCode = 1;
  return report;
}

interface LoadFunction {
  name: string;
  /** the module of its package, or null */
  module: string | null;
  /** what the module's K is */
  k: number | null;
}

/** The function's answer to {n}: what a right result looks like. */
function expected(f: LoadFunction, n: number): unknown {
  return { fn: f.name, n: n * 2, k: f.k };
}

function functionSource(f: LoadFunction): string {
  const imp = f.module ? `import ${f.module}\n` : '';
  const k = f.module ? `${f.module}.K` : 'None';
  return `${imp}def f(event):\n    return {"fn": ${JSON.stringify(f.name)}, "n": event["n"] * 2, "k": ${k}}\n`;
}

export async function measureLoadBench(opts: Omit<LoadBenchOptions, 'json'>, onProgress: ProgressFn = () => {}): Promise<LoadReport> {
  const clients = opts.clients ?? DEFAULTS.clients;
  const calls = opts.calls ?? DEFAULTS.calls;
  const nfn = opts.functions ?? DEFAULTS.functions;
  const kills = opts.kills ?? true;
  for (const [k, v] of Object.entries({ clients, calls, functions: nfn })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${k} must be a positive integer, got ${v}`);
  }
  const started = new Date();
  const t0 = performance.now();
  const notes: string[] = [];
  const checks: Check[] = [];
  const problems: string[] = [];
  const problem = (s: string) => problems.length < 10 && problems.push(s);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sockpit-bench-load-'));
  let d: DaemonChild | undefined;
  let daemonPid = 0;
  let report: LoadReport | undefined;
  let stopKiller = () => {};
  try {
    // --- two tiny packages, so the Zygote tree has more than its base to lose
    const wheels = path.join(tmp, 'wheels');
    fs.mkdirSync(wheels);
    for (const [name, k] of [['loadpkga', 11], ['loadpkgb', 22]] as const) {
      writeWheel(wheels, {
        name,
        version: '1.0',
        tag: 'py3-none-any',
        metadata: `Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\n`,
        files: [{ path: `${name}/__init__.py`, data: Buffer.from(`K = ${k}\n`) }],
        distInfo: { 'top_level.txt': `${name}\n` },
      });
    }
    const fns: LoadFunction[] = Array.from({ length: nfn }, (_, i) => {
      const module = i % 4 === 1 ? 'loadpkga' : i % 4 === 3 ? 'loadpkgb' : null;
      return { name: `load${i}`, module, k: module === 'loadpkga' ? 11 : module === 'loadpkgb' ? 22 : null };
    });
    for (const f of fns) {
      const dir = path.join(tmp, 'code', f.name);
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'f.py'), functionSource(f));
      if (f.module) fs.writeFileSync(path.join(dir, 'requirements.txt'), `${f.module}==1.0\n`);
    }

    onProgress('starting a daemon', 0.01);
    d = startDaemon(tmp, 'load', {
      pool: { initial: 16, max: 512 },
      packages: { findLinks: wheels },
      maxConcurrentCalls: MAX_CONCURRENT_CALLS,
      network: { mode: opts.network ?? 'isolated' },
    });
    await d.ready;
    const daemon = d;
    const status0 = await daemon.client.status();
    daemonPid = status0.pid;
    onProgress(`deploying ${nfn} functions`, 0.03);
    for (const f of fns) await daemon.client.deploy(f.name, path.join(tmp, 'code', f.name));

    // --- the killer: every 50-100 ms a random Zygote or a random instance (a sandbox-uid process in our cgroups)
    const killed = { zygotes: 0, instances: 0 };
    /** a frozen process dies only when it is thawed: don't count it twice */
    const dead = new Set<number>();
    const kill = (pid: number): boolean => {
      if (dead.has(pid)) return false;
      try {
        process.kill(pid, 'SIGKILL');
        dead.add(pid);
        return true;
      } catch {
        return false;
      }
    };
    let killing = kills;
    const killer = (async () => {
      const ctl = new SockpitClient(daemon.socket);
      try {
        while (killing) {
          await sleep(50 + Math.random() * 50);
          if (!killing) break;
          try {
            if (Math.random() < 0.3) {
              const zs = (await ctl.zygotes()).filter((z) => z.pid !== null && z.state !== 'dead' && !dead.has(z.pid));
              const z = zs[Math.floor(Math.random() * zs.length)];
              if (z && kill(z.pid!)) killed.zygotes++;
            } else {
              const instances = processesOf(daemon.stateDir).filter((pid) => !dead.has(pid) && uidOf(pid) === SANDBOX_UID);
              const pid = instances[Math.floor(Math.random() * instances.length)];
              if (pid !== undefined && kill(pid)) killed.instances++;
            }
          } catch (err) {
            notes.push(`killer: ${(err as Error).message}`);
          }
        }
      } finally {
        await ctl.close();
      }
    })();
    stopKiller = () => (killing = false);

    // --- the clients: each its own connection pool, taking the next call number until all are made
    const counts: LoadCounts = { ok: 0, retried: 0, retries: 0, gaveUp: 0, failed: 0, lost: 0, wrong: 0 };
    const tiers: Record<string, number> = {};
    const errors: Record<string, number> = {};
    const latencies: number[] = [];
    let next = 0;
    let answered = 0;
    onProgress(`${calls} calls from ${clients} clients over ${nfn} functions${kills ? ', killing Zygotes and instances at random' : ''}`, 0.05);
    const loadStart = performance.now();
    const worker = async (w: number) => {
      const client = new SockpitClient(daemon.socket);
      try {
        for (let i = next++; i < calls; i = next++) {
          const f = fns[(i + w) % fns.length];
          const a = performance.now();
          let attempt = 0;
          for (;;) {
            attempt++;
            const out = await callOnce(client, f.name, i);
            if (out.kind === 'lost') {
              counts.lost++;
              problem(`call ${i} to ${f.name}, attempt ${attempt}: lost (${out.why})`);
              break;
            }
            const { res, body } = out;
            if (res.status === 200) {
              if (JSON.stringify(body) !== JSON.stringify(expected(f, i))) {
                counts.wrong++;
                problem(`call ${i} to ${f.name}: wrong answer ${JSON.stringify(body).slice(0, 200)}`);
              } else {
                counts.ok++;
                if (attempt > 1) counts.retried++;
                const tier = header(res, TIER_HEADER) ?? '(none)';
                tiers[tier] = (tiers[tier] ?? 0) + 1;
              }
              break;
            }
            const code = (body as { error?: { code?: string } } | null)?.error?.code;
            if (typeof code !== 'string') {
              counts.lost++;
              problem(`call ${i} to ${f.name}: ${res.status} without an error body: ${res.body.toString('utf8').slice(0, 200)}`);
              break;
            }
            const key = `${res.status} ${code}`;
            errors[key] = (errors[key] ?? 0) + 1;
            if (!RETRYABLE.has(res.status)) {
              counts.failed++;
              problem(`call ${i} to ${f.name}: ${key}: ${(body as { error: { message?: string } }).error.message ?? ''}`.slice(0, 300));
              break;
            }
            counts.retries++;
            if (attempt >= MAX_ATTEMPTS) {
              counts.gaveUp++;
              problem(`call ${i} to ${f.name}: still ${key} after ${attempt} attempts`);
              break;
            }
            await sleep(res.status === 429 ? 50 * attempt : 10 * attempt);
          }
          latencies.push(performance.now() - a);
          if (++answered % Math.max(1, Math.floor(calls / 10)) === 0) {
            onProgress(`  ${answered}/${calls} calls`, 0.05 + (0.8 * answered) / calls);
          }
        }
      } finally {
        await Promise.race([client.close(), sleep(5000)]);
      }
    };
    await Promise.all(Array.from({ length: clients }, (_, w) => worker(w)));
    const loadSeconds = (performance.now() - loadStart) / 1000;
    stopKiller();
    await killer;

    // --- afterwards: the same daemon, still serving, and accounting for every process in its cgroups
    onProgress('checking the daemon', 0.88);
    const status1 = await daemon.client.status();
    checks.push({
      name: 'the daemon served everything without a restart',
      ok: status1.pid === daemonPid && status1.uptimeSeconds >= loadSeconds,
      detail: `pid ${daemonPid} → ${status1.pid}, up ${status1.uptimeSeconds.toFixed(0)} s`,
    });
    const probe = await callOnce(daemon.client, fns[0].name, 21);
    checks.push({
      name: 'it still answers right after the load',
      ok: probe.kind === 'answer' && probe.res.status === 200 && JSON.stringify(probe.body) === JSON.stringify(expected(fns[0], 21)),
      detail: probe.kind === 'answer' ? `${probe.res.status}` : probe.why,
    });
    // stray: a process in its cgroups it does not account for. The reverse (an idle instance killed while parked
    // is still counted until its sandbox is next taken or expires) is bookkeeping lag, reported in the detail.
    let stray = '';
    const accounted = await eventually(async () => {
      const s = await daemon.client.status();
      const pids = processesOf(daemon.stateDir);
      const known = s.instances.live + s.zygotes.processes;
      stray = `${pids.length} processes in its cgroups, ${s.instances.live} instances + ${s.zygotes.processes} Zygote processes accounted for` +
        (pids.length < known ? ` (${known - pids.length} dead idle instance(s) not destroyed yet)` : '');
      return pids.length <= known;
    }, 10_000);
    checks.push({ name: 'no stray process while it runs', ok: accounted, detail: stray });
    const stats = await daemon.client.stats();
    const mountsBefore = mountsOf(daemonPid, path.join(daemon.stateDir, 'sandboxes')).length;
    notes.push(
      `daemon: ${stats.invocations.total} invocations, ${stats.invocations.errors} errors, Zygotes died ${stats.zygotes.died} / created ${stats.zygotes.created}; ` +
        `${status1.instances.live} live instances, ${mountsBefore} sandbox mounts before the stop; requests by uid ${JSON.stringify(stats.requests?.byUid ?? {})}`,
    );

    // --- stop, then nothing may be left
    onProgress('stopping the daemon and checking for leaks', 0.92);
    let stopError = '';
    await daemon.stop().catch((err) => (stopError = (err as Error).message));
    checks.push({ name: 'it stopped cleanly on SIGTERM', ok: stopError === '', detail: stopError || 'exit 0' });
    const procs = processesOf(daemon.stateDir);
    checks.push({ name: 'no process left', ok: procs.length === 0 && !alive(daemonPid), detail: `${procs.length} in its cgroups; daemon ${alive(daemonPid) ? 'alive' : 'gone'}` });
    const cgs = cgroupsOf(daemon.stateDir);
    checks.push({ name: 'no cgroup left', ok: cgs.length === 0, detail: cgs.length ? cgs.join(', ') : 'none' });
    const hostMounts = mountsOf(process.pid, tmp);
    checks.push({ name: 'no mount left', ok: hostMounts.length === 0 && mountsOf(daemonPid, daemon.stateDir).length === 0, detail: hostMounts.length ? hostMounts.join(', ') : 'none (the daemon’s namespace is gone)' });
    const scratch = path.join(daemon.stateDir, 'sandboxes');
    const leftScratch = fs.existsSync(scratch) ? fs.readdirSync(scratch) : [];
    checks.push({ name: 'no scratch directory left', ok: leftScratch.length === 0, detail: leftScratch.length ? `${leftScratch.length} under ${scratch}` : 'none' });

    const latency = summarize(latencies.length ? latencies : [0]);
    const throughput = calls / loadSeconds;
    const targets: Target[] = [
      target('lost answers', '0', counts.lost, counts.lost === 0, String(counts.lost)),
      target('wrong answers', '0', counts.wrong, counts.wrong === 0, String(counts.wrong)),
      target('calls without a result (gave up or failed)', '0', counts.gaveUp + counts.failed, counts.gaveUp + counts.failed === 0, `${counts.gaveUp} gave up, ${counts.failed} failed`),
      target(`${calls} calls at ${clients} clients${kills ? ' with random kills' : ''}, no restart`, 'same daemon', status1.pid, checks[0].ok, checks[0].detail),
      target('nothing left after the stop', 'no mount, cgroup, process, scratch', 0, checks.slice(-4).every((c) => c.ok), checks.slice(-4).every((c) => c.ok) ? 'none' : 'see the checks'),
    ];
    report = {
      benchmark: 'load',
      version: VERSION,
      startedAt: started.toISOString(),
      durationSeconds: 0,
      host: { kernel: os.release(), cpus: os.cpus().length, cgroupMode: readLayout().mode, node: process.version },
      params: { clients, calls, functions: nfn, kills, maxAttempts: MAX_ATTEMPTS, maxConcurrentCalls: MAX_CONCURRENT_CALLS },
      loadSeconds,
      throughput,
      latency,
      counts,
      tiers,
      errors,
      kills: killed,
      problems,
      checks,
      targets,
      notes,
    };
  } finally {
    stopKiller();
    await d?.stop().catch(() => {});
    try {
      removeTree(tmp);
    } catch (err) {
      notes.push(`clean-up: ${(err as Error).message}`);
    }
  }
  if (!report) throw new Error('internal: no report');
  report.durationSeconds = (performance.now() - t0) / 1000;
  return report;
}

type CallOutcome = { kind: 'answer'; res: RawResponse; body: unknown } | { kind: 'lost'; why: string };

/** One POST /run with {n}; any HTTP answer whose body is JSON is an answer, anything else is lost. */
async function callOnce(client: SockpitClient, name: string, n: number): Promise<CallOutcome> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const res = await Promise.race([
      client.request('POST', `/run/${name}`, JSON.stringify({ n })),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${CALL_DEADLINE_MS} ms`)), CALL_DEADLINE_MS))),
    ]);
    try {
      return { kind: 'answer', res, body: JSON.parse(res.body.toString('utf8')) };
    } catch {
      return { kind: 'lost', why: `${res.status} with a body that is not JSON: ${res.body.toString('utf8').slice(0, 100)}` };
    }
  } catch (err) {
    return { kind: 'lost', why: `${(err as { code?: string }).code ?? ''} ${(err as Error).message}`.trim() };
  } finally {
    clearTimeout(timer);
  }
}

function header(res: RawResponse, name: string): string | null {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v ?? null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function eventually(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return true;
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
}

export function formatLoadReport(r: LoadReport): string {
  const c = r.counts;
  const out: string[] = [];
  out.push(`sockpit bench load — sockpit ${r.version}, ${r.host.cpus} CPUs, kernel ${r.host.kernel}, cgroups ${r.host.cgroupMode}, node ${r.host.node}`);
  out.push(
    `${r.params.calls} calls from ${r.params.clients} concurrent clients over ${r.params.functions} functions` +
      (r.params.kills ? `, ${r.kills.zygotes} Zygotes and ${r.kills.instances} instances SIGKILLed at random (every 50-100 ms)` : ', no kills') +
      `; retryable errors retried up to ${r.params.maxAttempts - 1} times`,
  );
  out.push('');
  out.push(
    renderTable(
      ['throughput', 'p50', 'p99', 'max', 'ok', 'retried', 'lost', 'wrong', 'gave up', 'failed', 'warm', 'zygote', 'cold'],
      [
        [
          `${r.throughput.toFixed(0)} calls/s`,
          `${formatMs(r.latency.p50)} ms`,
          `${formatMs(r.latency.p99)} ms`,
          `${formatMs(r.latency.max)} ms`,
          String(c.ok),
          String(c.retried),
          String(c.lost),
          String(c.wrong),
          String(c.gaveUp),
          String(c.failed),
          String(r.tiers.warm ?? 0),
          String(r.tiers.zygote ?? 0),
          String(r.tiers.cold ?? 0),
        ],
      ],
      ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
  );
  out.push('(latency end to end per call, retries included; retried = calls that got a retryable error first, then the right answer)');
  const errs = Object.entries(r.errors).sort((a, b) => b[1] - a[1]);
  if (errs.length) out.push(`error answers (${c.retries} retried): ${errs.map(([k, v]) => `${k} ×${v}`).join(', ')}`);
  out.push('');
  out.push(renderTable(['check', '', ''], r.checks.map((ch) => [ch.name, mark(ch.ok), ch.detail])));
  out.push('');
  out.push(renderTable(['target', 'goal', 'measured', ''], r.targets.map((t) => [t.name, t.target, t.measured, mark(t.ok)])));
  if (r.problems.length) out.push('', 'problems:', ...r.problems.map((p) => `  ${p}`));
  if (r.notes.length) out.push('', ...r.notes);
  out.push(`(${r.durationSeconds.toFixed(1)} s in all, ${r.loadSeconds.toFixed(1)} s of load)`);
  return out.join('\n');
}
