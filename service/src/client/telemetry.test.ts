import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser, parseSse } from './telemetry';

test('parseSse returns whole messages and keeps the unfinished rest', () => {
  const r = parseSse('id: 1\nevent: a\ndata: {"x":1}\n\nid: 2\nevent: b\ndata: {"x"');
  assert.deepEqual(r.messages, [{ id: '1', event: 'a', data: '{"x":1}' }]);
  assert.equal(r.rest, 'id: 2\nevent: b\ndata: {"x"');
  assert.equal(r.lastId, '1');
  const r2 = parseSse(r.rest + ':2}\n\n', r.lastId);
  assert.deepEqual(r2.messages, [{ id: '2', event: 'b', data: '{"x":2}' }]);
  assert.equal(r2.rest, '');
});

test('comments, multi-line data, no-space values, CRLF and CR, retry, message default, id carry-over', () => {
  const text = ': hello\r\nretry: 1000\r\n\r\ndata:one\rdata: two\r\rid: 7\nevent: x\ndata\n\ndata: after\n\n';
  const { messages, rest } = parseSse(text);
  assert.equal(rest, '');
  assert.deepEqual(messages, [
    { id: null, event: 'message', data: 'one\ntwo' },
    { id: '7', event: 'x', data: '' },
    { id: '7', event: 'message', data: 'after' },
  ]);
  const withRetry = parseSse('retry: 50\ndata: r\n\n').messages[0];
  assert.equal(withRetry.retry, 50);
});

test('the parser gives the same messages however the stream is cut, bytes included', () => {
  const stream = Buffer.from(
    ': sockpitd events\n\n' +
      'id: 1\r\nevent: invocation\r\ndata: {"function":"héllo ✓"}\r\n\r\n' +
      'id: 2\nevent: zygote\ndata: {"id":"z1"}\n\n' +
      ': heartbeat\n\n' +
      'id: 3\revent: pool\rdata: {"free":1}\r\r',
    'utf8',
  );
  const expected = [
    { id: '1', event: 'invocation', data: '{"function":"héllo ✓"}' },
    { id: '2', event: 'zygote', data: '{"id":"z1"}' },
    { id: '3', event: 'pool', data: '{"free":1}' },
  ];
  for (let size = 1; size <= stream.length; size++) {
    const parser = new SseParser();
    const got = [];
    for (let i = 0; i < stream.length; i += size) got.push(...parser.push(stream.subarray(i, i + size)));
    assert.deepEqual(got, expected, `chunks of ${size} bytes`);
    assert.equal(parser.lastId, '3');
  }
});

test('a \\r\\n split between chunks is one line end; a \\r at the end dispatches at once', () => {
  const p = new SseParser();
  assert.deepEqual(p.push('data: a\r'), []);
  assert.deepEqual(p.push('\ndata: b\r'), []);
  assert.deepEqual(p.push('\n\r'), [{ id: null, event: 'message', data: 'a\nb' }]);
  assert.deepEqual(p.push('\ndata: c\n\n'), [{ id: null, event: 'message', data: 'c' }]);
});

test('a leading BOM is skipped', () => {
  assert.deepEqual(new SseParser().push('\ufeffdata: x\n\n'), [{ id: null, event: 'message', data: 'x' }]);
});
