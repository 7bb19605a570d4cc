// Starts a real sockpitd (the compiled CLI, as root, in its own mount namespace) on a private socket and state
// directory, and checks afterwards that it left nothing behind. Used by every integration test file.

import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SockpitClient } from '../../src/client';
import { cgroupsOf, processesOf } from '../../src/bench/leaks';
import { parseNsPids } from '../../src/sandbox/process';
import { envOwnedBy } from '../../src/daemon/parent';

const REPO = path.resolve(__dirname, '../../..');
const CLI = path.join(REPO, 'bin/sockpit.js');
/** How much slower than the development host this machine runs (scripts/vm.sh's guest: 8); waits scale with it. */
export const TIME_SCALE = Number(process.env.SOCKPIT_TEST_TIME_SCALE ?? 1);

export interface TestDaemon {
  dir: string;
  socket: string;
  stateDir: string;
  client: SockpitClient;
  /** pid of sockpitd itself, as its status says */
  pid: number;
  /** pid of the process the harness started (`sockpit daemon`): the same as pid, since the CLI execs into it */
  startedPid: number;
  log(): string;
  /** SIGTERM and wait; removes the test's directory unless keepFiles */
  stop(opts?: { keepFiles?: boolean }): Promise<void>;
  /** SIGKILL the daemon, then start a new one on the same socket and state */
  killAndRestart(): Promise<void>;
  /** writes a function folder under the test's dir and deploys it */
  deploy(name: string, files: Record<string, string>): Promise<void>;
}

export interface StartOptions {
  /** runs after the test's directories exist and before the daemon starts (e.g. to mount something into its state) */
  beforeStart?: (paths: { dir: string; stateDir: string }) => void;
  /**
   * Starts the daemon in a network namespace made for it, after running these shell commands in it (the test's
   * stand-in for the host's network: the machine's own interfaces are never touched).
   */
  hostNetns?: string;
}

export async function startDaemon(config: Record<string, unknown> = {}, opts: StartOptions = {}): Promise<TestDaemon> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockpit-it-'));
  const socket = path.join(dir, 'sockpitd.sock');
  const stateDir = path.join(dir, 'state');
  const configFile = path.join(dir, 'sockpitd.yaml');
  fs.writeFileSync(configFile, JSON.stringify({ pool: { initial: 4, max: 64 }, ...config }));
  opts.beforeStart?.({ dir, stateDir });
  let output = '';
  let proc: ChildProcess;

  const launch = async () => {
    const argv = [process.execPath, CLI, 'daemon', '--socket', socket, '--state-dir', stateDir, '--config', configFile];
    // (on a pure cgroup v2 host the daemon moves itself into a delegated scope: daemon/scope.ts)
    const command = opts.hostNetns === undefined ? argv : ['unshare', '--net', '--', 'sh', '-ec', `${opts.hostNetns}\nexec "$@"`, 'sh', ...argv];
    proc = spawn(command[0], command.slice(1), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: envOwnedBy(process.pid), // a test run killed mid-way leaves no daemon behind
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
          if (i > 300 * TIME_SCALE) throw new Error(`sockpitd did not answer within ${30 * TIME_SCALE} s:\n${output}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    } finally {
      await probe.close();
    }
  };

  // a daemon that refuses to start (a test of that), or does not answer in time, leaves nothing behind
  const firstPid = await launch().catch(async (err) => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  const daemon: TestDaemon = {
    dir,
    socket,
    stateDir,
    client: new SockpitClient(socket),
    pid: firstPid,
    get startedPid() {
      return proc.pid!;
    },
    log: () => output,
    async stop(opts = {}) {
      await daemon.client.close();
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      if (!opts.keepFiles) fs.rmSync(dir, { recursive: true, force: true });
      // a daemon that handled every error it met never logs one of these: each is a bug, so it fails the test
      const unhandled = output.split('\n').filter((line) => /^sockpitd: (unhandled rejection|uncaught)/.test(line));
      if (unhandled.length > 0) throw new Error(`sockpitd logged ${unhandled.length} unhandled error(s):\n${unhandled.join('\n')}\n${output.slice(-3000)}`);
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

export { cgroupsOf, processesOf, mountsOf, uidOf } from '../../src/bench/leaks';

/** A Zygote's pid in the Zygotes' PID namespace (what os.getpid() says inside it), from its host pid. */
export function pidInZygoteNamespace(hostPid: number): number {
  const pids = parseNsPids(fs.readFileSync(`/proc/${hostPid}/status`, 'utf8'));
  if (pids.length !== 2) throw new Error(`process ${hostPid} is not one PID namespace below ours: NSpid ${pids.join(' ')}`);
  return pids[1];
}

/** How many processes the daemon says it runs: one per live instance and one per Zygote process (the tree's and the first). */
export async function expectedProcesses(client: SockpitClient): Promise<number> {
  const s = await client.status();
  return s.instances.live + s.zygotes.processes;
}

/** Waits until the processes in the daemon's cgroups are exactly the ones it accounts for. */
export function noStrayProcesses(d: TestDaemon, ms = 5000): Promise<void> {
  return eventually(async () => processesOf(d.stateDir).length === (await expectedProcesses(d.client)), 'no stray processes', ms);
}

/** The children of a process (of its main thread, which is where ours fork); none once it is gone. */
export function childrenOf(pid: number): number[] {
  try {
    return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Every process below pid, children first. */
export function descendantsOf(pid: number): number[] {
  const found: number[] = [];
  for (let queue = childrenOf(pid); queue.length > 0; ) {
    const next = queue.shift()!;
    found.push(next);
    queue.push(...childrenOf(next));
  }
  return found;
}

/** The command line of a process, arguments joined by spaces; '' once it is gone. */
export function cmdlineOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

export async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms * TIME_SCALE;
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
