import { test } from 'node:test';
import assert from 'node:assert/strict';
import { register as globalRegistry } from 'prom-client';
import { EventBus, InvocationEvent } from './events';
import { GaugeValues, createMetrics } from './metrics';

function inv(over: Partial<InvocationEvent>): InvocationEvent {
  return { type: 'invocation', function: 'hello', version: 1, tier: 'warm', zygote: null, sandbox: 's', status: 200, error: null, phases: { total: 1 }, ...over };
}

const GAUGES: GaugeValues = { pool: { free: 7, inUse: 3 }, instances: { live: 5, idle: 2 }, zygotes: { count: 4, memoryBytes: 123456, processes: 5 }, cache: { packages: 11, bytes: 2048 } };

/** the value of one sample line `name{labels} value` */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('invocation events become counters and histograms', async () => {
  const bus = new EventBus();
  const m = createMetrics(bus, () => GAUGES);
  bus.publish(inv({ phases: { total: 0.3, run: 0.2 } }));
  bus.publish(inv({ phases: { total: 3, run: 2 } }));
  bus.publish(inv({ tier: 'cold', phases: { total: 40, sandbox: 10, run: 30 } }));
  bus.publish(inv({ tier: 'cold', status: 422, error: 'function_error', phases: { total: 12000 } }));
  bus.publish({ type: 'zygote', action: 'forked', id: 'z1', parent: null, packages: [] });
  bus.publish({ type: 'install', package: 'x==1', ok: false, ms: 5, error: 'no' });
  const text = await m.text();

  assert.equal(sample(text, 'sockpit_invocations_total{tier="warm",function="hello",status="200"}'), 2);
  assert.equal(sample(text, 'sockpit_invocations_total{tier="cold",function="hello",status="200"}'), 1);
  assert.equal(sample(text, 'sockpit_invocations_total{tier="cold",function="hello",status="422"}'), 1);

  // 0.3 ms falls in the first bucket (0.5 ms), 3 ms in 5 ms; 12 s only in +Inf
  assert.equal(sample(text, 'sockpit_invocation_seconds_bucket{le="0.0005",tier="warm"}'), 1);
  assert.equal(sample(text, 'sockpit_invocation_seconds_bucket{le="0.0025",tier="warm"}'), 1);
  assert.equal(sample(text, 'sockpit_invocation_seconds_bucket{le="0.005",tier="warm"}'), 2);
  assert.equal(sample(text, 'sockpit_invocation_seconds_count{tier="warm"}'), 2);
  assert.ok(Math.abs(sample(text, 'sockpit_invocation_seconds_sum{tier="warm"}')! - 0.0033) < 1e-12);
  assert.equal(sample(text, 'sockpit_invocation_seconds_bucket{le="10",tier="cold"}'), 1);
  assert.equal(sample(text, 'sockpit_invocation_seconds_bucket{le="+Inf",tier="cold"}'), 2);

  assert.equal(sample(text, 'sockpit_phase_seconds_count{tier="cold",phase="sandbox"}'), 1);
  assert.equal(sample(text, 'sockpit_phase_seconds_count{tier="warm",phase="run"}'), 2);
  assert.ok(!text.includes('phase="total"'), 'total is not a phase series');

  assert.equal(sample(text, 'sockpit_zygote_events_total{action="forked"}'), 1);
  assert.equal(sample(text, 'sockpit_zygote_events_total{action="created"}'), 0);
  assert.equal(sample(text, 'sockpit_installs_total{result="failed"}'), 1);
  assert.equal(sample(text, 'sockpit_installs_total{result="ok"}'), 0);
  m.close();
});

test('gauges read the live values once per scrape; process metrics are prefixed; the global registry is untouched', async () => {
  const bus = new EventBus();
  let reads = 0;
  let values = GAUGES;
  const m = createMetrics(bus, () => {
    reads++;
    return values;
  });
  const text = await m.text();
  assert.equal(reads, 1);
  assert.equal(sample(text, 'sockpit_pool_cgroups{state="free"}'), 7);
  assert.equal(sample(text, 'sockpit_pool_cgroups{state="in_use"}'), 3);
  assert.equal(sample(text, 'sockpit_instances{state="live"}'), 5);
  assert.equal(sample(text, 'sockpit_instances{state="idle"}'), 2);
  assert.equal(sample(text, 'sockpit_zygotes'), 4);
  assert.equal(sample(text, 'sockpit_zygote_memory_bytes'), 123456);
  assert.equal(sample(text, 'sockpit_package_cache_packages'), 11);
  assert.equal(sample(text, 'sockpit_package_cache_bytes'), 2048);
  assert.match(text, /^sockpitd_process_cpu_user_seconds_total \d/m);
  assert.match(text, /^# TYPE sockpit_invocation_seconds histogram$/m);
  assert.match(m.contentType, /^text\/plain/);

  values = { ...GAUGES, zygotes: { count: 9, memoryBytes: 1, processes: 10 } };
  assert.equal(sample(await m.text(), 'sockpit_zygotes'), 9);
  assert.equal(reads, 2);

  assert.equal(globalRegistry.getSingleMetric('sockpit_invocations_total'), undefined);
  // a second set of metrics beside the first does not clash
  const other = createMetrics(bus, () => GAUGES);
  await other.text();
  other.close();
  m.close();
});

test('a failing gauge callback does not fail the scrape', async () => {
  const bus = new EventBus();
  let fail = false;
  const m = createMetrics(bus, () => {
    if (fail) throw new Error('boom');
    return GAUGES;
  }, { processMetrics: false });
  await m.text();
  fail = true;
  const text = await m.text();
  assert.equal(sample(text, 'sockpit_zygotes'), 4); // the last value
  assert.ok(!text.includes('sockpitd_'));
  m.close();
  bus.publish(inv({}));
  assert.equal(sample(await m.text(), 'sockpit_invocations_total{tier="warm",function="hello",status="200"}'), undefined);
});
