// Benchmark jobs of sockpitd (POST /v1/benchmarks): a suite runs as a child process,
// `node bin/sockpit.js bench <suite> --json --progress-json [--iterations n]`, in its own process group. Its
// progress lines (stderr) become `benchmark` events on the bus; its stdout is the JSON report. One job at a time;
// the last 50 are kept in memory and the finished ones in a JSON file in the state directory, so the history
// survives a restart. Stopping the daemon kills a running job (SIGTERM to its group: the suite cleans up its own
// daemons; SIGKILL after a grace period) and marks it failed.

import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SUITES, type BenchmarkJob, type BenchmarkSuite } from '../../../api';
import { SockpitError, badRequest } from '../errors';
import { REPO_ROOT } from '../paths';
import type { EventBus } from '../telemetry/events';
import { LineSplitter, parseProgressLine } from './progress';

export { SUITES };
export type { BenchmarkJob, BenchmarkSuite } from '../../../api';

export interface BenchmarkRequest {
  suite: BenchmarkSuite;
  iterations?: number;
}

export const MAX_ITERATIONS = 100_000;
const KEEP = 50;
// a suite stopped mid-run stops its daemons and removes its sandboxes, cgroups and mounts first: that can take
// most of a minute on a loaded 2-core machine, and a SIGKILL before it ends would leave them behind
const STOP_GRACE_MS = 120_000;
const MAX_STDOUT_BYTES = 32 * 2 ** 20;
const STDERR_TAIL = 4000;

/** Validates a POST /v1/benchmarks body (already parsed JSON). Throws bad_request. */
export function parseBenchmarkRequest(body: unknown): BenchmarkRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the request body must be a JSON object');
  const { suite, iterations, ...rest } = body as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw badRequest(`unknown field(s): ${unknown.join(', ')}`);
  if (typeof suite !== 'string' || !(SUITES as readonly string[]).includes(suite)) {
    throw badRequest(`suite must be one of ${SUITES.map((s) => `"${s}"`).join(', ')}, got ${JSON.stringify(suite)}`);
  }
  if (iterations !== undefined && (typeof iterations !== 'number' || !Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS)) {
    throw badRequest(`iterations must be an integer from 1 to ${MAX_ITERATIONS}, got ${JSON.stringify(iterations)}`);
  }
  return iterations === undefined ? { suite: suite as BenchmarkSuite } : { suite: suite as BenchmarkSuite, iterations };
}

/** A running suite, as the job bookkeeping sees it. */
export interface JobProcess {
  /** a progress line, or another stderr line */
  onProgress(listener: (progress: number, message: string) => void): void;
  /** once: the exit, with stdout and the tail of stderr */
  onExit(listener: (exit: { code: number | null; signal: string | null; stdout: string; stderrTail: string; spawnError?: string }) => void): void;
  /** asks the suite to stop (it cleans up), then kills it after a grace period */
  kill(graceMs: number): void;
}

export type Launcher = (req: BenchmarkRequest) => JobProcess;

