// (h) The web panel needs a secret: opened without the token the page loads but says it is signed out (how to sign
// in, not a page of failed calls) and shows no data; opened with the URL `sockpit panel` printed, it signs in, the
// token leaves the address bar, and the panel works, also after a reload (the cookie stays).

import { expect, ensureHello, HELLO, test } from '../fixtures';
import { writeFunction } from '../env';

test('without the token the panel is signed out and says how to sign in; with it the panel works', async ({ env, functions, client, page }) => {
  await ensureHello(client, writeFunction(env, 'hello', HELLO));

  await functions.open(env.panelUrl);
  await expect(functions.signedOutNotice).toBeVisible();
  await expect(functions.signedOutNotice).toContainText('sockpit panel --show-url');
  // no errors, no disconnect banner, and none of the daemon's data
  await expect(functions.disconnectBanner).toBeHidden();
  await expect(functions.connectedBanner).toBeHidden();
  await expect(page.getByText('hello', { exact: true })).toHaveCount(0);
  await functions.screenshot(test.info().outputPath('signed-out.png'));
  // nothing readable through the page's own origin either
  const status = await page.evaluate(async () => (await fetch('/api/v1/functions', { headers: { 'x-sockpit-panel': '1' } })).status);
  expect(status).toBe(401);

  await functions.open(env.panelSignInUrl);
  expect(page.url()).toBe(env.panelUrl);
  await expect(functions.signedOutNotice).toBeHidden();
  await expect(functions.connectedBanner).toBeVisible();
  await expect(functions.listed('hello')).toBeVisible();
  const cookies = await page.context().cookies(env.panelUrl);
  const session = cookies.find((c) => c.name === `sockpit-panel-${env.panelPort}`);
  expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });

  await page.reload();
  await expect(functions.connectedBanner).toBeVisible();
  await expect(functions.listed('hello')).toBeVisible();
});
