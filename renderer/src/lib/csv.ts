// CSV export of a benchmark report (RFC 4180: CRLF line ends, fields quoted when they hold a comma, a quote or
// a line break). A report of any shape becomes long-format rows: section, row, metric, value.

export type Cell = string | number | boolean | null | undefined;

export function csvField(value: Cell): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : String(value);
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(rows: readonly (readonly Cell[])[]): string {
  return rows.map((r) => r.map(csvField).join(',')).join('\r\n') + (rows.length ? '\r\n' : '');
}

const LABEL_KEYS = ['label', 'name', 'key', 'library', 'package', 'function', 'id'];

/** A row's name: its label/name/key field, else its index. */
export function rowLabel(row: unknown, index: number): string {
  if (row && typeof row === 'object') {
    for (const k of LABEL_KEYS) {
      const v = (row as Record<string, unknown>)[k];
      if (typeof v === 'string' && v) return v;
    }
  }
  return String(index);
}

/**
 * Every scalar of the report as [section, row, metric, value]: objects nest with dots in the metric name,
 * arrays of objects become rows of a section (named by their path), arrays of scalars are joined with "; ".
 */
export function reportToRows(report: unknown): Cell[][] {
  const rows: Cell[][] = [['section', 'row', 'metric', 'value']];
  const walk = (value: unknown, section: string, row: string, metric: string): void => {
    if (value === null || typeof value !== 'object') {
      rows.push([section || 'report', row, metric, value as Cell]);
      return;
    }
    if (Array.isArray(value)) {
      if (value.every((v) => v === null || typeof v !== 'object')) {
        rows.push([section || 'report', row, metric, value.join('; ')]);
        return;
      }
      const sub = [section, metric].filter(Boolean).join('.');
      value.forEach((item, i) => walk(item, sub, rowLabel(item, i), ''));
      return;
    }
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (Array.isArray(v) && v.some((x) => x !== null && typeof x === 'object')) {
        // a table inside: its own section
        walk(v, [section, row && metric === '' ? row : '', metric, k].filter(Boolean).join('.'), '', '');
      } else walk(v, section, row, metric ? `${metric}.${k}` : k);
    }
  };
  walk(report, '', '', '');
  return rows;
}

export function reportToCsv(report: unknown): string {
  return toCsv(reportToRows(report));
}
