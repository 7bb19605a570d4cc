// The messages on a Zygote's control socket (service/runtime/zygote.py; protocol.py the same in Python), each
// the payload of one frame (framing.ts): one JSON object. Pure.
//
// To a Zygote, one request, sent in one sendmsg with its fds:
//   fork     {"op": "fork", "id", "kind": "instance" | "zygote" | "spare", "paths", "imports"? (zygote),
//             "env"? (instance), "uid", "gid", "hostname", "netns": 0 | 1, "cgroups": n}
//            fds [channel, output, root, a network namespace (netns 1), the n cgroup join files]
// From a Zygote and what it forked, every answer carrying the id of its request; its fields say which it is:
//   pid      {"id", "pid"}                        the Zygote forked: the new process's pid in the Zygotes' namespace
//   joined   {"id", "joined": true}               the new process is in its cgroups (sockpitd finds it there)
//   ready    {"id", "ready": true, "import_ms"?}  the new process is set up (a Zygote: its imports done)
//   failed   {"id", "ready": false, "error"}      the new process (or the fork) failed
//   refused  {"id", "ok": false, "error"}         the Zygote refuses the request
// At its start the first Zygote says ready with the id "start".
//
// Package code runs inside Zygotes at import time and can write frames of its own there: an answer is one
// small flat JSON object (flat-json.ts) of exactly one of these shapes, fields of the right types, timings in
// range; the caller checks its id is one it sent.

import { ProtocolError } from './errors';
import { FlatObject, numberIn, parseFlatObject } from './flat-json';
import { encodeFrame } from './framing';
import { MAX_REPORTED_MS } from './instance-messages';
import { asciiJson } from './json';

export type ForkKind = 'instance' | 'zygote' | 'spare';
export const FORK_KINDS: readonly ForkKind[] = ['instance', 'zygote', 'spare'];

export interface ForkRequest {
  type: 'fork';
  id: string;
  /** a spare: an instance made ahead, with no function yet (zygotes/spare.ts) */
  kind: ForkKind;
  /** sys.path entries for the new process */
  paths: string[];
  /** top-level modules a new Zygote imports */
  imports?: string[];
  /** the environment of a new instance */
  env?: Record<string, string>;
  uid: number;
  gid: number;
  hostname: string;
  /** 1: a network namespace fd follows the root fd, which the new process joins; 0: it keeps its parent's */
  netns: 0 | 1;
  /** how many cgroup join fds come last */
  cgroups: number;
}

export interface PidAnswer {
  type: 'pid';
  id: string;
  /** in the Zygotes' PID namespace */
  pid: number;
}

export interface JoinedAnswer {
  type: 'joined';
  id: string;
}

export interface ReadyAnswer {
  type: 'ready';
  id: string;
  /** a new Zygote's import time */
  importMs?: number;
}

export interface FailedAnswer {
  type: 'failed';
  id: string;
  error: string;
}

export interface RefusedAnswer {
  type: 'refused';
  id: string;
  error: string;
}

export type Answer = PidAnswer | JoinedAnswer | ReadyAnswer | FailedAnswer | RefusedAnswer;

/** the largest answer accepted (an error carries one line of a traceback) */
export const MAX_ANSWER_BYTES = 64 * 1024;
/** the largest fork request a Zygote reads (zygote.py MAX_REQUEST) */
export const MAX_FORK_REQUEST_BYTES = 1 << 20;
/** the longest request id */
const MAX_ID_LENGTH = 64;
/** pid_max can't exceed 2^22 */
const MAX_PID = 1 << 22;

export function encodeForkRequest(request: Omit<ForkRequest, 'type'>): Buffer {
  const { id, kind, paths, imports, env, uid, gid, hostname, netns, cgroups } = request;
  return encodeFrame(Buffer.from(asciiJson({ op: 'fork', id, kind, paths, imports, env, uid, gid, hostname, netns, cgroups })));
}

/** A fork request's payload, as a Zygote reads it (here for tests: the daemon only sends these). */
export function decodeForkRequest(payload: Buffer): ForkRequest {
  const o = parseObject(payload, MAX_FORK_REQUEST_BYTES);
  if (o.op !== 'fork') throw new ProtocolError(`a Zygote serves fork requests only, not ${JSON.stringify(o.op)}`);
  const kind = o.kind as ForkKind;
  if (!FORK_KINDS.includes(kind)) throw new ProtocolError(`unknown fork kind ${JSON.stringify(o.kind)}`);
  if (o.netns !== 0 && o.netns !== 1) throw new ProtocolError(`netns is 0 or 1, not ${JSON.stringify(o.netns)}`);
  const request: ForkRequest = {
    type: 'fork',
    id: stringOf(o, 'id'),
    kind,
    paths: stringsOf(o, 'paths'),
    uid: integerOf(o, 'uid'),
    gid: integerOf(o, 'gid'),
    hostname: stringOf(o, 'hostname'),
    netns: o.netns,
    cgroups: integerOf(o, 'cgroups'),
  };
  if (o.imports !== undefined) request.imports = stringsOf(o, 'imports');
  if (o.env !== undefined) {
    const env = o.env;
    if (env === null || typeof env !== 'object' || Array.isArray(env) || Object.values(env).some((v) => typeof v !== 'string')) {
      throw new ProtocolError('env: not an object of strings');
    }
    request.env = env as Record<string, string>;
  }
  return request;
}

