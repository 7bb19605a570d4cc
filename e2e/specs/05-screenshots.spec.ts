// (g) A full-page screenshot of each of the four views once data exists (the earlier specs made it), saved as the
// test's artifacts; the Zygotes view (a grown tree) also goes to docs/panel.png for the README.

import fs from 'node:fs';
import path from 'node:path';
import { expect, ensureHello, HELLO, test } from '../fixtures';
import { REPO, writeFunction } from '../env';
import type { ViewName } from '../pages/panel';

const VIEWS: ViewName[] = ['Functions', 'Zygotes', 'Timings', 'Benchmarks'];

test('a screenshot of every view with data in it', async ({ env, functions, client }) => {
  await ensureHello(client, writeFunction(env, 'hello', HELLO));
  await functions.open(env.panelSignInUrl);
  // a fresh result on the Functions view
  await functions.invoke('hello', '{"name": "screenshot"}');
  for (const view of VIEWS) {
    await functions.show(view);
    await expect(functions.navButton(view)).toBeVisible();
    // let charts finish their entry animation
    await functions.page.waitForTimeout(1500);
    const file = test.info().outputPath(`${view.toLowerCase()}.png`);
    let docs: string | undefined;
    if (view === 'Zygotes') {
      fs.mkdirSync(path.join(REPO, 'docs'), { recursive: true });
      docs = path.join(REPO, 'docs/panel.png');
    }
    await functions.screenshot(file, docs);
    await test.info().attach(view, { path: file, contentType: 'image/png' });
  }
});
