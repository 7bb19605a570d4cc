// End-to-end tests of the panel against a real sockpitd (root) and the web panel (`sockpit panel`), in Debian's
// Chromium (never `npx playwright install`: no browser downloads here). `npm run test:e2e`.

import path from 'node:path';
import { defineConfig } from '@playwright/test';

export const CHROMIUM = process.env.SOCKPIT_E2E_CHROMIUM ?? '/usr/bin/chromium';
/** the flags that work on these machines (shared/TOOLCHAIN.md) */
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const REPO = path.resolve(__dirname, '..');

export default defineConfig({
  testDir: path.join(__dirname, 'specs'),
  outputDir: path.join(REPO, 'test-results'),
  globalSetup: path.join(__dirname, 'global-setup.ts'),
  // one daemon, one panel: the specs run in order, one at a time
  workers: 1,
  fullyParallel: false,
  retries: 0,
  // the first call of a function with packages installs them and grows the tree: seconds, not milliseconds
  timeout: 120_000,
  expect: { timeout: 20_000 },
  reporter: process.env.CI ? [['list'], ['html', { open: 'never', outputFolder: path.join(REPO, 'test-results/html') }]] : [['list']],
  use: {
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1400, height: 900 },
    launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    actionTimeout: 20_000,
  },
});
