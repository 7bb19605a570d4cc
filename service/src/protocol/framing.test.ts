import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameTooLarge } from './errors';
import { encodeFrame, FrameDecoder } from './framing';

test('frames survive being split at every byte boundary', () => {
  const payloads = [Buffer.from('{"a":1}'), Buffer.alloc(0), Buffer.from('x'.repeat(1000))];
  const stream = Buffer.concat(payloads.map(encodeFrame));
  for (let cut = 0; cut <= stream.length; cut++) {
    const decoder = new FrameDecoder();
    const got = [...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))];
    assert.deepEqual(got.map(String), payloads.map(String), `cut at ${cut}`);
    assert.equal(decoder.pending, 0);
  }
});

test('a frame over the limit is refused before it is buffered', () => {
  const decoder = new FrameDecoder(10);
  assert.throws(() => decoder.push(encodeFrame(Buffer.alloc(11))), (err: Error) => err instanceof FrameTooLarge && /exceeds the 10-byte limit/.test(err.message));
});
