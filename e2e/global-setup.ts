// Starts the e2e environment (env.ts) once for the run and returns its teardown: a real sockpitd as root with a
// local wheelhouse and Zygotes on, and `sockpit panel` on a free port of 127.0.0.1 serving dist/renderer.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FullConfig } from '@playwright/test';
import { buildWheelhouse } from '../service/test/fixtures/wheels';
import { CHROMIUM } from './playwright.config';
import { CLI, E2eEnv, freePort, REPO, startDaemon, startPanel, stopDaemon, terminate, TREE_PACKAGE, writeEnv } from './env';

export default async function globalSetup(_config: FullConfig): Promise<() => Promise<void>> {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (sockpitd makes mounts, cgroups and namespaces): run as root');
  if (!fs.existsSync(CHROMIUM)) missing.push(`${CHROMIUM} (apt-get install -y chromium)`);
  if (!fs.existsSync(path.join(REPO, 'dist/service/src/cli/main.js'))) missing.push('the compiled CLI (npm run build)');
  if (!fs.existsSync(path.join(REPO, 'dist/renderer/index.html'))) missing.push('the built renderer in dist/renderer (its vite build)');
  if (missing.length) throw new Error(`the e2e tests need:\n  ${missing.join('\n  ')}`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockpit-e2e-'));
  const wheels = path.join(dir, 'wheels');
  buildWheelhouse(wheels, [
    {
      name: TREE_PACKAGE.name,
      version: TREE_PACKAGE.version,
      modules: { [`${TREE_PACKAGE.name}/__init__.py`]: 'import time\ntime.sleep(0.2)\nGREETING = "hello from a Zygote"\n' },
    },
  ]);
  const config = path.join(dir, 'cfg.yaml');
  fs.writeFileSync(config, JSON.stringify({ pool: { initial: 4, max: 64 }, packages: { findLinks: wheels }, zygotes: { enabled: true } }, null, 2));
  const port = await freePort();
  const env: E2eEnv = {
    dir,
    socket: path.join(dir, 's.sock'),
    stateDir: path.join(dir, 'state'),
    config,
    wheels,
    panelUrl: `http://127.0.0.1:${port}/`,
    panelSignInUrl: '',
    panelPort: port,
    daemonPid: 0,
    panelPid: 0,
    ownerPid: process.pid,
  };
  process.env.SOCKPIT_E2E_ENV = path.join(dir, 'env.json');
  writeEnv(env);

  const teardown = async () => {
    // the daemon's pid may have changed: a spec restarts it
    let current = env;
    try {
      current = JSON.parse(fs.readFileSync(process.env.SOCKPIT_E2E_ENV!, 'utf8')) as E2eEnv;
    } catch {
      // keep what we had
    }
    await terminate(current.panelPid);
    await stopDaemon(current);
    if (process.env.SOCKPIT_E2E_KEEP) console.log(`e2e: kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await startDaemon(env);
    writeEnv(env);
    await startPanel(env);
    writeEnv(env);
  } catch (err) {
    await teardown();
    throw err;
  }
  console.log(`e2e: sockpitd pid ${env.daemonPid} on ${env.socket}; panel pid ${env.panelPid} at ${env.panelUrl} (${CLI})`);
  return teardown;
}
