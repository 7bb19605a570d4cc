// Timings: every call's latency as it happens, coloured by the tier that served it; the daemon's percentiles
// and hit rates per tier; and where the time goes in each tier, phase by phase.

import { useMemo, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Cell, Legend, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis } from 'recharts';
import type { StatsBody, Tier } from '../bridge/types';
import { formatMs, formatPercent } from '../lib/format';
import { PHASES, phaseColor, TIER_COLORS, TIERS, TIER_EXPLANATIONS } from '../lib/tiers';
import { stores, useTimings } from '../stores';
import type { Point } from '../stores/timings';

export function TimingsView() {
  const points = useTimings((s) => s.points);
  const max = useTimings((s) => s.max);
  const stats = useTimings((s) => s.stats);
  const statsError = useTimings((s) => s.statsError);
  const [log, setLog] = useState(true);

  return (
    <section className="view" aria-labelledby="timings-title">
      <h2 id="timings-title">Timings</h2>
      <p className="intro">
        Every call is served by the fastest tier that has what it needs. <strong>Warm</strong> reuses an idle instance (no start-up at all),{' '}
        <strong>zygote</strong> forks one from a Zygote (no interpreter start, no imports), <strong>cold</strong> starts a fresh interpreter in a fresh lean
        container. The charts update live as calls happen.
      </p>
      {statsError && (
        <p role="alert" className="error-text">
          {statsError}
        </p>
      )}
      <TierCards stats={stats} />
      <div className="chart-grid">
        <figure className="chart-card wide">
          <figcaption>
            <strong>Latency of each call</strong> <span className="muted">(last {max} calls, total ms in sockpitd)</span>
            <label className="inline-check">
              <input type="checkbox" checked={log} onChange={(e) => setLog(e.target.checked)} /> Log scale
            </label>
            <button type="button" className="small" onClick={() => stores().timings.getState().clear()} disabled={points.length === 0}>
              Clear
            </button>
          </figcaption>
          {points.length === 0 ? <p className="muted empty-chart">No calls yet: invoke a function in Functions and watch them arrive here.</p> : <LatencyScatter points={points} log={log} />}
        </figure>
        <figure className="chart-card">
          <figcaption>
            <strong>Percentiles per tier</strong> <span className="muted">(p50 / p90 / p99, ms, from sockpitd)</span>
          </figcaption>
          <PercentileChart stats={stats} />
        </figure>
        <figure className="chart-card">
          <figcaption>
            <strong>Which tier served the calls</strong> <span className="muted">(share of all calls)</span>
          </figcaption>
          <HitRateChart stats={stats} />
        </figure>
        <figure className="chart-card wide">
          <figcaption>
            <strong>Where the time goes</strong> <span className="muted">(mean ms per phase, per tier)</span>
          </figcaption>
          <PhaseChart stats={stats} />
        </figure>
      </div>
    </section>
  );
}

function TierCards({ stats }: { stats: StatsBody | null }) {
  return (
    <div className="tier-cards">
      {TIERS.map((t) => {
        const s = stats?.invocations.byTier[t];
        return (
          <div key={t} className={`tier-card tier-card-${t}`} title={TIER_EXPLANATIONS[t]}>
            <div className="tier-card-name">{t}</div>
            <div className="tier-card-big">{formatMs(s?.p50)}</div>
            <div className="muted small-text">
              p50 · {s?.count ?? 0} call{s?.count === 1 ? '' : 's'} · {formatPercent(stats?.invocations.hitRates[t])} of all
              {s && s.errors > 0 ? ` · ${s.errors} failed` : ''}
            </div>
          </div>
        );
      })}
    </div>
  );
}

function LatencyScatter({ points, log }: { points: Point[]; log: boolean }) {
  const byTier = useMemo(() => {
    const out: Record<Tier, Array<Point & { y: number }>> = { warm: [], zygote: [], cold: [] };
    for (const p of points) out[p.tier]?.push({ ...p, y: Math.max(p.ms, 0.01) });
    return out;
  }, [points]);
  const time = (t: number) => new Date(t).toLocaleTimeString();
  return (
    <ResponsiveContainer width="100%" height={300}>
      <ScatterChart margin={{ top: 8, right: 24, bottom: 8, left: 8 }}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis type="number" dataKey="t" domain={['dataMin', 'dataMax']} tickFormatter={time} name="time" fontSize={11} />
        <YAxis
          type="number"
          dataKey="y"
          name="latency"
          scale={log ? 'log' : 'linear'}
          domain={log ? ['auto', 'auto'] : [0, 'auto']}
          allowDataOverflow={false}
          tickFormatter={(v: number) => `${v < 1 ? v.toFixed(2) : Math.round(v)} ms`}
          fontSize={11}
          width={64}
        />
        <Tooltip
          cursor={{ strokeDasharray: '3 3' }}
          content={({ active, payload }) => {
            const p = active && payload?.[0]?.payload ? (payload[0].payload as Point) : null;
            if (!p) return null;
            return (
              <div className="chart-tip">
                <strong>{p.function}</strong> · {p.tier}
                <br />
                {formatMs(p.ms)} at {time(p.t)}
                {p.zygote && <><br />Zygote {p.zygote}</>}
                {p.status !== 200 && <><br />HTTP {p.status} {p.error}</>}
              </div>
            );
          }}
        />
        <Legend wrapperStyle={{ fontSize: 12 }} />
        {TIERS.map((t) => (
          <Scatter key={t} name={t} data={byTier[t]} fill={TIER_COLORS[t]} isAnimationActive={false} />
        ))}
      </ScatterChart>
    </ResponsiveContainer>
  );
}

