// A running instance host (service/runtime/instance.py) seen from the daemon: its pidfd, the daemon's end of
// the socketpair it talks over, and the tail of what it printed. One call at a time.

import fs from 'node:fs';
import net from 'node:net';
import * as native from '../../../native';
import { SockpitError } from '../errors';
import { encodeCall, FrameDecoder, InstanceReply, parseReply } from './framing';

const OUTPUT_TAIL_BYTES = 16 * 1024;

export type ExitStatus = native.ExitStatus;

interface PendingCall {
  resolve: (reply: InstanceReply) => void;
  reject: (err: Error) => void;
}

export class Instance {
  readonly pid: number;
  private readonly pidfd: number;
  private readonly channel: net.Socket;
  private readonly output: net.Socket;
  private readonly decoder = new FrameDecoder();
  private pending: PendingCall | null = null;
  private outputTail = Buffer.alloc(0);
  private exitStatus: ExitStatus | null = null;
  private readonly exitWaiters: Array<(status: ExitStatus) => void> = [];

  /** Takes ownership of the pid's pidfd, the daemon's channel fd and the read end of its output pipe. */
  constructor(pid: number, pidfd: number, channelFd: number, outputFd: number) {
    this.pid = pid;
    this.pidfd = pidfd;
    this.channel = new net.Socket({ fd: channelFd, readable: true, writable: true });
    this.channel.on('data', (chunk: Buffer) => this.onData(chunk));
    this.channel.on('error', () => this.failPending(new SockpitError('instance_died', 'the instance closed its channel')));
    this.channel.on('close', () => this.failPending(new SockpitError('instance_died', 'the instance closed its channel')));
    this.output = new net.Socket({ fd: outputFd, readable: true, writable: false });
    this.output.on('data', (chunk: Buffer) => {
      this.outputTail = Buffer.concat([this.outputTail, chunk]).subarray(-OUTPUT_TAIL_BYTES);
    });
    this.output.on('error', () => {});
    native.watchExit(pidfd, (status) => this.onExit(status));
  }

  get alive(): boolean {
    return this.exitStatus === null;
  }

  get busy(): boolean {
    return this.pending !== null;
  }

  /** The last bytes the instance wrote to stdout and stderr. */
  get tail(): string {
    return this.outputTail.toString('utf8');
  }

  /** Sends one event and resolves with the reply. Rejects (instance_died) if the instance exits first. */
  call(event: Buffer): Promise<InstanceReply> {
    if (!this.alive) return Promise.reject(new SockpitError('instance_died', 'the instance has exited'));
    if (this.pending) return Promise.reject(new SockpitError('internal', 'the instance is already serving a call'));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.channel.write(encodeCall(event));
    });
  }

  /** Resolves once the process has exited and been reaped. */
  exited(): Promise<ExitStatus> {
    if (this.exitStatus) return Promise.resolve(this.exitStatus);
    return new Promise((resolve) => this.exitWaiters.push(resolve));
  }

  kill(): void {
    if (this.alive) native.pidfdKill(this.pidfd, 9);
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.failPending(new SockpitError('instance_died', `the instance sent a malformed frame: ${(err as Error).message}`));
      this.kill();
      return;
    }
    for (const frame of frames) {
      const pending = this.pending;
      this.pending = null;
      if (!pending) {
        this.kill(); // a reply nobody asked for: the instance is not following the protocol
        return;
      }
      try {
        pending.resolve(parseReply(frame));
      } catch (err) {
        pending.reject(new SockpitError('instance_died', `the instance sent a malformed reply: ${(err as Error).message}`));
        this.kill();
      }
    }
  }

  private failPending(err: Error): void {
    const pending = this.pending;
    this.pending = null;
    pending?.reject(err);
  }

  private onExit(status: ExitStatus): void {
    this.exitStatus = status;
    fs.closeSync(this.pidfd);
    const how = status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
    this.failPending(new SockpitError('instance_died', `the instance ${how}`, { detail: { output: this.tail } }));
    this.channel.destroy();
    // the output pipe may still hold the last words; it closes itself at EOF
    for (const waiter of this.exitWaiters.splice(0)) waiter(status);
  }
}
