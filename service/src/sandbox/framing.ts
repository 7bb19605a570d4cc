// Length-prefixed frames between sockpitd and an instance host (service/runtime/instance.py): a 4-byte
// big-endian length, then the payload. Pure: no sockets here, so it is unit-tested on its own.
//
// The instance runs untrusted code that can write frames of its own on the channel (it is fd 3 of its own
// process). So every call carries a request id the reply must echo, the reply's header is one small flat JSON
// object (flat-json.ts), its timings must be numbers in range, and an error body must be flat too: what the
// daemon parses from an instance costs it time linear in a bounded size, and a reply to any other call than
// the one waiting is refused (the instance is then killed by its caller: it spoke out of turn).

import { FlatObject, numberIn, parseFlatObject } from './flat-json';

export const MAX_FRAME_BYTES = 1 << 30;

/** The first byte of a request frame says what it is: only calls go to instances. */
export const CALL = Buffer.from('C');

/** A call: C, the request id the reply must carry, a newline, the JSON event. */
export function encodeCall(id: string, event: Buffer): Buffer {
  return encodeFrame(Buffer.concat([CALL, Buffer.from(`${id}\n`), event]));
}

/** the largest reply header line accepted */
export const MAX_REPLY_HEADER_BYTES = 4096;
/** the largest timing an instance may report (a day: more than any call's timeout) */
export const MAX_REPORTED_MS = 86_400_000;

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
      if (this.chunks[0].length < 4) this.chunks = [Buffer.concat(this.chunks)];
      const size = this.chunks[0].readUInt32BE(0);
      if (size > this.maxBytes) throw new RangeError(`frame of ${size} bytes exceeds the ${this.maxBytes}-byte limit`);
      // the chunks of a large frame are joined once, when it is whole: joining at each chunk copied it
      // again every time (quadratic in its size)
      if (this.buffered < 4 + size) break;
      const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
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

/** A reply that carries another request id than the call waiting for it: a forged or late reply. */
export class ForeignReply extends SyntaxError {}

/**
 * Splits a reply payload into its header line and body, checking both: the header is flat and bounded, its id
 * is `expectedId`, its timings are numbers in [0, MAX_REPORTED_MS]; an error body is a flat object too.
 * Throws ForeignReply for another id, SyntaxError for anything else malformed.
 */
export function parseReply(payload: Buffer, expectedId: string): InstanceReply {
  const newline = payload.indexOf(0x0a);
  if (newline < 0 || newline > MAX_REPLY_HEADER_BYTES) throw new SyntaxError('reply has no header line (of at most 4 KB)');
  const header = parseFlatObject(payload.subarray(0, newline), MAX_REPLY_HEADER_BYTES);
  if (header.id !== expectedId) throw new ForeignReply(`reply for request ${JSON.stringify(header.id)}, not for the call waiting (${expectedId})`);
  const status = header.status;
  if (status !== 'ok' && status !== 'error' && status !== 'load_error') {
    throw new SyntaxError(`reply has an unknown status ${JSON.stringify(status)}`);
  }
  const body = payload.subarray(newline + 1);
  if (status !== 'ok') parseErrorBody(body);
  return { status, loadMs: numberIn(header, 'load_ms', 0, MAX_REPORTED_MS), execMs: numberIn(header, 'exec_ms', 0, MAX_REPORTED_MS), body };
}

export interface ErrorBody {
  type?: string;
  message?: string;
  traceback?: string;
}

/** The {type, message, traceback} of an error reply; throws when it is not a flat object of strings. */
export function parseErrorBody(body: Buffer): ErrorBody {
  const object: FlatObject = parseFlatObject(body, body.length);
  const out: ErrorBody = {};
  for (const key of ['type', 'message', 'traceback'] as const) {
    const value = object[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new SyntaxError(`error ${key}: not a string`);
    out[key] = value;
  }
  return out;
}
