// The benchmarks' helpers shared by every suite: real sockpitd daemons started as child processes (each with its own
// socket, state directory and config under the benchmark's temp dir), mode rotation, and targets.

import { spawn, type ChildProcess } from 'node:child_process';
import { envOwnedBy } from '../daemon/parent';
import fs from 'node:fs';
import path from 'node:path';
import { SockpitClient } from '../client';
import { REPO_ROOT } from '../paths';

export interface Target {
  name: string;
  target: string;
  measured: string;
  value: number;
  ok: boolean;
}

export function target(name: string, goal: string, value: number, ok: boolean, measured: string): Target {
  return { name, target: goal, measured, value, ok: Number.isFinite(value) && ok };
}

export const mark = (ok: boolean): string => (ok ? '✓' : '✗');

/** the list rotated left by i (mod length): each mode takes every position equally often */
export function rotate<T>(list: readonly T[], i: number): T[] {
  const k = ((i % list.length) + list.length) % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}


export interface DaemonChild {
  key: string;
  socket: string;
  stateDir: string;
  client: SockpitClient;
  ready: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts `sockpit daemon` with `config` (JSON, merged over the defaults) on `<tmp>/<key>.sock`, state in
 * `<tmp>/<key>-state`, in its own process group (a Ctrl-C reaches it only through stop()). Await `ready`.
 */
export function startDaemon(tmp: string, key: string, config: object): DaemonChild {
  const socket = path.join(tmp, `${key}.sock`);
  const configFile = path.join(tmp, `${key}.yaml`);
  const stateDir = path.join(tmp, `${key}-state`);
  fs.writeFileSync(configFile, JSON.stringify(config));
  // without our mount-namespace mark, so the daemon makes its own private namespace as it always does; owned by
  // this suite, so a SIGKILL of the suite (which runs no clean-up) still ends the daemon
  const env = envOwnedBy(process.pid);
  delete env.SOCKPIT_PRIVATE_MOUNTNS;
  const child: ChildProcess = spawn(
    process.execPath,
    [path.join(REPO_ROOT, 'bin', 'sockpit.js'), 'daemon', '--socket', socket, '--state-dir', stateDir, '--config', configFile],
    { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true }, // its own process group: a Ctrl-C reaches it only through us
  );
  let output = '';
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', (err) => {
      keep(Buffer.from(String(err)));
      exited = true;
      resolve();
    });
  });
  const client = new SockpitClient(socket);
  const ready = (async () => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (exited) throw new Error(`the ${key} daemon exited before it answered: ${output.trim()}`);
      try {
        await client.status();
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`the ${key} daemon did not answer on ${socket} within 30 s: ${output.trim()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  })();
  ready.catch(() => {}); // awaited by the caller; never an unhandled rejection
  let stopping: Promise<void> | null = null;
  return {
    key,
    socket,
    stateDir,
    client,
    ready,
    stop() {
      stopping ??= (async () => {
        await client.close().catch(() => {});
        if (exited) return;
        child.kill('SIGTERM');
        const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000).unref());
        if ((await Promise.race([exit.then(() => 'exit' as const), timer])) === 'timeout') {
          child.kill('SIGKILL');
          await exit;
          throw new Error(`did not stop within 20 s of SIGTERM; killed (its own clean-up may not have run): ${output.trim().slice(-500)}`);
        }
        if (child.exitCode !== 0) throw new Error(`exited with ${child.exitCode ?? child.signalCode} on SIGTERM: ${output.trim().slice(-500)}`);
      })();
      return stopping;
    },
  };
}

/** Stops every daemon (SIGTERM, awaited); returns what went wrong, one line per daemon that failed to stop. */
export async function stopDaemons(daemons: readonly DaemonChild[]): Promise<string[]> {
  const stopped = await Promise.allSettled(daemons.map((d) => d.stop()));
  return stopped.flatMap((s, k) => (s.status === 'rejected' ? [`daemon ${daemons[k].key}: ${(s.reason as Error).message}`] : []));
}
