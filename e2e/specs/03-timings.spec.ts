// (c) The timings chart gets points as calls run: with the Timings view open, calls made meanwhile (through the
// API, so the only way the page learns of them is the live event stream) add points.

import { expect, ensureHello, HELLO, test } from '../fixtures';
import { writeFunction } from '../env';

test('the timings chart gets points as calls run', async ({ env, timings, client }) => {
  await ensureHello(client, writeFunction(env, 'hello', HELLO));
  await timings.open(env.panelSignInUrl);
  await timings.show('Timings');
  // calls of the earlier specs may be plotted already; start from whatever is there
  await client.run('hello', { name: 'timings-0' });
  await expect(timings.points.first()).toBeVisible();
  const before = await timings.points.count();
  for (let i = 1; i <= 5; i++) {
    const r = await client.run('hello', { name: `timings-${i}` });
    expect(r.status).toBe(200);
  }
  await expect.poll(() => timings.points.count()).toBeGreaterThanOrEqual(before + 5);
});
