// (e) The panel shows the disconnect and recovers across a daemon restart: SIGTERM sockpitd, the banner appears;
// start it again on the same socket and state, the banner goes away and the functions are still listed.

import { expect, ensureHello, HELLO, test } from '../fixtures';
import { logs, startDaemon, stopDaemon, writeEnv, writeFunction } from '../env';

test('the banner shows while sockpitd is down and goes once it is back; functions are still listed', async ({ env, functions, client }) => {
  await ensureHello(client, writeFunction(env, 'hello', HELLO));
  await functions.open(env.panelSignInUrl);
  await expect(functions.disconnectBanner).toBeHidden();

  await stopDaemon(env);
  await expect(functions.disconnectBanner, logs(env)).toBeVisible({ timeout: 30_000 });
  await functions.screenshot(test.info().outputPath('disconnected.png'));

  await startDaemon(env);
  writeEnv(env);
  await expect(functions.disconnectBanner, logs(env)).toBeHidden({ timeout: 30_000 });
  await functions.show('Functions');
  await expect(functions.listed('hello')).toBeVisible();
  // and it works again
  const tier = await functions.invoke('hello', '{"name": "after restart"}');
  expect(['zygote', 'cold']).toContain(tier);
  await expect(functions.result).toContainText('hello after restart');
});
