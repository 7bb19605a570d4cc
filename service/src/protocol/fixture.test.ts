// The encoded messages both languages share (service/test/fixtures/protocol-messages.json): each frame decodes
// to its message and each message encodes to its frame, byte for byte, here and in Python (runtime/protocol.py,
// run by service/test/python/test_protocol.py from here, so the unit tests check both sides).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../paths';
import { FrameDecoder } from './framing';
import { decodeInstanceRequest, decodeReply, encodeInstanceRequest, encodeReply, InstanceRequest, Reply } from './instance-messages';
import { Answer, decodeAnswer, decodeForkRequest, encodeAnswer, encodeForkRequest, ForkRequest } from './zygote-messages';

type Message = ForkRequest | Answer | InstanceRequest | Reply;
type Bytes = { utf8: string } | { base64: string };

const FIXTURE = path.join(REPO_ROOT, 'service', 'test', 'fixtures', 'protocol-messages.json');
const PYTHON_TEST = path.join(REPO_ROOT, 'service', 'test', 'python', 'test_protocol.py');

const bytesOf = (v: Bytes | null): Buffer | null => (v === null ? null : 'utf8' in v ? Buffer.from(v.utf8) : Buffer.from(v.base64, 'base64'));

/** The fixture's message (wire field names, bytes as {utf8} or {base64}) as the TypeScript message. */
function fromFixture(m: Record<string, unknown>): Message {
  const { import_ms, load_ms, exec_ms, event, bytecode, body, ...rest } = m;
  const out: Record<string, unknown> = { ...rest };
  if (import_ms !== undefined) out.importMs = import_ms;
  if (load_ms !== undefined) out.loadMs = load_ms;
  if (exec_ms !== undefined) out.execMs = exec_ms;
  if (event !== undefined) out.event = bytesOf(event as Bytes);
  if (bytecode !== undefined) out.bytecode = bytesOf(bytecode as Bytes | null);
  if (body !== undefined) out.body = bytesOf(body as Bytes);
  return out as unknown as Message;
}

function decode(payload: Buffer, expected: Message): Message {
  switch (expected.type) {
    case 'fork':
      return decodeForkRequest(payload);
    case 'call':
    case 'setup':
      return decodeInstanceRequest(payload);
    case 'reply':
      return decodeReply(payload, expected.id);
    default:
      return decodeAnswer(payload);
  }
}

function encode(message: Message): Buffer {
  switch (message.type) {
    case 'fork':
      return encodeForkRequest(message);
    case 'call':
    case 'setup':
      return encodeInstanceRequest(message);
    case 'reply':
      return encodeReply(message);
    default:
      return encodeAnswer(message);
  }
}

test('every message of the fixture decodes from its frame and encodes to it, byte for byte', () => {
  const { messages } = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as { messages: Array<{ what: string; message: Record<string, unknown>; frame: string }> };
  assert.ok(messages.length > 10);
  const types = new Set<string>();
  for (const { what, message, frame } of messages) {
    const expected = fromFixture(message);
    types.add(expected.type);
    const bytes = Buffer.from(frame, 'base64');
    const payloads = new FrameDecoder().push(bytes);
    assert.equal(payloads.length, 1, `${what}: one whole frame`);
    assert.deepEqual(decode(payloads[0], expected), expected, what);
    assert.deepEqual(encode(expected), bytes, what);
  }
  assert.deepEqual([...types].sort(), ['call', 'failed', 'fork', 'joined', 'pid', 'ready', 'refused', 'reply', 'setup'], 'every type is in the fixture');
});

test('the Python side decodes and encodes the same fixture (test_protocol.py)', () => {
  const run = spawnSync('python3', ['-B', PYTHON_TEST], { encoding: 'utf8' });
  assert.equal(run.error, undefined, `python3: ${run.error?.message}`);
  assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
  assert.match(run.stderr, /^OK$/m);
});
