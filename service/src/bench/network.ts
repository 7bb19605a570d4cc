// `sockpit bench network`: what a network namespace per sandbox costs a call, measured side by side in one run.
// Nine daemons: network.mode isolated (with egress: a slirp4netns per namespace), isolated without egress
// (loopback only) and host, each for the three tiers (cold with Zygotes off, Zygote hit with no warm instances
// kept, warm). Each round times one call on every daemon, in rotated order, each after a pause
// (the last call's clean-up done), and keeps only samples served from the tier the daemon is there for.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Tier } from '../../../api';
import { rotate, startDaemon, stopDaemons, target, mark, type DaemonChild, type Target } from './daemons';
import { formatMs, renderTable, summarize, type Summary } from './stats';

export interface NetworkBenchOptions {
  json: boolean;
  /** calls timed per daemon (default 60) */
  iterations?: number;
}

type Mode = 'isolated' | 'loopback' | 'host';
const MODES: Record<Mode, object> = { isolated: { mode: 'isolated' }, loopback: { mode: 'isolated', egress: false }, host: { mode: 'host' } };

export interface NetworkReport {
  benchmark: 'network';
  host: { kernel: string; cpus: number };
  iterations: number;
  /** client-side end-to-end latency, ms, per tier and mode */
  results: Record<Tier, Record<Mode, Summary & { wrongTier: number }>>;
  targets: Target[];
}

const TIERS: Record<Tier, object> = {
  cold: { zygotes: { enabled: false }, warm: { memoryBudgetMb: 0 } },
  zygote: { warm: { memoryBudgetMb: 0 } },
  warm: { zygotes: { enabled: false }, warm: { memoryBudgetMb: 1024 } },
};
/** the targets: how much slower isolated may be than host, p50, ms */
const BUDGET_MS: Record<Tier, number> = { cold: 0.5, zygote: 0.1, warm: 0.1 };
const QUIET_MS = 40;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function measureNetworkBench(opts: NetworkBenchOptions): Promise<NetworkReport> {
  const iterations = opts.iterations ?? 60;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sockpit-bench-network-'));
  const daemons: Array<{ tier: Tier; mode: Mode; d: DaemonChild }> = [];
  try {
    for (const tier of Object.keys(TIERS) as Tier[]) {
      for (const mode of Object.keys(MODES) as Mode[]) {
        daemons.push({ tier, mode, d: startDaemon(tmp, `${tier}-${mode}`, { ...TIERS[tier], network: MODES[mode] }) });
      }
    }
    await Promise.all(daemons.map((x) => x.d.ready));
    const fnDir = path.join(tmp, 'fn');
    fs.mkdirSync(fnDir);
    fs.writeFileSync(path.join(fnDir, 'f.py'), 'def f(e):\n    return e\n');
    for (const { d } of daemons) {
      await d.client.deploy('echo', fnDir);
      for (let i = 0; i < 3; i++) await d.client.run('echo', i); // warm-up: the Zygote tree, a warm instance
    }
    const samples = new Map(daemons.map((x) => [x, [] as number[]]));
    const wrong = new Map(daemons.map((x) => [x, 0]));
    for (let i = 0; i < iterations; i++) {
      for (const x of rotate(daemons, i)) {
        await sleep(QUIET_MS);
        const started = performance.now();
        const r = await x.d.client.run('echo', i);
        const ms = performance.now() - started;
        if (r.status !== 200) throw new Error(`${x.tier}/${x.mode}: HTTP ${r.status} ${JSON.stringify(r.error)}`);
        if (r.tier === x.tier) samples.get(x)!.push(ms);
        else wrong.set(x, wrong.get(x)! + 1);
      }
    }
    const results = {} as NetworkReport['results'];
    for (const x of daemons) {
      results[x.tier] ??= {} as Record<Mode, Summary & { wrongTier: number }>;
      results[x.tier][x.mode] = { ...summarize(samples.get(x)!), wrongTier: wrong.get(x)! };
    }
    const targets = (Object.keys(TIERS) as Tier[]).map((tier) => {
      const cost = results[tier].isolated.p50 - results[tier].host.p50;
      return target(`${tier}: isolated p50 - host p50`, `≤ ${BUDGET_MS[tier]} ms`, cost, cost <= BUDGET_MS[tier], `${formatMs(cost)} ms`);
    });
    return { benchmark: 'network', host: { kernel: os.release(), cpus: os.cpus().length }, iterations, results, targets };
  } finally {
    const problems = await stopDaemons(daemons.map((x) => x.d));
    fs.rmSync(tmp, { recursive: true, force: true });
    if (problems.length > 0) console.error(problems.join('\n'));
  }
}

export function formatNetworkReport(r: NetworkReport): string {
  const rows = (Object.keys(r.results) as Tier[]).flatMap((tier) =>
    (Object.keys(MODES) as Mode[]).map((mode) => {
      const s = r.results[tier][mode];
      return [tier, mode, String(s.n), formatMs(s.p50), formatMs(s.p99), formatMs(s.mean), String(s.wrongTier)];
    }),
  );
  return [
    `network isolation cost per call, end to end (ms), ${r.iterations} calls per daemon, kernel ${r.host.kernel}, ${r.host.cpus} CPUs`,
    renderTable(['tier', 'network', 'n', 'p50', 'p99', 'mean', 'other tier'], rows),
    '',
    ...r.targets.map((t) => `${mark(t.ok)} ${t.name}: ${t.measured} (target ${t.target})`),
  ].join('\n');
}

export async function runNetworkBench(opts: NetworkBenchOptions): Promise<NetworkReport> {
  if (process.getuid?.() !== 0) throw new Error('sockpit bench network must run as root (it starts daemons, like sockpitd)');
  const report = await measureNetworkBench(opts);
  console.log(opts.json ? JSON.stringify(report, null, 2) : formatNetworkReport(report));
  return report;
}
