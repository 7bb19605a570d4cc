// A spare seen from the daemon (service/runtime/zygote.py, "spare"): an instance a Zygote forked ahead of its
// request, waiting on a socket whose other end we keep. An instance's fork request goes straight to it, so a
// call wakes one process (the spare) instead of two (its Zygote, then the process it forks).

import net from 'node:net';
import * as native from '../../../native';
import { SockpitError } from '../errors';
import { encodeFrame, FrameDecoder } from '../sandbox/framing';
import type { ProcessHandle } from '../sandbox/process';

interface ReadyAnswer {
  ready?: boolean;
  error?: string;
}

export class Spare {
  private readonly replies: net.Socket;
  private readonly decoder = new FrameDecoder(1 << 20);
  private handed = false;

  /** Takes ownership of the spare's process handle and of our end of its socket. */
  constructor(
    readonly process: ProcessHandle,
    private readonly fd: number,
    private readonly timeoutMs: number,
  ) {
    this.replies = new net.Socket({ fd, readable: true, writable: false });
    this.replies.on('error', () => {});
    // a spare never speaks before its request: anything before is a broken spare
    this.replies.on('data', () => this.close());
  }

  get alive(): boolean {
    return !this.handed && this.process.alive;
  }

  /**
   * Sends an instance's fork request ({op: "fork", kind: "instance", ...} and its fds, which the caller keeps
   * and closes) and resolves once the spare, now the instance, said it is ready. Can be used once.
   */
  hand(header: object, fds: number[]): Promise<void> {
    if (!this.alive) return Promise.reject(new SockpitError('instance_died', 'the spare is gone'));
    this.handed = true;
    this.replies.removeAllListeners('data');
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (err: Error | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.replies.destroy();
        if (err) {
          this.process.kill(); // half-made: it must not linger
          reject(err);
        } else resolve();
      };
      const timer = setTimeout(() => settle(new SockpitError('timeout', `the spare did not get ready within ${this.timeoutMs} ms`)), this.timeoutMs);
      this.replies.on('data', (chunk: Buffer) => {
        let answer: ReadyAnswer;
        try {
          const [first] = this.decoder.push(chunk);
          if (!first) return;
          answer = JSON.parse(first.toString('utf8')) as ReadyAnswer;
        } catch {
          settle(new SockpitError('instance_died', 'the spare broke the fork protocol'));
          return;
        }
        settle(answer.ready === true ? null : new SockpitError('internal', `the forked process failed: ${answer.error ?? 'no reason given'}`));
      });
      this.replies.on('close', () => settle(new SockpitError('instance_died', 'the spare closed its socket before it was ready')));
      void this.process.exited.then(() => settle(new SockpitError('instance_died', `the spare ${this.process.pid} died before it was ready`)));
      try {
        native.sendFds(this.fd, encodeFrame(Buffer.from(JSON.stringify(header))), fds);
      } catch (err) {
        settle(new SockpitError('instance_died', `Can't send the fork request to the spare: ${(err as Error).message}`));
      }
    });
  }

  /** Lets the spare go: it exits when its socket closes. */
  close(): void {
    this.handed = true;
    this.replies.destroy();
  }
}

