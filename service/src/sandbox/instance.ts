// A running instance host (service/runtime/instance.py) seen from the daemon: its process, the daemon's end of
// the socketpair it talks over, and the tail of what it printed. One call at a time.

import net from 'node:net';
import { SockpitError } from '../errors';
import { ExitStatus, ProcessHandle } from './process';
import { encodeCall, encodeSetup, FrameDecoder, InstanceReply, parseReply } from './framing';

const OUTPUT_TAIL_BYTES = 16 * 1024;

export type { ExitStatus };

interface PendingCall {
  resolve: (reply: InstanceReply) => void;
  reject: (err: Error) => void;
}

export class Instance {
  private readonly channel: net.Socket;
  private readonly output: net.Socket;
  private readonly decoder: FrameDecoder;
  private pending: PendingCall | null = null;
  /** a spare's environment and bytecode (setUp), sent with its first call */
  private setup: Buffer | null = null;
  private outputTail = Buffer.alloc(0);
  /** Takes ownership of the process, the daemon's channel fd and the read end of its output pipe. */
  constructor(
    readonly process: ProcessHandle,
    channelFd: number,
    outputFd: number,
    private readonly maxResultBytes: number,
  ) {
    // room for the reply's header line beyond the result itself
    this.decoder = new FrameDecoder(maxResultBytes + 64 * 1024);
    this.channel = new net.Socket({ fd: channelFd, readable: true, writable: true });
    this.channel.on('data', (chunk: Buffer) => this.onData(chunk));
    this.channel.on('error', () => this.failPending(new SockpitError('instance_died', 'the instance closed its channel')));
    this.channel.on('close', () => this.failPending(new SockpitError('instance_died', 'the instance closed its channel')));
    this.output = new net.Socket({ fd: outputFd, readable: true, writable: false });
    this.output.on('data', (chunk: Buffer) => {
      this.outputTail = Buffer.concat([this.outputTail, chunk]).subarray(-OUTPUT_TAIL_BYTES);
    });
    this.output.on('error', () => {});
    void process.exited.then((status) => this.onExit(status));
  }

  get alive(): boolean {
    return this.process.alive;
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
      // one write: a spare wakes once, for both
      this.channel.write(this.setup ? Buffer.concat([this.setup, encodeCall(event)]) : encodeCall(event));
      this.setup = null;
    });
  }

  /** Gives a spare (zygote.py) its function's environment and f.py's bytecode, sent with its first call.
   *  No answer comes. */
  setUp(env: Record<string, string>, bytecode: Buffer | null): void {
    this.setup = encodeSetup(env, bytecode);
  }

  /** Resolves once the process has exited and been reaped. */
  exited(): Promise<ExitStatus> {
    return this.process.exited;
  }

  kill(): void {
    this.process.kill();
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch {
      this.failPending(new SockpitError('too_large', `the function's result is larger than the ${this.maxResultBytes}-byte limit; its instance was killed`));
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
    const how = status.signal ? `was killed by ${status.signal}` : status.code !== null ? `exited with code ${status.code}` : 'exited';
    this.failPending(new SockpitError('instance_died', `the instance ${how}`, { detail: { output: this.tail } }));
    this.channel.destroy();
    // the output pipe may still hold the last words; it closes itself at EOF
  }
}
