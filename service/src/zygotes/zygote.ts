// A running Zygote seen from the daemon: its process, its sandbox, the control socket that fork requests go
// out on (with their fds) and every answer comes back on (service/runtime/zygote.py; the messages:
// protocol/zygote-messages.ts), and its spares.
// Every request has a timeout; a Zygote that dies fails everything pending at once and ends its spares.

import net from 'node:net';
import * as native from '../../../native';
import { findByInnerPid, ProcessHandle } from '../sandbox/process';
import { SockpitError } from '../errors';
import { Answer, decodeAnswer, encodeForkRequest, ForkRequest as ForkRequestMessage, FrameDecoder, MAX_ANSWER_BYTES, ReadyAnswer } from '../protocol';
import type { Sandbox } from '../sandbox/sandbox';
import { Spare } from './spare';

/** what the caller of fork() says of the new process: the fork request but for what fork() adds */
export type ForkRequest = Omit<ForkRequestMessage, 'type' | 'id' | 'cgroups' | 'netns'> & { netns?: 0 | 1 };

export interface Forked {
  /** the new process (watched from the moment it reported its pid) */
  process: ProcessHandle;
  importMs?: number;
}

interface Pending {
  resolve: (forked: Forked) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  sentAt: number;
  /** the members of the new process's cgroup, as we see them: where it is found once it joined */
  members?: () => number[];
  /** its pid in the Zygotes' PID namespace, from the Zygote */
  innerPid?: number;
  /** it said it is in its cgroup */
  joined?: boolean;
  process?: ProcessHandle;
  /** the new process's ready message, when it overtook its parent's pid message */
  earlyReady?: ReadyAnswer;
  /** called with the new process as soon as it is found, before it is ready */
  onProcess?: (process: ProcessHandle) => void;
}


/**
 * Spares a Zygote that forks instances keeps: two, so calls that come back to back each find one ready while
 * the one before is replaced (with one, the next call waited for it about every other time here).
 */
const SPARES_KEPT = 2;

export class ZygoteProcess {
  private readonly control: net.Socket;
  private readonly decoder = new FrameDecoder(MAX_ANSWER_BYTES);
  private readonly pending = new Map<string, Pending>();
  private seq = 0;
  private exitReason: string | null = null;
  /** instances forked ahead (spare.ts), more processes of the tier; and their making */
  private spares: Spare[] = [];
  private sparesStarting: Promise<void> | null = null;
  /** it forked an instance: it keeps spares from then on */
  private wantsSpares = false;
  private readonly exitWaiters: Array<() => void> = [];
  /** resolves when the Zygote said it is ready (its imports done), rejects if it died or timed out first */
  readonly ready: Promise<Forked>;

  /**
   * Takes ownership of the Zygote's pidfd, the daemon's end of its control socket and its output pipe.
   * `startId` is the id of the ready message to wait for: "start" for a Zygote the daemon spawned; null for
   * one forked from another Zygote, whose ready message came through its parent's fork request.
   */
  constructor(
    readonly process: ProcessHandle,
    private readonly controlFd: number,
    outputFd: number,
    readonly sandbox: Sandbox,
    private readonly timeoutMs: number,
    startId: string | null = 'start',
  ) {
    this.control = new net.Socket({ fd: controlFd, readable: true, writable: false });
    this.control.on('data', (chunk: Buffer) => this.onData(chunk));
    this.control.on('error', () => {});
    const output = new net.Socket({ fd: outputFd, readable: true, writable: false });
    output.on('data', () => {}); // drained: a Zygote's prints go nowhere
    output.on('error', () => {});
    this.ready = startId === null ? Promise.resolve({ process }) : this.expect(startId, { process });
    this.ready.catch(() => {});
    void process.exited.then((status) => {
      this.exitReason = status.signal ? `was killed by ${status.signal}` : status.code !== null ? `exited with code ${status.code}` : 'exited';
      for (const [id, p] of this.pending) this.settle(id, p, new SockpitError('instance_died', `the Zygote ${this.exitReason}`));
      this.control.destroy();
      for (const spare of this.spares.splice(0)) spare.close();
      for (const waiter of this.exitWaiters.splice(0)) waiter();
    });
  }

  get alive(): boolean {
    return this.exitReason === null;
  }

  get pid(): number {
    return this.process.pid;
  }

  /** spares ready for a request */
  get spareCount(): number {
    return this.spares.filter((s) => s.alive).length;
  }

  /** it forks instances and is short of spares, none on the way: refillSpares() has work to do */
  get needsSpares(): boolean {
    return this.wantsSpares && this.alive && this.sparesStarting === null && this.spareCount < SPARES_KEPT;
  }

  /**
   * Forks a new process. `fds` are [channel, output, root, netns (request.netns), ...cgroup join files], for every kind; they are
   * sent, not kept: the caller closes its copies. `members` lists the pids in the new
   * process's cgroup (it is found there: the pid the Zygote reports is one of its own namespace). `onProcess`
   * gets the new process as soon as it is known, before it is ready. Resolves once it is ready.
   */
  fork(request: ForkRequest, fds: number[], cgroups: number, members: () => number[], onProcess?: (process: ProcessHandle) => void): Promise<Forked> {
    if (!this.alive) return Promise.reject(new SockpitError('instance_died', `the Zygote ${this.exitReason}`));
    const id = `f${++this.seq}`;
    const answer = this.expect(id, { members, onProcess });
    try {
      native.sendFds(this.controlFd, encodeForkRequest({ ...request, id, netns: request.netns ?? 0, cgroups }), fds);
    } catch (err) {
      const p = this.pending.get(id);
      if (p) this.settle(id, p, new SockpitError('instance_died', `Can't send a fork request to the Zygote: ${(err as Error).message}`));
    }
    return answer;
  }

