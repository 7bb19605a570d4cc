// A run's Server-Timing phases as one horizontal bar, with a legend that says what each phase is.

import { formatMs } from '../lib/format';
import { phaseSegments } from '../lib/phases';
import { PHASES, phaseColor } from '../lib/tiers';

const describe = (name: string) => (name === 'other' ? 'round trips and bookkeeping no phase covers' : (PHASES[name] ?? name));
const colorOf = (name: string, i: number) => (name === 'other' ? '#ced4da' : phaseColor(name, i));

export function PhaseBar({ timings }: { timings: Record<string, number> }) {
  const { segments, total } = phaseSegments(timings);
  if (segments.length === 0) return <p className="muted">No phase timings in this answer.</p>;
  const label = `Phase timings: ${segments.map((s) => `${s.name} ${formatMs(s.ms)}`).join(', ')}; total ${formatMs(total)}`;
  return (
    <div className="phasebar">
      <div className="phasebar-track" role="img" aria-label={label}>
        {segments.map((s, i) => (
          <div
            key={s.name}
            className="phasebar-seg"
            style={{ width: `${Math.max(s.share * 100, 0.6)}%`, background: colorOf(s.name, i) }}
            title={`${s.name}: ${formatMs(s.ms)} — ${describe(s.name)}`}
          >
            {s.share > 0.12 ? `${s.name} ${formatMs(s.ms)}` : ''}
          </div>
        ))}
      </div>
      <ul className="phasebar-legend" aria-label="Phases">
        {segments.map((s, i) => (
          <li key={s.name}>
            <span className="swatch" style={{ background: colorOf(s.name, i) }} aria-hidden="true" />
            <strong>{s.name}</strong> {formatMs(s.ms)} <span className="muted">— {describe(s.name)}</span>
          </li>
        ))}
        <li>
          <strong>total</strong> {formatMs(total)}
        </li>
      </ul>
    </div>
  );
}
