// A spare seen from the daemon (service/runtime/zygote.py, "spare"): an instance a Zygote forked ahead of its
// request into a sandbox of its own, with no function in it yet, set up and waiting on a socket whose other
// end we keep. For a call the sandbox gets the function (its code, its limits), and the function's
// environment and the instance's channel go to the spare on that socket: one process woken, little to do.

import net from 'node:net';
import * as native from '../../../native';
import { SockpitError } from '../errors';
import { encodeFrame, FrameDecoder } from '../sandbox/framing';
import type { ProcessHandle } from '../sandbox/process';
import type { Sandbox } from '../sandbox/sandbox';

/** what the spare needs to become the instance of a function */
export interface SpareRequest {
  id: string;
  env: Record<string, string>;
  paths: string[];
}

export class Spare {
  private readonly replies: net.Socket;
  private readonly decoder = new FrameDecoder(1 << 20);
  private state: 'waiting' | 'handed' | 'closed' = 'waiting';

  /**
   * Takes ownership of the spare's process handle, our end of its socket and its sandbox, which is destroyed
   * when the spare exits before it was handed a request (after that, the sandbox is the caller's).
   */
  constructor(
    readonly process: ProcessHandle,
    private readonly fd: number,
    readonly sandbox: Sandbox,
    private readonly timeoutMs: number,
  ) {
    this.replies = new net.Socket({ fd, readable: true, writable: false });
    this.replies.on('error', () => {});
    // a spare never speaks before its request: anything before is a broken spare
    this.replies.on('data', () => this.close());
    void process.exited.then(() => {
      if (this.state === 'handed') return;
      this.close();
      void sandbox.destroy();
    });
  }

  get alive(): boolean {
    return this.state === 'waiting' && this.process.alive;
  }

  /**
   * Sends the request with fds [channel, output] (the caller keeps and closes its copies; the function's
   * code is in the sandbox by now) and resolves once the spare, now the instance, said it is ready. Once.
   */
  hand(request: SpareRequest, fds: number[]): Promise<void> {
    if (!this.alive) return Promise.reject(new SockpitError('instance_died', 'the spare is gone'));
    this.state = 'handed';
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
        let answer: { ready?: boolean; error?: string };
        try {
          const [first] = this.decoder.push(chunk);
          if (!first) return;
          answer = JSON.parse(first.toString('utf8')) as typeof answer;
        } catch {
          settle(new SockpitError('instance_died', 'the spare broke the fork protocol'));
          return;
        }
        settle(answer.ready === true ? null : new SockpitError('internal', `the spare failed: ${answer.error ?? 'no reason given'}`));
      });
      this.replies.on('close', () => settle(new SockpitError('instance_died', 'the spare closed its socket before it was ready')));
      void this.process.exited.then(() => settle(new SockpitError('instance_died', `the spare ${this.process.pid} died before it was ready`)));
      try {
        native.sendFds(this.fd, encodeFrame(Buffer.from(JSON.stringify(request))), fds);
      } catch (err) {
        settle(new SockpitError('instance_died', `Can't send the request to the spare: ${(err as Error).message}`));
      }
    });
  }

  /** Ends a spare that is no longer wanted (its Zygote died, or the tier closes); its sandbox goes with it. */
  close(): void {
    if (this.state === 'waiting') this.state = 'closed';
    this.replies.destroy();
    if (this.state === 'closed') this.process.kill();
  }
}
