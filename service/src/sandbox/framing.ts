// Length-prefixed frames between sockpitd and an instance host (service/runtime/instance.py): a 4-byte
// big-endian length, then the payload. Pure: no sockets here, so it is unit-tested on its own.

export const MAX_FRAME_BYTES = 1 << 30;

/** The first byte of a request frame says what it is: only calls go to instances. */
export const CALL = Buffer.from('C');

export function encodeCall(event: Buffer): Buffer {
  return encodeFrame(Buffer.concat([CALL, event]));
}

/**
 * The first frame a spare gets (zygote.py): the environment of the function it becomes the instance of, one
 * line of JSON, then f.py's bytecode (functions/bytecode.ts) when there is one to send.
 */
export function encodeSetup(env: Record<string, string>, bytecode: Buffer | null): Buffer {
  const parts: Buffer[] = [Buffer.from('S'), Buffer.from(JSON.stringify(env)), Buffer.from('\n')];
  if (bytecode) parts.push(bytecode);
  return encodeFrame(Buffer.concat(parts));
}

export function encodeFrame(payload: Buffer): Buffer {
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(payload.length, 0);
  return Buffer.concat([head, payload]);
}

/** Accumulates stream chunks and yields whole frames. Throws when a frame announces more than maxBytes. */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxBytes = MAX_FRAME_BYTES) {}

  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Buffer[] = [];
    for (;;) {
      if (this.buffered < 4) break;
      const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
      this.chunks = [all];
      const size = all.readUInt32BE(0);
      if (size > this.maxBytes) throw new RangeError(`frame of ${size} bytes exceeds the ${this.maxBytes}-byte limit`);
      if (all.length < 4 + size) break;
      frames.push(all.subarray(4, 4 + size));
      const rest = all.subarray(4 + size);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
    }
    return frames;
  }

  /** bytes received that do not yet make a whole frame */
  get pending(): number {
    return this.buffered;
  }
}

export type ReplyStatus = 'ok' | 'error' | 'load_error';

export interface InstanceReply {
  status: ReplyStatus;
  /** time the instance took to import f.py, at its start */
  loadMs: number;
  /** time f(event) took */
  execMs: number;
  /** ok: the JSON result, as bytes; otherwise a JSON {type, message, traceback} */
  body: Buffer;
}

/** Splits a reply payload into its JSON header line and body. Throws on anything malformed. */
export function parseReply(payload: Buffer): InstanceReply {
  const newline = payload.indexOf(0x0a);
  if (newline < 0) throw new SyntaxError('reply has no header line');
  const header = JSON.parse(payload.subarray(0, newline).toString('utf8')) as Record<string, unknown>;
  const status = header.status;
  if (status !== 'ok' && status !== 'error' && status !== 'load_error') {
    throw new SyntaxError(`reply has an unknown status ${JSON.stringify(status)}`);
  }
  const number = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return { status, loadMs: number(header.load_ms), execMs: number(header.exec_ms), body: payload.subarray(newline + 1) };
}
