// Benchmark jobs of sockpitd (POST/GET /v1/benchmarks): the suites it runs and a job as it is reported.

export const SUITES = ['sandbox', 'provisioning'] as const;
export type BenchmarkSuite = (typeof SUITES)[number];

export interface BenchmarkJob {
  id: string;
  suite: BenchmarkSuite;
  state: 'running' | 'finished' | 'failed';
  /** 0..1 */
  progress: number;
  message: string;
  startedAt: string;
  finishedAt: string | null;
  /** the suite's JSON report (the same as `sockpit bench <suite> --json`) once finished */
  result: unknown;
  error: string | null;
}
