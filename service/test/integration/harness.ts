// Starts a real sockpitd (the compiled CLI, as root, in its own mount namespace) on a private socket and state
// directory, and checks afterwards that it left nothing behind. Used by every integration test file.

import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SockpitClient } from '../../src/client';
import { cgroupTag } from '../../src/daemon/daemon';

const REPO = path.resolve(__dirname, '../../..');
const CLI = path.join(REPO, 'bin/sockpit.js');

export interface TestDaemon {
  dir: string;
  socket: string;
  stateDir: string;
  client: SockpitClient;
  /** pid of sockpitd itself (inside the unshare wrapper) */
  pid: number;
  log(): string;
  /** SIGTERM and wait; removes the test's directory unless keepFiles */
  stop(opts?: { keepFiles?: boolean }): Promise<void>;
  /** SIGKILL the daemon, then start a new one on the same socket and state */
  killAndRestart(): Promise<void>;
  /** writes a function folder under the test's dir and deploys it */
  deploy(name: string, files: Record<string, string>): Promise<void>;
}

export async function startDaemon(config: Record<string, unknown> = {}): Promise<TestDaemon> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockpit-it-'));
  const socket = path.join(dir, 'sockpitd.sock');
  const stateDir = path.join(dir, 'state');
  const configFile = path.join(dir, 'sockpitd.yaml');
  fs.writeFileSync(configFile, JSON.stringify({ pool: { initial: 4, max: 64 }, ...config }));
  let output = '';
  let proc: ChildProcess;

  const launch = async () => {
    proc = spawn(process.execPath, [CLI, 'daemon', '--socket', socket, '--state-dir', stateDir, '--config', configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout!.on('data', (d) => (output += d));
    proc.stderr!.on('data', (d) => (output += d));
    const probe = new SockpitClient(socket);
    try {
      for (let i = 0; ; i++) {
        if (proc.exitCode !== null) throw new Error(`sockpitd exited with ${proc.exitCode}:\n${output}`);
        try {
          return (await probe.status()).pid;
        } catch {
          if (i > 300) throw new Error(`sockpitd did not answer within 30 s:\n${output}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    } finally {
      await probe.close();
    }
  };

  const daemon: TestDaemon = {
    dir,
    socket,
    stateDir,
    client: new SockpitClient(socket),
    pid: await launch(),
    log: () => output,
    async stop(opts = {}) {
      await daemon.client.close();
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      if (!opts.keepFiles) fs.rmSync(dir, { recursive: true, force: true });
    },
    async killAndRestart() {
      await daemon.client.close();
      const exited = new Promise((r) => proc.once('exit', r));
      process.kill(daemon.pid, 'SIGKILL');
      await exited;
      daemon.pid = await launch();
      daemon.client = new SockpitClient(socket);
    },
    async deploy(name, files) {
      const fnDir = path.join(dir, 'src', name);
      fs.rmSync(fnDir, { recursive: true, force: true });
      fs.mkdirSync(fnDir, { recursive: true });
      for (const [file, text] of Object.entries(files)) fs.writeFileSync(path.join(fnDir, file), text);
      await daemon.client.deploy(name, fnDir);
    },
  };
  return daemon;
}

/** Every cgroup directory of a daemon's tag, in every hierarchy. */
export function cgroupsOf(stateDir: string): string[] {
  const tag = cgroupTag(stateDir);
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 6) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = path.join(dir, e.name);
      if (e.name === tag) found.push(p);
      else walk(p, depth + 1);
    }
  };
  walk('/sys/fs/cgroup', 0);
  return found;
}

/** Pids of processes whose cgroup path names the daemon's tag. */
export function processesOf(stateDir: string): number[] {
  const tag = cgroupTag(stateDir);
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cgroup`, 'utf8').includes(`/${tag}/`)) pids.push(Number(entry));
    } catch {
      // the process exited while we looked
    }
  }
  return pids;
}

/** How many processes the daemon says it runs: one per live instance and one per Zygote. */
export async function expectedProcesses(client: SockpitClient): Promise<number> {
  const s = await client.status();
  return s.instances.live + s.zygotes.count;
}

/** Waits until the processes in the daemon's cgroups are exactly the ones it accounts for. */
export function noStrayProcesses(d: TestDaemon, ms = 5000): Promise<void> {
  return eventually(async () => processesOf(d.stateDir).length === (await expectedProcesses(d.client)), 'no stray processes', ms);
}

/** Mount points of a process's mount namespace under a directory. */
export function mountsOf(pid: number, under: string): string[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[4])
      .filter((p) => p !== undefined && p.startsWith(under));
  } catch {
    return [];
  }
}

export async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** For each populated cgroup of the daemon's pool: is it frozen? (v1 freezer.state, or v2 cgroup.events) */
export function frozenStates(stateDir: string): boolean[] {
  const states: boolean[] = [];
  for (const dir of cgroupsOf(stateDir)) {
    const v1 = dir.startsWith('/sys/fs/cgroup/freezer/');
    const v2 = fs.existsSync(path.join(dir, 'cgroup.events')) && !dir.includes('/cgroup/memory/') && !dir.includes('/cgroup/pids/') && !dir.includes('/cgroup/cpu');
    if (!v1 && !v2) continue;
    for (const slot of fs.readdirSync(dir).filter((n) => n.startsWith('pool-'))) {
      const p = path.join(dir, slot);
      if (fs.readFileSync(path.join(p, 'cgroup.procs'), 'utf8').trim() === '') continue;
      states.push(v1 ? fs.readFileSync(path.join(p, 'freezer.state'), 'utf8').trim() === 'FROZEN' : fs.readFileSync(path.join(p, 'cgroup.events'), 'utf8').includes('frozen 1'));
    }
  }
  return states;
}
