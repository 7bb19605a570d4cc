import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventBus } from './events';
import { formatSseComment, formatSseEvent, parseSeq, parseTypes } from './sse';
import { SseParser } from '../client/telemetry';

test('an event is framed with its seq, its type and its JSON; the client parser reads it back', () => {
  const bus = new EventBus();
  const e = bus.publish({ type: 'install', package: 'a\nb', ok: false, ms: 1, error: 'line1\nline2' });
  const text = formatSseEvent(e);
  assert.equal(text, `id: 1\nevent: install\ndata: ${JSON.stringify(e)}\n\n`);
  const [m] = new SseParser().push(text + formatSseComment('hi\nthere'));
  assert.deepEqual(m, { id: '1', event: 'install', data: JSON.stringify(e) });
  assert.deepEqual(JSON.parse(m.data), e);
  assert.equal(formatSseComment('a\nb'), ': a b\n\n');
});

test('types and seq parameters are validated', () => {
  assert.equal(parseTypes(undefined), null);
  assert.equal(parseTypes(' '), null);
  assert.deepEqual([...parseTypes('invocation, zygote,,')!], ['invocation', 'zygote']);
  assert.throws(() => parseTypes('invocation,nope'), /unknown event type "nope"/);
  assert.equal(parseSeq(' 42 '), 42);
  assert.equal(parseSeq('0'), 0);
  for (const bad of ['', '-1', '1.5', 'abc', '1e3', '9'.repeat(20)]) assert.throws(() => parseSeq(bad), RangeError, bad);
});
