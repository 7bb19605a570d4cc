// The e2e environment: a real sockpitd (root, private socket and state under a temp dir, a local wheelhouse,
// Zygotes on) and the web panel (`sockpit panel`) in front of it. The global setup starts both and writes what
// the specs need into a JSON file named by $SOCKPIT_E2E_ENV; a spec may restart the daemon (same socket, same
// state), so the daemon's current pid lives in that file too and the teardown stops whichever one runs then.
// The panel makes a new sign-in token at each start: specs open `panelSignInUrl` (it carries the token), read from
// the token file the panel leaves in its $XDG_RUNTIME_DIR (here under the env's dir).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SockpitClient } from '../service/src/client';
import { envOwnedBy } from '../service/src/daemon/parent';
import { panelFilePath, readPanelFile } from '../main/panel-token-file';

export const REPO = path.resolve(__dirname, '..');
export const CLI = path.join(REPO, 'bin/sockpit.js');

export interface E2eEnv {
  dir: string;
  socket: string;
  stateDir: string;
  config: string;
  wheels: string;
  /** the panel's address, without the token: a browser that opens it is signed out */
  panelUrl: string;
  /** the address with the running panel's token (set by startPanel) */
  panelSignInUrl: string;
  panelPort: number;
  daemonPid: number;
  panelPid: number;
  /** the Playwright runner's pid: the daemon stops when it dies, even if a spec (a worker) restarted it */
  ownerPid: number;
}

/** The package a spec deploys to make the Zygote tree grow (it is in the wheelhouse, not on the host). */
export const TREE_PACKAGE = { name: 'e2etreepkg', version: '1.0' };

export function envFile(): string {
  const file = process.env.SOCKPIT_E2E_ENV;
  if (!file) throw new Error('SOCKPIT_E2E_ENV is not set: run the specs through e2e/playwright.config.ts (its global setup starts sockpitd)');
  return file;
}

export function readEnv(): E2eEnv {
  return JSON.parse(fs.readFileSync(envFile(), 'utf8')) as E2eEnv;
}

export function writeEnv(env: E2eEnv): void {
  fs.writeFileSync(envFile(), JSON.stringify(env, null, 2));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Gone, or a zombie nobody reaped yet: either way it has exited. */
export function exited(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z';
  } catch {
    return true;
  }
}

/** SIGTERM, then wait for the exit (SIGKILL after `graceMs`). Only ever called with pids this suite started. */
export async function terminate(pid: number, graceMs = 30_000): Promise<void> {
  if (!pid || exited(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (!exited(pid)) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // it exited meanwhile
      }
      const hard = Date.now() + 5000;
      while (!exited(pid) && Date.now() < hard) await sleep(50);
      return;
    }
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function tail(file: string, lines = 40): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Starts a process of ours that outlives the worker which started it (the teardown stops it by pid). */
function launch(args: string[], log: string, env: NodeJS.ProcessEnv): number {
  const out = fs.openSync(log, 'a');
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', out, out], detached: true, env });
  fs.closeSync(out);
  child.unref();
  if (!child.pid) throw new Error(`could not start ${args.join(' ')}`);
  return child.pid;
}

/** Starts sockpitd on env's socket and state and waits until it answers; records its pid in the env file. */
export async function startDaemon(env: E2eEnv): Promise<number> {
  const log = path.join(env.dir, 'daemon.log');
  fs.appendFileSync(log, `--- starting sockpitd at ${new Date().toISOString()}\n`);
  const pid = launch(['daemon', '--socket', env.socket, '--state-dir', env.stateDir, '--config', env.config], log, envOwnedBy(env.ownerPid));
  const probe = new SockpitClient(env.socket);
  try {
    for (const deadline = Date.now() + 60_000; ; ) {
      if (exited(pid)) throw new Error(`sockpitd exited at start:\n${tail(log)}`);
      try {
        await probe.status();
        break;
      } catch {
        if (Date.now() > deadline) throw new Error(`sockpitd did not answer within 60 s:\n${tail(log)}`);
        await sleep(100);
      }
    }
  } finally {
    await probe.close();
  }
  env.daemonPid = pid;
  return pid;
}

export async function stopDaemon(env: E2eEnv): Promise<void> {
  await terminate(env.daemonPid);
}

/** The panel's $XDG_RUNTIME_DIR: its token file goes to <this>/sockpit/panel-<port>.json. */
export function panelRuntimeDir(env: E2eEnv): string {
  return path.join(env.dir, 'xdg-runtime');
}

/** Starts `sockpit panel` on a free port of 127.0.0.1, waits until it serves the page, and reads its sign-in URL. */
export async function startPanel(env: E2eEnv): Promise<number> {
  const log = path.join(env.dir, 'panel.log');
  const runtime = panelRuntimeDir(env);
  fs.mkdirSync(runtime, { recursive: true, mode: 0o700 });
  const pid = launch(['panel', '--socket', env.socket, '--port', String(env.panelPort)], log, { ...process.env, XDG_RUNTIME_DIR: runtime });
  const tokenFile = panelFilePath(path.join(runtime, 'sockpit'), env.panelPort);
  for (const deadline = Date.now() + 30_000; ; ) {
    if (exited(pid)) throw new Error(`sockpit panel exited at start:\n${tail(log)}`);
    try {
      const res = await fetch(env.panelUrl);
      const file = readPanelFile(tokenFile);
      if (res.ok && file?.pid === pid) {
        env.panelSignInUrl = file.url;
        break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`sockpit panel did not serve ${env.panelUrl} within 30 s:\n${tail(log)}`);
    await sleep(100);
  }
  env.panelPid = pid;
  return pid;
}

/** Writes a function folder (f.py, requirements.txt...) under the env's dir; returns its absolute path. */
export function writeFunction(env: E2eEnv, name: string, files: Record<string, string>): string {
  const dir = path.join(env.dir, 'functions', name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), text);
  return dir;
}

export function logs(env: E2eEnv): string {
  return `sockpitd:\n${tail(path.join(env.dir, 'daemon.log'))}\n\nsockpit panel:\n${tail(path.join(env.dir, 'panel.log'))}`;
}
