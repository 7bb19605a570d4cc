// A running instance host (service/runtime/instance.py) seen from the daemon: its process, the daemon's end of
// the socketpair it talks over (its messages: protocol/instance-messages.ts), and the tail of what it printed.
// One call at a time.

import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { SockpitError } from '../errors';
import { ExitStatus, ProcessHandle } from './process';
import { decodeReply, encodeCall, encodeSetup, ForeignReply, FrameDecoder, Reply } from '../protocol';

const OUTPUT_TAIL_BYTES = 16 * 1024;

export type { ExitStatus };

interface PendingCall {
  /** the request id its reply must carry: unguessable, so code in the instance can't answer a call ahead */
  id: string;
  sentAt: number;
  resolve: (reply: Reply) => void;
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
  /** it broke the protocol: killed, and never given another call, even before its exit is seen */
  private refused = false;
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
    return !this.refused && this.process.alive;
  }

  get busy(): boolean {
    return this.pending !== null;
  }

  /** The last bytes the instance wrote to stdout and stderr. */
  get tail(): string {
    return this.outputTail.toString('utf8');
  }

  /** Sends one event and resolves with the reply. Rejects (instance_died) if the instance exits first. */
  call(event: Buffer): Promise<Reply> {
    if (!this.alive) return Promise.reject(new SockpitError('instance_died', 'the instance has exited'));
    if (this.pending) return Promise.reject(new SockpitError('internal', 'the instance is already serving a call'));
    return new Promise((resolve, reject) => {
      const id = randomBytes(8).toString('hex');
      this.pending = { id, sentAt: performance.now(), resolve, reject };
      // one write: a spare wakes once, for both
      const call = encodeCall(id, event);
      this.channel.write(this.setup ? Buffer.concat([this.setup, call]) : call);
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

  /** Ends an instance that spoke out of turn or sent what can't be a reply. */
  private refuse(): void {
    this.refused = true;
    this.kill();
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[];
    try {
      frames = this.decoder.push(chunk);
    } catch {
      this.failPending(new SockpitError('too_large', `the function's result is larger than the ${this.maxResultBytes}-byte limit; its instance was killed`));
      this.refuse();
      return;
    }
    for (const frame of frames) {
      const pending = this.pending;
      this.pending = null;
      if (!pending) {
        this.refuse(); // a reply nobody asked for (a late one): the instance is not following the protocol
        return;
      }
      let reply: Reply;
      try {
        reply = decodeReply(frame, pending.id);
      } catch (err) {
        const what = err instanceof ForeignReply ? 'spoke out of turn' : 'sent a malformed reply';
        pending.reject(new SockpitError('instance_died', `the instance ${what}: ${(err as Error).message}; it was killed`));
        this.refuse();
        return;
      }
      // the timings are the instance's word: never more than the daemon saw pass
      const elapsed = performance.now() - pending.sentAt;
      reply.loadMs = Math.min(reply.loadMs, elapsed);
      reply.execMs = Math.min(reply.execMs, elapsed - reply.loadMs);
      pending.resolve(reply);
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
