// (a) Deploy a function folder and invoke it through the UI: the result shows, and the tier that served it.

import { expect, HELLO, test } from '../fixtures';
import fs from 'node:fs';
import path from 'node:path';
import { strToU8, zipSync } from 'fflate';
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

test('a zip of a function folder deploys from the browser, and the list shows who owns it', async ({ env, functions, client }) => {
  const zip = path.join(env.dir, 'zipped.zip');
  fs.writeFileSync(zip, zipSync({ 'zipped/f.py': strToU8('def f(event):\n    return "from a zip"\n') }));
  await functions.open(env.panelSignInUrl);
  await functions.deployZip('zipped', zip);
  expect((await client.getFunction('zipped')).owner).toBe(0);
  await expect(functions.table.getByRole('row', { name: /zipped/ })).toContainText('root');
  await functions.invoke('zipped', '{}');
  await expect(functions.result).toContainText('from a zip');
});
