// (f) The real Electron app, launched by Playwright, against the same sockpitd: the window loads the panel through
// the preload's window.sockpit (and nothing else), with contextIsolation, sandbox and webSecurity on. Where the
// Electron binary is not installed (ELECTRON_SKIP_BINARY_DOWNLOAD, as on these machines) it is skipped, and says so.
// The app refuses to run as root: when the suite runs as root, the app runs as `nobody` with the `sockpit` group as
// its only group (as `sudo npm start` runs it), through setpriv, with Chromium's own sandbox.

import fs from 'node:fs';
import path from 'node:path';
import { _electron as electron } from '@playwright/test';
import { expect, ensureHello, HELLO, test } from '../fixtures';
import { E2eEnv, REPO, writeFunction } from '../env';
import { PanelPage } from '../pages/panel';
import { choosePanelUser } from '../../main/panel-user';

function electronBinary(): string | null {
  try {
    // the electron package exports its binary's path, and throws when the binary was never downloaded
    const binary = require('electron') as unknown;
    return typeof binary === 'string' && fs.existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

const binary = electronBinary();

/**
 * How to start the app: the binary itself, or (as root) a wrapper that execs it as the panel's user (same pid, so
 * Playwright's handle on it stays right), with a home of that user's for Electron's profile, and the env's dir
 * opened for search so the user reaches the socket (root:sockpit 0660) below it.
 */
function launcher(env: E2eEnv, electronPath: string): { executablePath: string; home?: string } {
  if (process.getuid?.() !== 0) return { executablePath: electronPath };
  const user = choosePanelUser({}, fs.readFileSync('/etc/passwd', 'utf8'), fs.readFileSync('/etc/group', 'utf8'));
  if ('error' in user) throw new Error(`the Electron app can't run as root, and: ${user.error}`);
  fs.chmodSync(env.dir, 0o711);
  const home = path.join(env.dir, 'electron-home');
  fs.mkdirSync(home, { recursive: true, mode: 0o700 });
  fs.chownSync(home, user.uid, user.gid);
  const wrapper = path.join(env.dir, 'electron-as-user');
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec setpriv --reuid=${user.uid} --regid=${user.gid} --clear-groups -- '${electronPath}' "$@"\n`, { mode: 0o755 });
  return { executablePath: wrapper, home };
}

test('the Electron app shows the panel over its preload bridge', async ({ env, client }) => {
  test.skip(binary === null, 'Electron binary not installed here: ELECTRON_SKIP_BINARY_DOWNLOAD');
  await ensureHello(client, writeFunction(env, 'hello', HELLO));
  const args = [REPO];
  if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) args.unshift('--ozone-platform=headless');
  const { executablePath, home } = launcher(env, binary!);
  const appEnv: NodeJS.ProcessEnv = { ...process.env, SOCKPIT_SOCKET: env.socket };
  if (home) {
    // root's runtime and config dirs are not the app user's
    Object.assign(appEnv, { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config') });
    delete appEnv.XDG_RUNTIME_DIR;
  }
  const app = await electron.launch({ executablePath, args, env: appEnv as Record<string, string> });
  try {
    const win = await app.firstWindow();
    await expect(new PanelPage(win).navButton('Functions')).toBeVisible();
    await expect(win.getByText("Can't reach sockpitd")).toBeHidden();

    // the window's web preferences, where this Electron still reports them (getLastWebPreferences is undocumented in its types)
    const prefs = await app.evaluate(({ BrowserWindow }) => {
      const contents = BrowserWindow.getAllWindows()[0].webContents as unknown as { getLastWebPreferences?: () => Record<string, unknown> | null };
      const p = contents.getLastWebPreferences?.();
      return p ? { contextIsolation: p.contextIsolation, nodeIntegration: p.nodeIntegration, sandbox: p.sandbox, webSecurity: p.webSecurity } : null;
    });
    if (prefs) expect(prefs).toEqual({ contextIsolation: true, nodeIntegration: false, sandbox: true, webSecurity: true });
    // and as the page sees it: no Node in the page's world
    expect(await win.evaluate(() => [typeof (globalThis as { process?: unknown }).process, typeof (globalThis as { require?: unknown }).require])).toEqual(['undefined', 'undefined']);

    // exactly the bridge, and it reaches the service
    const keys = await win.evaluate(() => Object.keys((window as unknown as { sockpit: object }).sockpit).sort());
    expect(keys).toEqual(['benchmarks', 'deploy', 'listFunctions', 'onConnection', 'onEvent', 'pickDirectory', 'remove', 'run', 'startBenchmark', 'stats', 'status', 'zygotes']);
    const names = await win.evaluate(async () => (await (window as unknown as { sockpit: { listFunctions(): Promise<Array<{ name: string }>> } }).sockpit.listFunctions()).map((f) => f.name));
    expect(names).toContain('hello');
    // an error crosses with its code
    const error = await win.evaluate(async () => {
      try {
        await (window as unknown as { sockpit: { remove(n: string): Promise<void> } }).sockpit.remove('no-such-function');
        return null;
      } catch (err) {
        return { code: (err as { code?: string }).code, status: (err as { status?: number }).status };
      }
    });
    expect(error).toEqual({ code: 'not_found', status: 404 });
    await win.screenshot({ path: test.info().outputPath('electron.png') });
  } finally {
    await app.close();
  }
});
