// (a) Deploy a function folder and invoke it through the UI: the result shows, and the tier that served it.

import { expect, HELLO, test } from '../fixtures';
import { writeFunction } from '../env';

test('deploy and invoke through the UI: the result and the tier show', async ({ env, functions, client }) => {
  const dir = writeFunction(env, 'hello', HELLO);
  await functions.open(env.panelSignInUrl);
  await functions.deploy('hello', dir);
  expect((await client.listFunctions()).map((f) => f.name)).toContain('hello');

  const first = await functions.invoke('hello', '{"name": "e2e"}');
  expect(['zygote', 'cold']).toContain(first);
  await expect(functions.result).toContainText('hello e2e');

  // once the instance is idle again the next call is warm (it may still be on its way back for an instant)
  const tiers: string[] = [];
  for (let i = 0; i < 3 && tiers.at(-1) !== 'warm'; i++) {
    tiers.push(await functions.invoke('hello', `{"name": "again ${i}"}`));
    await expect(functions.result).toContainText(`hello again ${i}`);
  }
  expect(tiers.at(-1), `tiers of the calls after the first: ${tiers.join(', ')}`).toBe('warm');
});

test('invalid JSON in the event gets the service\'s answer, not a crash', async ({ env, functions, client }) => {
  const dir = writeFunction(env, 'hello', HELLO);
  if (!(await client.listFunctions()).some((f) => f.name === 'hello')) await client.deploy('hello', dir);
  await functions.open(env.panelSignInUrl);
  await functions.select('hello');
  await functions.event.fill('{"name": ');
  await functions.invokeButton.click();
  await expect(functions.result).toContainText(/400|bad_request|JSON/i);
});
