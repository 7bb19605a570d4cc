// Benchmark arithmetic and text layout, free of I/O: percentiles, summaries, ratios, an aligned table.

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

/**
 * The p-th percentile (0..100) of ascending `sorted`, linearly interpolated between the closest ranks
 * (rank = p/100 * (n-1), the same definition as numpy's default and Excel's PERCENTILE.INC).
 * NaN for an empty list.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be in [0, 100], got ${p}`);
  const n = sorted.length;
  if (n === 0) return NaN;
  if (n === 1) return sorted[0];
  const rank = (p / 100) * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  if (lo === hi) return sorted[lo];
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

/** n, p50, p99, mean, min, max of samples in any order (the input is not modified). Throws on no samples. */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0) throw new RangeError('summarize: no samples');
  for (const s of samples) if (!Number.isFinite(s)) throw new RangeError(`summarize: not a finite sample: ${s}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const sum = sorted.reduce((acc, x) => acc + x, 0);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: sum / sorted.length,
    min: sorted[0],
    max: sorted[sorted.length - 1],
  };
}

/** a / b, or NaN when either is not a finite number or b is 0 */
export function ratio(a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b) || b === 0) return NaN;
  return a / b;
}

/** "2.41x" (two significant decimals below 10, one below 100, none above); "-" when not a finite number */
export function formatRatio(r: number): string {
  if (!Number.isFinite(r)) return '-';
  const digits = r < 10 ? 2 : r < 100 ? 1 : 0;
  return `${r.toFixed(digits)}x`;
}

/** milliseconds with a precision that suits the magnitude: "0.123", "12.3", "1234"; "-" when not finite */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  const a = Math.abs(ms);
  const digits = a < 1 ? 3 : a < 10 ? 2 : a < 100 ? 1 : 0;
  return ms.toFixed(digits);
}

export type Align = 'left' | 'right';

/**
 * Renders rows under a header with aligned columns (two spaces apart) and a dashed rule under the header.
 * Columns are left-aligned unless `align` says otherwise; width is measured in code points, so ✓/✗ and
 * "≤" count as one. Missing cells are empty; lines carry no trailing spaces.
 */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const columns = Math.max(header.length, ...rows.map((r) => r.length));
  const width = (s: string) => [...s].length;
  const widths: number[] = [];
  for (let c = 0; c < columns; c++) {
    widths.push(Math.max(width(header[c] ?? ''), ...rows.map((r) => width(r[c] ?? ''))));
  }
  const line = (cells: readonly string[]) => {
    const parts: string[] = [];
    for (let c = 0; c < columns; c++) {
      const cell = cells[c] ?? '';
      const pad = ' '.repeat(widths[c] - width(cell));
      parts.push(align[c] === 'right' ? pad + cell : cell + pad);
    }
    return parts.join('  ').replace(/\s+$/, '');
  };
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}
