// Benchmark runs: the jobs sockpitd keeps (GET /v1/benchmarks), their progress from `benchmark` events, the
// run selected for the charts and export, and starting a suite.

import { createStore } from 'zustand/vanilla';
import { errorMessage } from '../bridge/errors';
import type { BenchmarkJob, BenchmarkSuite, Published, SockpitBridge } from '../bridge/types';

export { SUITES } from '../../../api';

export interface BenchmarksStore {
  jobs: BenchmarkJob[];
  loaded: boolean;
  error: string | null;
  selected: string | null;
  iterations: Record<BenchmarkSuite, number>;
  starting: Record<BenchmarkSuite, boolean>;
  startError: Record<BenchmarkSuite, string | null>;
  refresh(): Promise<void>;
  start(suite: BenchmarkSuite): Promise<void>;
  select(id: string | null): void;
  setIterations(suite: BenchmarkSuite, n: number): void;
  onEvent(event: Published): void;
}

const byNewest = (a: BenchmarkJob, b: BenchmarkJob) => (b.startedAt ?? '').localeCompare(a.startedAt ?? '');

/** The jobs after a `benchmark` event: the job's state, progress and message updated, or a new one added. */
export function applyBenchmarkEvent(jobs: readonly BenchmarkJob[], e: Published): BenchmarkJob[] {
  if (e.type !== 'benchmark') return jobs as BenchmarkJob[];
  const state: BenchmarkJob['state'] = e.state === 'finished' ? 'finished' : e.state === 'failed' ? 'failed' : 'running';
  const progress = Number.isFinite(e.progress) ? Math.min(1, Math.max(0, e.progress)) : 0;
  const i = jobs.findIndex((j) => j.id === e.id);
  if (i === -1) {
    const job: BenchmarkJob = {
      id: e.id,
      suite: e.suite as BenchmarkSuite,
      state,
      progress: state === 'finished' ? 1 : progress,
      message: e.message ?? '',
      startedAt: e.at,
      finishedAt: state === 'running' ? null : e.at,
      result: null,
      error: state === 'failed' ? (e.message ?? 'failed') : null,
    };
    return [job, ...jobs].sort(byNewest);
  }
  const old = jobs[i];
  // a late progress event never moves a finished job back
  if (old.state !== 'running' && state === 'running') return jobs as BenchmarkJob[];
  const next: BenchmarkJob = {
    ...old,
    state,
    progress: state === 'finished' ? 1 : Math.max(old.progress ?? 0, progress),
    message: e.message ?? old.message,
    finishedAt: state === 'running' ? old.finishedAt : (old.finishedAt ?? e.at),
    error: state === 'failed' ? (e.message ?? old.error ?? 'failed') : old.error,
  };
  const out = [...jobs];
  out[i] = next;
  return out;
}

/** The job a suite's progress bar follows: its newest running one, else its newest one. */
export function currentJob(jobs: readonly BenchmarkJob[], suite: BenchmarkSuite): BenchmarkJob | null {
  const mine = jobs.filter((j) => j.suite === suite).sort(byNewest);
  return mine.find((j) => j.state === 'running') ?? mine[0] ?? null;
}

/** Merges a fresh list from the service with what events told (events may be ahead of the list). */
export function mergeJobs(fromService: readonly BenchmarkJob[], known: readonly BenchmarkJob[]): BenchmarkJob[] {
  const byId = new Map(fromService.map((j) => [j.id, j]));
  for (const k of known) {
    const s = byId.get(k.id);
    if (!s) byId.set(k.id, k);
    else if (s.state === 'running' && k.state === 'running' && (k.progress ?? 0) > (s.progress ?? 0)) byId.set(k.id, { ...s, progress: k.progress, message: k.message || s.message });
  }
  return [...byId.values()].sort(byNewest);
}

export function createBenchmarksStore(bridge: Pick<SockpitBridge, 'startBenchmark' | 'benchmarks'>) {
  return createStore<BenchmarksStore>()((set, get) => ({
    jobs: [],
    loaded: false,
    error: null,
    selected: null,
    iterations: { sandbox: 50, provisioning: 10 },
    starting: { sandbox: false, provisioning: false },
    startError: { sandbox: null, provisioning: null },

    async refresh() {
      try {
        const jobs = mergeJobs(await bridge.benchmarks(), get().jobs);
        const selected = get().selected ?? jobs.find((j) => j.state === 'finished')?.id ?? null;
        set({ jobs, loaded: true, error: null, selected });
      } catch (err) {
        set({ error: errorMessage(err), loaded: true });
      }
    },

    async start(suite) {
      set({ starting: { ...get().starting, [suite]: true }, startError: { ...get().startError, [suite]: null } });
      try {
        const iterations = get().iterations[suite];
        const job = await bridge.startBenchmark(suite, Number.isInteger(iterations) && iterations > 0 ? { iterations } : undefined);
        set({ jobs: mergeJobs([job], get().jobs) });
      } catch (err) {
        set({ startError: { ...get().startError, [suite]: errorMessage(err) } });
      } finally {
        set({ starting: { ...get().starting, [suite]: false } });
      }
    },

    select(id) {
      set({ selected: id });
    },

    setIterations(suite, n) {
      set({ iterations: { ...get().iterations, [suite]: n } });
    },

    onEvent(event) {
      if (event.type !== 'benchmark') return;
      set({ jobs: applyBenchmarkEvent(get().jobs, event) });
      // the report comes with the job once it finished
      if (event.state === 'finished' || event.state === 'failed') {
        void get()
          .refresh()
          .then(() => {
            if (event.state === 'finished') set({ selected: event.id });
          });
      }
    },
  }));
}
