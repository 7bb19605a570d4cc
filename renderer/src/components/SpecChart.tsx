// A horizontal grouped bar chart of a ChartSpec (benchmark results side by side).

import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ChartSpec } from '../lib/benchReport';
import { formatMs } from '../lib/format';
import { TIER_COLORS } from '../lib/tiers';

const COLORS = ['#1c7ed6', '#e8590c', '#5f3dc4', '#2f9e44', '#d6336c', '#868e96'];

export function SpecChart({ spec }: { spec: ChartSpec }) {
  const height = Math.max(140, 56 + spec.data.length * (22 + 14 * spec.series.length));
  const fmt = (v: unknown) =>
    typeof v !== 'number' ? String(v) : spec.unit === 'ms' ? formatMs(v) : spec.unit === 'x' ? `${v.toFixed(v < 10 ? 2 : 1)}x` : `${v.toPrecision(3)}${spec.unit ? ` ${spec.unit}` : ''}`;
  const tick = (v: number) => (spec.unit === 'x' ? `${v}x` : spec.unit ? `${v} ${spec.unit}` : String(v));
  return (
    <figure className="chart-card">
      <figcaption>
        <strong>{spec.title}</strong>
        {spec.note && <span className="muted"> {spec.note}</span>}
      </figcaption>
      <ResponsiveContainer width="100%" height={height}>
        <BarChart data={spec.data} layout="vertical" margin={{ top: 4, right: 24, bottom: 4, left: 8 }}>
          <CartesianGrid strokeDasharray="3 3" horizontal={false} />
          <XAxis type="number" tickFormatter={tick} fontSize={11} />
          <YAxis type="category" dataKey="label" width={190} fontSize={11} interval={0} />
          <Tooltip formatter={(v) => fmt(v)} />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          {spec.series.map((s, i) => (
            <Bar key={s} dataKey={s} fill={TIER_COLORS[s] ?? COLORS[i % COLORS.length]} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </figure>
  );
}
