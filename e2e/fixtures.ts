// The specs' test object: `env` (the running sockpitd and panel, see env.ts), `client` (the service's typed
// client, for setting things up and checking behind the UI's back) and the page objects.

import { test as base } from '@playwright/test';
import { SockpitClient } from '../service/src/client';
import { E2eEnv, readEnv } from './env';
import { BenchmarksPage } from './pages/benchmarks';
import { FunctionsPage } from './pages/functions';
import { TimingsPage } from './pages/timings';
import { ZygotesPage } from './pages/zygotes';

export interface Fixtures {
  env: E2eEnv;
  client: SockpitClient;
  functions: FunctionsPage;
  zygotes: ZygotesPage;
  timings: TimingsPage;
  benchmarks: BenchmarksPage;
}

export const test = base.extend<Fixtures>({
  env: async ({}, use) => {
    await use(readEnv());
  },
  client: async ({ env }, use) => {
    const client = new SockpitClient(env.socket);
    await use(client);
    await client.close();
  },
  functions: async ({ page }, use) => use(new FunctionsPage(page)),
  zygotes: async ({ page }, use) => use(new ZygotesPage(page)),
  timings: async ({ page }, use) => use(new TimingsPage(page)),
  benchmarks: async ({ page }, use) => use(new BenchmarksPage(page)),
});

export { expect } from '@playwright/test';

/** A function that greets: the one most specs deploy. */
export const HELLO = {
  'f.py': 'def f(event):\n    name = (event or {}).get("name", "world")\n    return {"greeting": "hello " + name}\n',
};

/** Deploys HELLO as `hello` through the API when a spec runs on its own (the UI deploy is spec (a)'s subject). */
export async function ensureHello(client: SockpitClient, dir: string): Promise<void> {
  if (!(await client.listFunctions()).some((f) => f.name === 'hello')) await client.deploy('hello', dir);
}
