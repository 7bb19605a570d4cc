// The messages between sockpitd and an instance host (service/runtime/instance.py; protocol.py the same in
// Python), each the payload of one frame (framing.ts). Pure.
//
// To an instance, a frame's first byte says what it is:
//   call   "C" + the request id + "\n" + the JSON event (bytes as the API got them: never parsed here)
//   setup  "S" + the function's environment as one line of JSON + "\n" + f.py's bytecode (or nothing): the
//          first frame a spare gets (zygote.py), sent in the same write as its first call; no answer comes
// From an instance:
//   reply  a one-line flat JSON header {"id", "status", "load_ms", "exec_ms"}, "\n", then the body: the JSON
//          result (status ok), or an error body {"type", "message", "traceback"} (error, load_error)
//
// The instance runs untrusted code that can write frames of its own on the channel (it is fd 3 of its own
// process). So every call carries a request id the reply must echo, the reply's header is one small flat JSON
// object (flat-json.ts), its timings must be numbers in range, and an error body must be flat too: what the
// daemon decodes from an instance costs it time linear in a bounded size, and a reply to any other call than
// the one waiting is refused (the instance is then killed by its caller: it spoke out of turn).

import { ForeignReply, ProtocolError } from './errors';
import { FlatObject, numberIn, parseFlatObject } from './flat-json';
import { encodeFrame, FRAME_HEADER_BYTES } from './framing';
import { asciiJson } from './json';

export interface Call {
  type: 'call';
  /** echoed by the reply: unguessable (no newline in it) */
  id: string;
  /** the JSON event, as bytes */
  event: Buffer;
}

export interface Setup {
  type: 'setup';
  /** the environment of the function the spare becomes the instance of */
  env: Record<string, string>;
  /** f.py's bytecode (functions/bytecode.ts), or null: the spare reads f.py */
  bytecode: Buffer | null;
}

export type InstanceRequest = Call | Setup;

export type ReplyStatus = 'ok' | 'error' | 'load_error';

export interface Reply {
  type: 'reply';
  id: string;
  status: ReplyStatus;
  /** time the instance took to import f.py, at its start */
  loadMs: number;
  /** time f(event) took */
  execMs: number;
  /** ok: the JSON result, as bytes; otherwise an error body {type, message, traceback} (decodeErrorBody) */
  body: Buffer;
}

/** what an error reply's body says: the exception's class name, its message, its traceback */
export interface ErrorBody {
  type?: string;
  message?: string;
  traceback?: string;
}

/** the first byte of each request frame */
export const CALL_KIND = 0x43; // C
export const SETUP_KIND = 0x53; // S
const NEWLINE = 0x0a;

/** the largest reply header line accepted */
export const MAX_REPLY_HEADER_BYTES = 4096;
/** the largest timing an instance may report (a day: more than any call's timeout) */
export const MAX_REPORTED_MS = 86_400_000;

/** A call frame, built in one buffer: the call path copies the event once, here. */
export function encodeCall(id: string, event: Buffer): Buffer {
  const idBytes = Buffer.byteLength(id);
  const size = 1 + idBytes + 1 + event.length;
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + size);
  frame.writeUInt32BE(size, 0);
  frame[FRAME_HEADER_BYTES] = CALL_KIND;
  frame.write(id, FRAME_HEADER_BYTES + 1);
  frame[FRAME_HEADER_BYTES + 1 + idBytes] = NEWLINE;
  event.copy(frame, FRAME_HEADER_BYTES + 2 + idBytes);
  return frame;
}

/** A spare's set-up frame. */
export function encodeSetup(env: Record<string, string>, bytecode: Buffer | null): Buffer {
  const head = Buffer.from(`S${asciiJson(env)}\n`);
  return encodeFrame(bytecode ? Buffer.concat([head, bytecode]) : head);
}

export function encodeInstanceRequest(request: InstanceRequest): Buffer {
  return request.type === 'call' ? encodeCall(request.id, request.event) : encodeSetup(request.env, request.bytecode);
}

/** A request frame's payload, as the instance reads it (here for tests: the daemon only sends these). */
export function decodeInstanceRequest(payload: Buffer): InstanceRequest {
  const newline = payload.indexOf(NEWLINE);
  if (newline < 0) throw new ProtocolError('a request has no newline');
  const rest = payload.subarray(newline + 1);
  switch (payload[0]) {
    case CALL_KIND:
      return { type: 'call', id: payload.subarray(1, newline).toString('utf8'), event: rest };
    case SETUP_KIND: {
      let env: unknown;
      try {
        env = JSON.parse(payload.subarray(1, newline).toString('utf8'));
      } catch (err) {
        throw new ProtocolError(`a set-up environment is not JSON: ${(err as Error).message}`);
      }
      if (env === null || typeof env !== 'object' || Array.isArray(env) || Object.values(env).some((v) => typeof v !== 'string')) {
        throw new ProtocolError('a set-up environment is an object of strings');
      }
      return { type: 'setup', env: env as Record<string, string>, bytecode: rest.length > 0 ? rest : null };
    }
    default:
      throw new ProtocolError(`an instance serves calls only, not ${JSON.stringify(String.fromCharCode(payload[0] ?? 0))} requests`);
  }
}

/** A reply frame, as the instance writes it (here for tests: the daemon only receives these). */
export function encodeReply(reply: Omit<Reply, 'type'>): Buffer {
  const header = asciiJson({ id: reply.id, status: reply.status, load_ms: reply.loadMs, exec_ms: reply.execMs });
  return encodeFrame(Buffer.concat([Buffer.from(`${header}\n`), reply.body]));
}

/**
 * Splits a reply payload into its header line and body, checking both: the header is flat and bounded, its id
 * is `expectedId`, its timings are numbers in [0, MAX_REPORTED_MS]; an error body is a flat object too.
 * Throws ForeignReply for another id, ProtocolError for anything else malformed.
 */
export function decodeReply(payload: Buffer, expectedId: string): Reply {
  const newline = payload.indexOf(NEWLINE);
  if (newline < 0 || newline > MAX_REPLY_HEADER_BYTES) throw new ProtocolError('reply has no header line (of at most 4 KB)');
  const header = parseFlatObject(payload.subarray(0, newline), MAX_REPLY_HEADER_BYTES);
  if (header.id !== expectedId) throw new ForeignReply(`reply for request ${JSON.stringify(header.id)}, not for the call waiting (${expectedId})`);
  const status = header.status;
  if (status !== 'ok' && status !== 'error' && status !== 'load_error') {
    throw new ProtocolError(`reply has an unknown status ${JSON.stringify(status)}`);
  }
  const body = payload.subarray(newline + 1);
  if (status !== 'ok') decodeErrorBody(body);
  const loadMs = numberIn(header, 'load_ms', 0, MAX_REPORTED_MS);
  const execMs = numberIn(header, 'exec_ms', 0, MAX_REPORTED_MS);
  return { type: 'reply', id: expectedId, status, loadMs, execMs, body };
}

/** The {type, message, traceback} of an error reply; throws a ProtocolError when it is not a flat object of strings. */
export function decodeErrorBody(body: Buffer): ErrorBody {
  const object: FlatObject = parseFlatObject(body, body.length);
  const out: ErrorBody = {};
  for (const key of ['type', 'message', 'traceback'] as const) {
    const value = object[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new ProtocolError(`error ${key}: not a string`);
    out[key] = value;
  }
  return out;
}

/** An error body as the instance writes it (instance.py describe). */
export function encodeErrorBody(error: Required<ErrorBody>): Buffer {
  return Buffer.from(asciiJson({ type: error.type, message: error.message, traceback: error.traceback }));
}
