// `sockpit stats` and `sockpit events`: the telemetry of a running sockpitd on the command line.

import type { Command } from 'commander';
import { ApiError } from '../client';
import { followEvents, stats } from '../client/telemetry';
import { EVENT_TYPES, TIERS, type Published, type StatsBody } from '../../../api';

export function addTelemetryCommands(program: Command, clientSocket: (cmd: Command) => string): void {
  program
    .command('stats')
    .description('invocation counts, latency percentiles and hit rates per tier; pool, cache and Zygotes')
    .option('--json', 'print the whole /v1/stats body as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const socket = clientSocket(cmd);
      await reporting(socket, async () => {
        const s = await stats(socket);
        console.log(opts.json ? JSON.stringify(s, null, 2) : formatStats(s));
      });
    });

  program
    .command('events')
    .description(`follow the daemon's events as they happen (Ctrl-C stops); types: ${EVENT_TYPES.join(', ')}`)
    .option('--types <list>', 'only these event types, comma-separated')
    .option('--since <seq>', 'first replay the kept events after this sequence number')
    .option('--json', 'one JSON object per line')
    .action(async (opts: { types?: string; since?: string; json?: boolean }, cmd: Command) => {
      const socket = clientSocket(cmd);
      const types = opts.types
        ?.split(',')
        .map((t) => t.trim())
        .filter(Boolean);
      const unknown = types?.filter((t) => !(EVENT_TYPES as readonly string[]).includes(t)) ?? [];
      if (unknown.length) {
        console.error(`sockpit: unknown event type ${unknown.join(', ')} (known: ${EVENT_TYPES.join(', ')})`);
        process.exitCode = 2;
        return;
      }
      const since = opts.since === undefined ? undefined : Number(opts.since);
      if (since !== undefined && !(Number.isInteger(since) && since >= 0)) {
        console.error('sockpit: --since must be a non-negative integer');
        process.exitCode = 2;
        return;
      }
      const stop = new AbortController();
      const onSigint = () => stop.abort();
      process.once('SIGINT', onSigint);
      process.once('SIGTERM', onSigint);
      try {
        await reporting(socket, async () => {
          await followEvents(socket, (e) => console.log(opts.json ? JSON.stringify(e) : formatEvent(e)), { types, since, signal: stop.signal });
          if (!stop.signal.aborted) console.error('sockpit: the daemon ended the event stream');
        });
      } finally {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigint);
      }
    });
}

/** Prints API and connection errors plainly and sets the exit code. */
async function reporting(socket: string, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    process.exitCode = 1;
    const code = (err as NodeJS.ErrnoException).code;
    if (err instanceof ApiError) console.error(`sockpit: ${err.message} (${err.status} ${err.code})`);
    else if (code === 'ENOENT' || code === 'ECONNREFUSED') {
      console.error(`sockpit: can't reach sockpitd at ${socket}: is it running? (start it with \`sockpit daemon\`)`);
    } else if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET') console.error(`sockpit: lost the connection to sockpitd (${(err as Error).message})`);
    else console.error(`sockpit: ${(err as Error).message}`);
  }
}

function ms(v: number | null | undefined): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '-';
  return v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0);
}

function pct(v: number): string {
  return `${(v * 100).toFixed(1)}%`;
}

function bytes(v: unknown): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '-';
  if (v < 2 ** 10) return `${v} B`;
  if (v < 2 ** 20) return `${(v / 2 ** 10).toFixed(1)} KiB`;
  if (v < 2 ** 30) return `${(v / 2 ** 20).toFixed(1)} MiB`;
  return `${(v / 2 ** 30).toFixed(2)} GiB`;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  ').trimEnd()).join('\n');
}

/** `key value, key value` of an object's scalar fields; bytes for keys that say so */
function fields(o: unknown): string {
  if (o === null || typeof o !== 'object') return o === undefined ? '-' : String(o);
  const parts: string[] = [];
  for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
    if (v !== null && typeof v === 'object') continue;
    parts.push(`${k} ${/bytes$/i.test(k) ? bytes(v) : v}`);
  }
  return parts.join(', ') || '-';
}

/** The human-readable `sockpit stats`. */
export function formatStats(s: StatsBody): string {
  const inv = s.invocations;
  const rows = [['tier', 'calls', 'errors', 'hit rate', 'p50 ms', 'p90 ms', 'p99 ms', 'mean ms']];
  for (const tier of TIERS) {
    const t = inv.byTier[tier];
    rows.push([tier, String(t.count), String(t.errors), pct(inv.hitRates[tier]), ms(t.p50), ms(t.p90), ms(t.p99), ms(t.mean)]);
  }
  rows.push(['all', String(inv.total), String(inv.errors), '', '', '', '', '']);
  const lines = [`up ${s.uptimeSeconds.toFixed(0)} s; ${inv.total} invocations`, '', table(rows), ''];
  for (const tier of TIERS) {
    const phases = Object.entries(inv.byTier[tier].phases);
    if (phases.length) lines.push(`${tier.padEnd(6)} phases (mean ms): ${phases.map(([p, v]) => `${p} ${ms(v)}`).join(', ')}`);
  }
  const z = s.zygotes;
  lines.push(
    `pool       ${fields(s.pool)}`,
    `instances  ${fields(s.instances)}`,
    `cache      ${fields(s.cache)}`,
    `zygotes    ${fields(z)}`,
    `installs   ok ${s.installs.ok}, failed ${s.installs.failed}, mean ${ms(s.installs.meanMs)} ms`,
  );
  const fns = Object.entries(s.functions);
  if (fns.length) {
    lines.push('');
    const frows = [['function', 'calls', 'errors', 'warm', 'zygote', 'cold']];
    for (const [name, f] of fns) frows.push([name, String(f.count), String(f.errors), String(f.byTier.warm), String(f.byTier.zygote), String(f.byTier.cold)]);
    lines.push(table(frows));
  }
  return lines.join('\n');
}

function clock(at: string): string {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) return at;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** One line per event, e.g. `12:01:02.345 invocation hello cold 16.2 ms`. */
export function formatEvent(e: Published): string {
  const head = `${clock(e.at)} ${e.type}`;
  switch (e.type) {
    case 'invocation': {
      const total = typeof e.phases.total === 'number' ? `${ms(e.phases.total)} ms` : '';
      const status = e.status === 200 ? '' : ` ${e.status}${e.error ? ` ${e.error}` : ''}`;
      const zygote = e.zygote ? ` from ${e.zygote}` : '';
      return `${head} ${e.function} ${e.tier} ${total}${status}${zygote}`.trimEnd();
    }
    case 'zygote': {
      const child = e.child ? ` -> ${e.child.kind} ${e.child.id}${e.child.function ? ` (${e.child.function})` : ''}` : '';
      const parent = e.parent ? ` parent ${e.parent}` : '';
      const pkgs = e.packages.length ? ` [${e.packages.join(' ')}]` : '';
      return `${head} ${e.action} ${e.id}${parent}${pkgs}${child}${e.reason ? `: ${e.reason}` : ''}`;
    }
    case 'install':
      return `${head} ${e.package} ${e.ok ? 'ok' : 'failed'} ${ms(e.ms)} ms${e.error ? `: ${e.error}` : ''}`;
    case 'benchmark':
      return `${head} ${e.suite} ${e.id} ${e.state} ${(e.progress * 100).toFixed(0)}%${e.message ? ` ${e.message}` : ''}`;
    case 'function':
      return `${head} ${e.action} ${e.name}${e.version !== null ? ` v${e.version}` : ''}`;
    default:
      return `${head} ${JSON.stringify(e)}`;
  }
}