/** An answer, as a Zygote or what it forked writes it (here for tests: the daemon only receives these). */
export function encodeAnswer(answer: Answer): Buffer {
  const { id } = answer;
  let wire: Record<string, unknown>;
  switch (answer.type) {
    case 'pid':
      wire = { id, pid: answer.pid };
      break;
    case 'joined':
      wire = { id, joined: true };
      break;
    case 'ready':
      wire = answer.importMs === undefined ? { id, ready: true } : { id, ready: true, import_ms: answer.importMs };
      break;
    case 'failed':
      wire = { id, ready: false, error: answer.error };
      break;
    case 'refused':
      wire = { id, ok: false, error: answer.error };
      break;
  }
  return encodeFrame(Buffer.from(asciiJson(wire)));
}

/** the fields each answer has besides its id (the optional ones too) */
const ANSWER_FIELDS: Record<Answer['type'], readonly string[]> = {
  pid: ['pid'],
  joined: ['joined'],
  ready: ['ready', 'import_ms'],
  failed: ['ready', 'error'],
  refused: ['ok', 'error'],
};

/** Decodes and checks one answer's payload; throws a ProtocolError saying what is wrong with it. */
export function decodeAnswer(payload: Buffer): Answer {
  const o: FlatObject = parseFlatObject(payload, MAX_ANSWER_BYTES);
  if (typeof o.id !== 'string' || o.id.length > MAX_ID_LENGTH) throw new ProtocolError('an answer needs a request id');
  for (const [key, value] of Object.entries(o)) {
    switch (key) {
      case 'id':
        break;
      case 'pid':
        numberIn(o, key, 1, MAX_PID);
        if (!Number.isInteger(value)) throw new ProtocolError(`pid: ${value} is not an integer`);
        break;
      case 'joined':
      case 'ready':
      case 'ok':
        if (typeof value !== 'boolean') throw new ProtocolError(`${key}: not a boolean`);
        break;
      case 'error':
        if (typeof value !== 'string') throw new ProtocolError('error: not a string');
        break;
      case 'import_ms':
        numberIn(o, key, 0, MAX_REPORTED_MS);
        break;
      default:
        throw new ProtocolError(`unknown field ${JSON.stringify(key)}`);
    }
  }
  const type = answerType(o);
  for (const key of Object.keys(o)) {
    if (key !== 'id' && !ANSWER_FIELDS[type].includes(key)) throw new ProtocolError(`a ${type} answer has no field ${JSON.stringify(key)}`);
  }
  const id = o.id;
  switch (type) {
    case 'pid':
      return { type, id, pid: o.pid as number };
    case 'joined':
      return { type, id };
    case 'ready':
      return o.import_ms === undefined ? { type, id } : { type, id, importMs: o.import_ms as number };
    case 'failed':
    case 'refused':
      if (typeof o.error !== 'string') throw new ProtocolError(`a ${type} answer needs an error`);
      return { type, id, error: o.error };
  }
}

/** which answer an object is, by the field that tells (the wire has no type field: see the file's head) */
function answerType(o: FlatObject): Answer['type'] {
  if (o.pid !== undefined) return 'pid';
  if (o.joined === true) return 'joined';
  if (o.ready === true) return 'ready';
  if (o.ready === false) return 'failed';
  if (o.ok === false) return 'refused';
  throw new ProtocolError('an answer says neither pid, joined, ready nor a refusal');
}

function parseObject(payload: Buffer, maxBytes: number): Record<string, unknown> {
  if (payload.length > maxBytes) throw new ProtocolError(`${payload.length} bytes, more than the ${maxBytes} allowed`);
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    throw new ProtocolError('a Zygote serves fork requests only: this message is not one');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ProtocolError('a fork request is a JSON object');
  return value as Record<string, unknown>;
}

function stringOf(o: Record<string, unknown>, key: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new ProtocolError(`${key}: not a string`);
  return v;
}

function integerOf(o: Record<string, unknown>, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ProtocolError(`${key}: not a non-negative integer`);
  return v;
}

function stringsOf(o: Record<string, unknown>, key: string): string[] {
  const v = o[key];
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) throw new ProtocolError(`${key}: not a list of strings`);
  return v as string[];
}
