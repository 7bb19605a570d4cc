// (d) A benchmark started by its button (the sandbox suite, a few iterations) runs with a progress bar, finishes,
// and shows its chart.

import type { BenchmarkJob } from '../../api';
import { expect, test } from '../fixtures';

test('a sandbox benchmark started from its button finishes and shows its chart', async ({ env, benchmarks, client }) => {
  test.setTimeout(600_000);
  await benchmarks.open(env.panelSignInUrl);
  await benchmarks.run('sandbox', 3);
  const end = await benchmarks.waitForEnd('sandbox', 540_000);
  expect(end).toMatch(/finished/);
  await expect(benchmarks.charts('sandbox').first()).toBeVisible();
  const jobs = await (client as unknown as { benchmarks(): Promise<BenchmarkJob[]> }).benchmarks();
  const job = jobs.filter((j) => j.suite === 'sandbox').at(-1);
  expect(job?.state, job?.error ?? '').toBe('finished');
});