/** The default launcher: the CLI in a child process group. */
export const launchCli: Launcher = (req) => {
  const args = [path.join(REPO_ROOT, 'bin', 'sockpit.js'), 'bench', req.suite, '--json', '--progress-json'];
  if (req.iterations !== undefined) args.push('--iterations', String(req.iterations));
  // without the daemon's mount-namespace mark: a suite that mounts makes its own private namespace
  const env = { ...process.env };
  delete env.SOCKPIT_PRIVATE_MOUNTNS;
  const child: ChildProcess = spawn(process.execPath, args, { cwd: '/', env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const progress: Array<(p: number, m: string) => void> = [];
  const exits: Array<Parameters<JobProcess['onExit']>[0]> = [];
  const stdout: Buffer[] = [];
  let stdoutBytes = 0;
  let stderrTail = '';
  const lines = new LineSplitter();
  const onLine = (line: string) => {
    const p = parseProgressLine(line);
    if (p) progress.forEach((l) => l(p.progress, p.message));
    else if (line.trim() !== '') stderrTail = (stderrTail + line + '\n').slice(-STDERR_TAIL);
  };
  child.stdout!.on('data', (d: Buffer) => {
    stdoutBytes += d.length;
    if (stdoutBytes <= MAX_STDOUT_BYTES) stdout.push(d);
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => lines.push(d).forEach(onLine));
  let done = false;
  let killTimer: NodeJS.Timeout | null = null;
  const finish = (code: number | null, signal: string | null, spawnError?: string) => {
    if (done) return;
    done = true;
    if (killTimer) clearTimeout(killTimer);
    lines.end().forEach(onLine);
    const out = stdoutBytes > MAX_STDOUT_BYTES ? '' : Buffer.concat(stdout).toString('utf8');
    exits.forEach((l) => l({ code, signal, stdout: out, stderrTail, spawnError }));
  };
  // 'close': the exit and the end of both pipes, so stdout is complete
  child.once('close', (code, signal) => finish(code, signal));
  child.once('error', (err) => finish(null, null, err.message));
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  return {
    onProgress: (l) => void progress.push(l),
    onExit: (l) => void exits.push(l),
    kill(graceMs) {
      if (done) return;
      killGroup('SIGTERM');
      killTimer ??= setTimeout(() => killGroup('SIGKILL'), graceMs);
    },
  };
};

export interface BenchmarkJobsOptions {
  bus?: EventBus | null;
  /** where finished jobs are kept across restarts; null = in memory only */
  historyFile?: string | null;
  launcher?: Launcher;
  keep?: number;
  stopGraceMs?: number;
}

/** The benchmark jobs of one daemon: start, list, get, and stop everything on close. */
export class BenchmarkJobs {
  /** oldest first */
  private readonly jobs: BenchmarkJob[] = [];
  private running: { job: BenchmarkJob; proc: JobProcess; exited: Promise<void> } | null = null;
  private closed = false;
  private readonly bus: EventBus | null;
  private readonly historyFile: string | null;
  private readonly launcher: Launcher;
  private readonly keep: number;
  private readonly stopGraceMs: number;

  constructor(opts: BenchmarkJobsOptions = {}) {
    this.bus = opts.bus ?? null;
    this.historyFile = opts.historyFile ?? null;
    this.launcher = opts.launcher ?? launchCli;
    this.keep = opts.keep ?? KEEP;
    this.stopGraceMs = opts.stopGraceMs ?? STOP_GRACE_MS;
    this.jobs.push(...loadHistory(this.historyFile).slice(-this.keep));
  }

  /** Starts a suite. Throws conflict while another job runs, unavailable once closed. */
  start(req: BenchmarkRequest): BenchmarkJob {
    if (this.closed) throw new SockpitError('unavailable', 'sockpitd is shutting down');
    if (this.running) {
      throw new SockpitError('conflict', `benchmark ${this.running.job.id} (${this.running.job.suite}) is still running; one runs at a time`, {
        detail: { running: this.running.job.id },
      });
    }
    const job: BenchmarkJob = {
      id: `bench-${Date.now().toString(36)}-${crypto.randomBytes(3).toString('hex')}`,
      suite: req.suite,
      state: 'running',
      progress: 0,
      message: 'starting',
      startedAt: new Date().toISOString(),
      finishedAt: null,
      result: null,
      error: null,
    };
    const proc = this.launcher(req);
    let resolveExit!: () => void;
    const exited = new Promise<void>((r) => (resolveExit = r));
    this.running = { job, proc, exited };
    this.add(job);
    this.publish(job, 'started');
    proc.onProgress((progress, message) => {
      if (job.state !== 'running') return;
      job.progress = Math.max(job.progress, progress);
      job.message = message;
      this.publish(job, 'progress');
    });
    proc.onExit(({ code, signal, stdout, stderrTail, spawnError }) => {
      try {
        if (job.state === 'running') settle(job, code, signal, stdout, stderrTail, spawnError);
        job.finishedAt ??= new Date().toISOString();
        if (this.running?.job === job) this.running = null;
        this.publish(job, job.state === 'finished' ? 'finished' : 'failed');
        this.persist();
      } finally {
        resolveExit();
      }
    });
    return { ...job };
  }

  /** newest first */
  list(): BenchmarkJob[] {
    return [...this.jobs].reverse().map((j) => ({ ...j }));
  }

  get(id: string): BenchmarkJob | undefined {
    const job = this.jobs.find((j) => j.id === id);
    return job && { ...job };
  }

  /** Kills a running job (marked failed) and waits for it to exit. */
  async close(): Promise<void> {
    this.closed = true;
    const r = this.running;
    if (!r) return;
    r.job.state = 'failed';
    r.job.error = 'sockpitd stopped while the benchmark ran';
    r.job.message = 'stopped';
    r.job.finishedAt = new Date().toISOString();
    r.proc.kill(this.stopGraceMs);
    await r.exited;
  }

  private add(job: BenchmarkJob): void {
    this.jobs.push(job);
    while (this.jobs.length > this.keep) {
      const i = this.jobs.findIndex((j) => j.state !== 'running');
      this.jobs.splice(i === -1 ? 0 : i, 1);
    }
  }

  private publish(job: BenchmarkJob, state: 'started' | 'progress' | 'finished' | 'failed'): void {
    this.bus?.publish({
      type: 'benchmark',
      id: job.id,
      suite: job.suite,
      state,
      progress: job.progress,
      message: state === 'failed' ? job.error ?? job.message : job.message,
    });
  }

  private persist(): void {
    if (!this.historyFile) return;
    const done = this.jobs.filter((j) => j.state !== 'running');
    try {
      const tmp = `${this.historyFile}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify({ version: 1, jobs: done }), { mode: 0o600 });
      fs.renameSync(tmp, this.historyFile);
    } catch (err) {
      console.error(`sockpitd: can't save the benchmark history to ${this.historyFile}: ${(err as Error).message}`);
    }
  }
}

/** How a job ends, from its process's exit: finished with the parsed report, or failed with why. Pure. */
export function settle(job: BenchmarkJob, code: number | null, signal: string | null, stdout: string, stderrTail: string, spawnError?: string): void {
  job.finishedAt = new Date().toISOString();
  const why = (what: string) => {
    job.state = 'failed';
    const tail = stderrTail.trim().split('\n').slice(-5).join('\n');
    job.error = tail ? `${what}: ${tail}` : what;
    job.message = 'failed';
  };
  if (spawnError) return why(`the benchmark could not start: ${spawnError}`);
  if (code !== 0) return why(`the benchmark exited with ${code ?? signal}`);
  try {
    job.result = JSON.parse(stdout);
  } catch (err) {
    return why(`the benchmark's report is not JSON (${(err as Error).message})`);
  }
  job.state = 'finished';
  job.progress = 1;
  job.message = 'finished';
}

/** Finished jobs from the history file; nothing when it is missing or unreadable. */
export function loadHistory(file: string | null): BenchmarkJob[] {
  if (!file) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') console.error(`sockpitd: ignoring the benchmark history ${file}: ${(err as Error).message}`);
    return [];
  }
  const jobs = (parsed as { jobs?: unknown })?.jobs;
  if (!Array.isArray(jobs)) return [];
  return jobs.filter(
    (j): j is BenchmarkJob =>
      j !== null &&
      typeof j === 'object' &&
      typeof j.id === 'string' &&
      (SUITES as readonly string[]).includes(j.suite) &&
      (j.state === 'finished' || j.state === 'failed'),
  );
}
