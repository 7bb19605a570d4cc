import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Aborted, LineSplitter, parseProgressLine, progressWriter, watchInterrupts } from './progress';

test('progressWriter writes JSON lines that parseProgressLine reads back', () => {
  const lines: string[] = [];
  const p = progressWriter(true, (l) => lines.push(l));
  p('starting', 0.1);
  p('a step without a fraction');
  p('going backwards is ignored', 0.05);
  p('beyond 1 is clamped', 7);
  assert.ok(lines.every((l) => l.endsWith('\n') && !l.slice(0, -1).includes('\n')));
  assert.deepEqual(
    lines.map((l) => parseProgressLine(l)),
    [
      { progress: 0.1, message: 'starting' },
      { progress: 0.1, message: 'a step without a fraction' },
      { progress: 0.1, message: 'going backwards is ignored' },
      { progress: 1, message: 'beyond 1 is clamped' },
    ],
  );
});

test('progressWriter in text mode writes the message alone', () => {
  const lines: string[] = [];
  progressWriter(false, (l) => lines.push(l))('hello', 0.5);
  assert.deepEqual(lines, ['hello\n']);
});

test('parseProgressLine refuses anything that is not a progress line', () => {
  for (const line of ['', 'plain text', '{', '[1]', 'null', '{"progress": "0.5", "message": "x"}', '{"progress": 0.5}', '{"message": "x"}', '{"progress": null, "message": "x"}']) {
    assert.equal(parseProgressLine(line), null, line);
  }
  assert.deepEqual(parseProgressLine('  {"progress": -1, "message": "m", "extra": 1}\r'), { progress: 0, message: 'm' });
});

test('LineSplitter joins chunks, splits lines, keeps the unfinished rest', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push('ab'), []);
  assert.deepEqual(s.push('c\nde'), ['abc']);
  assert.deepEqual(s.push('f\r\n\ng'), ['def', '']);
  assert.deepEqual(s.end(), ['g']);
  assert.deepEqual(s.end(), []);
  const small = new LineSplitter(4);
  assert.deepEqual(small.push('abcdefgh'), ['abcd']);
});

test('check() sees a SIGTERM that arrives while the benchmark awaits only promises that settle at once', async () => {
  const interrupts = watchInterrupts(() => {});
  try {
    process.kill(process.pid, 'SIGTERM');
    await assert.rejects(async () => {
      for (let i = 0; i < 100_000; i++) {
        await Promise.resolve(); // like a sandbox made and destroyed with synchronous cgroup and mount calls
        await interrupts.check();
      }
    }, Aborted);
  } finally {
    interrupts.dispose();
  }
});
