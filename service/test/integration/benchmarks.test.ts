// Benchmark jobs end to end: POST /v1/benchmarks runs a real (tiny) sandbox suite as a child of sockpitd, its
// progress streams as `benchmark` events, the result is kept, survives a restart, and a second run while one is
// going is refused. The provisioning suite is too slow for a test (its pandas cold starts alone take seconds):
// run it by hand with `sockpit bench provisioning`.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../../src/client';
import type { BenchmarkJob } from '../../src/bench/jobs';
import type { Published } from '../../src/telemetry/events';
import { cmdlineOf, descendantsOf, startDaemon, TestDaemon } from './harness';

let d: TestDaemon;
let stopped = false;

before(async () => {
  d = await startDaemon();
});

after(async () => {
  if (!stopped) await d?.stop();
});

type BenchmarkEvent = Extract<Published, { type: 'benchmark' }>;

test('a sandbox benchmark runs as a job: events until finished, then the report', { timeout: 120_000 }, async () => {
  const events: BenchmarkEvent[] = [];
  const abort = new AbortController();
  let finish!: () => void;
  const ended = new Promise<void>((r) => (finish = r));
  const following = d.client.followEvents(
    (e) => {
      if (e.type !== 'benchmark') return;
      events.push(e);
      if (e.state === 'finished' || e.state === 'failed') finish();
    },
    { types: ['benchmark'], signal: abort.signal, since: 0 },
  );

  const job = await d.client.startBenchmark('sandbox', { iterations: 2 });
  assert.equal(job.suite, 'sandbox');
  assert.equal(job.state, 'running');

  // one at a time
  await assert.rejects(d.client.startBenchmark('provisioning', { iterations: 1 }), (e: ApiError) => e.status === 409 && e.code === 'conflict');
  assert.equal((await d.client.benchmarks())[0].id, job.id);

  await ended;
  abort.abort();
  await following;
  const mine = events.filter((e) => e.id === job.id);
  assert.equal(mine[0].state, 'started');
  const last = mine[mine.length - 1];
  const done = await d.client.benchmark(job.id);
  assert.equal(last.state, 'finished', `${last.message}\n${done.error}\n${d.log().slice(-2000)}`);
  const progress = mine.filter((e) => e.state === 'progress');
  assert.ok(progress.length >= 3, `progress events: ${progress.length}`);
  const fractions = progress.map((e) => e.progress);
  assert.deepEqual(fractions, [...fractions].sort((a, b) => a - b), 'progress never goes backwards');
  assert.ok(fractions.some((p) => p > 0 && p < 1), 'fractional progress');

  assert.equal(done.state, 'finished');
  assert.equal(done.progress, 1);
  assert.equal(done.error, null);
  assert.ok(done.finishedAt && done.finishedAt >= done.startedAt);
  const report = done.result as Record<string, any>;
  assert.equal(report.benchmark, 'sandbox');
  for (const section of ['createDestroy', 'python', 'invoke', 'targets', 'iterations']) assert.ok(section in report, `report has ${section}`);
  assert.equal(report.iterations.python, 2);
  assert.deepEqual(report.invoke.rows.map((r: { key: string }) => r.key), ['cold', 'warm']);
  assert.ok(report.targets.length > 0);
});

test('bad input is a 400, an unknown id a 404', async () => {
  for (const body of ['{"suite": "docker"}', '{"suite": "sandbox", "iterations": 0}', '{"suite": "sandbox", "iterations": "2"}', 'nope', '[]']) {
    const res = await d.client.request('POST', '/v1/benchmarks', body);
    assert.equal(res.status, 400, body);
    assert.equal(JSON.parse(res.body.toString()).error.code, 'bad_request');
  }
  await assert.rejects(d.client.benchmark('bench-nope'), (e: ApiError) => e.status === 404);
});

test('finished jobs survive a restart; stopping the daemon kills a running job and marks it failed', { timeout: 300_000 }, async () => {
  const before = await d.client.benchmarks();
  assert.ok(before.some((j) => j.state === 'finished'));
  await d.killAndRestart();
  const afterRestart = await d.client.benchmarks();
  assert.deepEqual(afterRestart.map((j) => j.id), before.map((j) => j.id));
  assert.deepEqual((await d.client.benchmark(before[0].id)).result, before[0].result);

  // a long one, stopped by the daemon's stop: the job is failed, its processes gone, its temp dir removed
  const job = await d.client.startBenchmark('sandbox', { iterations: 1000 });
  // stopped while it measures (its set-up spawns peers that share its process group, which a stop also signals)
  for (const deadline = Date.now() + 60_000; (await d.client.benchmark(job.id)).progress < 0.12; ) {
    assert.ok(Date.now() < deadline, 'the job got past its set-up');
    await new Promise((r) => setTimeout(r, 200));
  }
  // this job's processes and temp dir (other benchmarks may run on the machine: theirs are not this test's)
  const jobProcesses = descendantsOf(d.pid).map((pid) => ({ pid, cmdline: cmdlineOf(pid) }));
  const tempDir = jobProcesses.map((p) => /(\/tmp\/sockpit-bench-[^/\s]+)\//.exec(p.cmdline)?.[1]).find(Boolean);
  assert.ok(tempDir, `the job's daemons run in its temp dir: ${JSON.stringify(jobProcesses)}`);
  stopped = true;
  await d.stop({ keepFiles: true });
  try {
    const history = JSON.parse(fs.readFileSync(path.join(d.stateDir, 'benchmarks.json'), 'utf8')) as { jobs: BenchmarkJob[] };
    const stopped = history.jobs.find((j) => j.id === job.id);
    assert.ok(stopped, 'the stopped job is in the history');
    assert.equal(stopped.state, 'failed');
    assert.match(stopped.error ?? '', /stopped/);
    // a pid reused since would have another command line
    const leftovers = jobProcesses.filter((p) => p.cmdline !== '' && cmdlineOf(p.pid) === p.cmdline);
    assert.deepEqual(leftovers, [], 'no process of the job is left');
    assert.ok(!fs.existsSync(tempDir), 'the suite removed its temp dir');
  } finally {
    fs.rmSync(d.dir, { recursive: true, force: true });
  }
});