function PercentileChart({ stats }: { stats: StatsBody | null }) {
  const data = TIERS.map((t) => {
    const s = stats?.invocations.byTier[t];
    return { tier: t, p50: s?.p50 ?? 0, p90: s?.p90 ?? 0, p99: s?.p99 ?? 0 };
  });
  if (!stats || stats.invocations.total === 0) return <p className="muted empty-chart">No calls yet.</p>;
  return (
    <ResponsiveContainer width="100%" height={240}>
      <BarChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="tier" fontSize={12} />
        <YAxis tickFormatter={(v: number) => `${v} ms`} fontSize={11} width={64} />
        <Tooltip formatter={(v) => formatMs(Number(v))} />
        <Legend wrapperStyle={{ fontSize: 12 }} />
        <Bar dataKey="p50" fill="#74c0fc" isAnimationActive={false} />
        <Bar dataKey="p90" fill="#339af0" isAnimationActive={false} />
        <Bar dataKey="p99" fill="#1864ab" isAnimationActive={false} />
      </BarChart>
    </ResponsiveContainer>
  );
}

function HitRateChart({ stats }: { stats: StatsBody | null }) {
  if (!stats || stats.invocations.total === 0) return <p className="muted empty-chart">No calls yet.</p>;
  const data = TIERS.map((t) => ({ tier: t, share: Math.round((stats.invocations.hitRates[t] ?? 0) * 1000) / 10, count: stats.invocations.byTier[t]?.count ?? 0 }));
  return (
    <ResponsiveContainer width="100%" height={240}>
      <BarChart data={data} margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} />
        <XAxis dataKey="tier" fontSize={12} />
        <YAxis domain={[0, 100]} tickFormatter={(v: number) => `${v}%`} fontSize={11} width={48} />
        <Tooltip formatter={(v, _n, item) => `${v}% (${(item?.payload as { count?: number })?.count ?? 0} calls)`} />
        <Bar dataKey="share" name="share of calls" isAnimationActive={false}>
          {data.map((d) => (
            <Cell key={d.tier} fill={TIER_COLORS[d.tier]} />
          ))}
        </Bar>
      </BarChart>
    </ResponsiveContainer>
  );
}

function PhaseChart({ stats }: { stats: StatsBody | null }) {
  const { data, phases } = useMemo(() => {
    const order = Object.keys(PHASES);
    const names = new Set<string>();
    for (const t of TIERS) for (const p of Object.keys(stats?.invocations.byTier[t]?.phases ?? {})) names.add(p);
    const phases = [...names].sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99));
    const data = TIERS.filter((t) => (stats?.invocations.byTier[t]?.count ?? 0) > 0).map((t) => ({ tier: t, ...(stats?.invocations.byTier[t]?.phases ?? {}) }));
    return { data, phases };
  }, [stats]);
  if (data.length === 0) return <p className="muted empty-chart">No calls yet.</p>;
  return (
    <ResponsiveContainer width="100%" height={60 + data.length * 48}>
      <BarChart data={data} layout="vertical" margin={{ top: 8, right: 24, bottom: 8, left: 8 }}>
        <CartesianGrid strokeDasharray="3 3" horizontal={false} />
        <XAxis type="number" tickFormatter={(v: number) => `${v} ms`} fontSize={11} />
        <YAxis type="category" dataKey="tier" width={64} fontSize={12} />
        <Tooltip formatter={(v, name) => [formatMs(Number(v)), `${name}: ${PHASES[String(name)] ?? ''}`]} />
        <Legend wrapperStyle={{ fontSize: 12 }} />
        {phases.map((p, i) => (
          <Bar key={p} dataKey={p} stackId="phases" fill={phaseColor(p, i)} isAnimationActive={false} />
        ))}
      </BarChart>
    </ResponsiveContainer>
  );
}
