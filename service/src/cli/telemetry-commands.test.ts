import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import { EventBus } from '../telemetry/events';
import { Stats } from '../telemetry/stats';
import { addTelemetryCommands, formatEvent, formatStats } from './telemetry-commands';

test('events print one readable line each', () => {
  const bus = new EventBus();
  const at = (e: ReturnType<EventBus['publish']>) => ({ ...e, at: new Date(2024, 0, 1, 12, 1, 2, 345).toISOString() });
  const line = (e: Parameters<EventBus['publish']>[0]) => formatEvent(at(bus.publish(e)));
  const base = { type: 'invocation', function: 'hello', version: 1, zygote: null, sandbox: 's', error: null } as const;
  assert.equal(line({ ...base, tier: 'cold', status: 200, phases: { total: 16.23 } }), '12:01:02.345 invocation hello cold 16.2 ms');
  assert.equal(line({ ...base, tier: 'warm', status: 422, error: 'function_error', phases: { total: 1.5 } }), '12:01:02.345 invocation hello warm 1.50 ms 422 function_error');
  assert.equal(
    line({ type: 'zygote', action: 'forked', id: 'z2', parent: 'z1', packages: ['numpy==1'], child: { kind: 'instance', id: 'i9', function: 'hello' } }),
    '12:01:02.345 zygote forked z2 parent z1 [numpy==1] -> instance i9 (hello)',
  );
  assert.equal(line({ type: 'install', package: 'a==1', ok: false, ms: 1234, error: 'no wheel' }), '12:01:02.345 install a==1 failed 1234 ms: no wheel');
  assert.equal(line({ type: 'function', action: 'deployed', name: 'hello', version: 2 }), '12:01:02.345 function deployed hello v2');
});

test('the stats table shows every tier, the hit rates and the daemon parts', () => {
  const stats = new Stats();
  for (const [tier, ms] of [['warm', 1], ['warm', 3], ['cold', 40], ['zygote', 8]] as const) {
    stats.record({ type: 'invocation', function: 'hello', version: 1, tier, zygote: null, sandbox: 's', status: 200, error: null, phases: { total: ms } });
  }
  const text = formatStats(stats.snapshot({ pool: { size: 4, free: 3, inUse: 1 }, cache: { packages: 2, bytes: 3 * 2 ** 20 }, zygotes: { count: 1 }, instances: { live: 1, idle: 1 } }));
  assert.match(text, /^warm\s+2\s+0\s+50\.0%\s+2\.00\s+/m);
  assert.match(text, /^cold\s+1\s+0\s+25\.0%\s+40\.0\s+/m);
  assert.match(text, /^zygote\s+1\s+0\s+25\.0%/m);
  assert.match(text, /^pool\s+size 4, free 3, inUse 1$/m);
  assert.match(text, /^cache\s+packages 2, bytes 3\.0 MiB$/m);
  assert.match(text, /^zygotes\s+count 1, created 0/m);
  assert.match(text, /^hello\s+4\s+0\s+2\s+1\s+1$/m);
});

test('the commands are added', () => {
  const program = new Command('sockpit');
  addTelemetryCommands(program, () => '/nonexistent');
  assert.deepEqual(
    program.commands.map((c) => c.name()),
    ['stats', 'events'],
  );
});