  /**
   * A spare for an instance, or null: from now on this Zygote keeps spares (refillSpares). One on its way
   * is waited for: it is nearly there, and the Zygote would make it before another fork anyway.
   */
  async takeSpare(): Promise<Spare | null> {
    this.wantsSpares = true;
    if (this.spareCount === 0 && this.sparesStarting) await this.sparesStarting;
    for (let spare = this.spares.shift(); spare; spare = this.spares.shift()) {
      if (spare.alive) return spare;
      spare.close(); // its instance is gone (then a no-op) or its network is (then it ends it)
    }
    return null;
  }

  /**
   * Makes spares with `make` (which forks one from this Zygote) until it keeps SPARES_KEPT, unless that is
   * under way. Resolves when done; a spare that can't be made is left out until the next refill.
   */
  refillSpares(make: () => Promise<Spare | null>): Promise<void> {
    this.sparesStarting ??= (async () => {
      while (this.alive && this.spareCount < SPARES_KEPT) {
        const spare = await make().catch(() => null);
        if (!spare) break;
        if (!this.alive) spare.close();
        else {
          for (const lost of this.spares.filter((s) => !s.alive)) lost.close();
          this.spares = [...this.spares.filter((s) => s.alive), spare];
        }
      }
    })().finally(() => (this.sparesStarting = null));
    return this.sparesStarting;
  }

  kill(): void {
    this.process.kill();
  }

  exited(): Promise<void> {
    if (!this.alive) return Promise.resolve();
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  private expect(id: string, known: Pick<Pending, 'process' | 'members' | 'onProcess'> = {}): Promise<Forked> {
    return new Promise<Forked>((resolve, reject) => {
      const timer = setTimeout(() => {
        const p = this.pending.get(id);
        if (!p) return;
        p.process?.kill(); // half-made: it must not linger
        this.settle(id, p, new SockpitError('timeout', `the Zygote did not answer request ${id} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer, sentAt: performance.now(), ...known });
    });
  }

  /**
   * Once the Zygote told the new process's pid and the process said it joined its cgroup: finds it there and
   * watches it, so if it dies before it is ready the request fails now.
   */
  private track(id: string, p: Pending): void {
    if (p.process || !p.joined || p.innerPid === undefined || !p.members) return;
    const pid = findByInnerPid(p.members(), p.innerPid);
    try {
      if (pid === null) throw new Error('not in its cgroup');
      p.process = ProcessHandle.adopt(pid);
    } catch (err) {
      this.settle(id, p, new SockpitError('instance_died', `the forked process (${p.innerPid} in the Zygotes' namespace) is gone: ${(err as Error).message}`));
      return;
    }
    void p.process.exited.then(() => {
      if (this.pending.get(id) === p) this.settle(id, p, new SockpitError('instance_died', `the forked process ${pid} died before it was ready`));
    });
    p.onProcess?.(p.process);
    if (p.earlyReady && this.pending.get(id) === p) this.settle(id, p, { process: p.process, importMs: importMsOf(p, p.earlyReady) });
  }

  private settle(id: string, p: Pending, result: Error | Forked): void {
    clearTimeout(p.timer);
    this.pending.delete(id);
    if (result instanceof Error) p.reject(result);
    else p.resolve(result);
  }

  /** an id this Zygote was sent a request with (fork()'s f<n>, or the start) */
  private wasSent(id: string): boolean {
    if (id === 'start') return true;
    const match = /^f([1-9][0-9]{0,15})$/.exec(id);
    return match !== null && Number(match[1]) <= this.seq;
  }

  /** A Zygote that breaks the protocol is not trusted with more requests: it is killed (and replaced). */
  private outOfTurn(why: string): void {
    console.error(`sockpitd: Zygote ${this.pid} sent ${why}; it is killed`);
    this.kill();
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.outOfTurn(`a frame too large: ${(err as Error).message}`);
      return;
    }
    for (const frame of frames) {
      let answer: Answer;
      try {
        answer = decodeAnswer(frame);
      } catch (err) {
        this.outOfTurn(`a malformed answer: ${(err as Error).message}`);
        return;
      }
      const id = answer.id;
      const p = this.pending.get(id);
      if (!p) {
        // a request that ended already (timed out, or its process died first) may still get answers in flight;
        // an id never sent is a forgery by code inside the Zygote
        if (this.wasSent(id)) continue;
        this.outOfTurn(`an answer to request ${JSON.stringify(id)}, which was never sent`);
        return;
      }
      switch (answer.type) {
        case 'pid':
          p.innerPid = answer.pid;
          this.track(id, p);
          break;
        case 'joined':
          p.joined = true;
          this.track(id, p);
          break;
        case 'refused':
          this.settle(id, p, new SockpitError('bad_request', `the Zygote refused: ${answer.error}`));
          break;
        case 'failed':
          this.settle(id, p, new SockpitError('internal', `the forked process failed: ${answer.error}`));
          break;
        case 'ready':
          // the new process and its Zygote write independently: its ready may come before the Zygote's pid
          if (!p.process) p.earlyReady = answer;
          else this.settle(id, p, { process: p.process, importMs: importMsOf(p, answer) });
          break;
      }
    }
  }
}

/** a Zygote's import time, never more than the daemon saw pass since it sent the request */
function importMsOf(p: Pending, answer: ReadyAnswer): number | undefined {
  return answer.importMs === undefined ? undefined : Math.min(answer.importMs, performance.now() - p.sentAt);
}
