// What the Benchmarks view draws from a suite's JSON report, derived defensively: the sandbox suite's known
// shape gives its side-by-side charts; any other shape (the provisioning suite, a future one) gives tables of
// its arrays of objects, charted when a table has a name column and numbers (p50s preferred).

import { rowLabel } from './csv';

export interface ChartSpec {
  title: string;
  /** what the bars mean, for a newcomer */
  note?: string;
  unit: string;
  series: string[];
  data: Array<{ label: string } & Record<string, number | string>>;
}

export interface TableSpec {
  title: string;
  columns: string[];
  rows: Array<Record<string, string | number | boolean | null>>;
}

export interface TargetRow {
  name: string;
  target: string;
  measured: string;
  ok: boolean;
}

export interface ReportView {
  kind: 'sandbox' | 'provisioning' | 'generic' | 'empty';
  charts: ChartSpec[];
  tables: TableSpec[];
  targets: TargetRow[];
  notes: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);
const get = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((acc, k) => (isObj(acc) ? acc[k] : undefined), o);

export function describeReport(report: unknown): ReportView {
  if (!isObj(report)) return { kind: 'empty', charts: [], tables: [], targets: [], notes: [] };
  const notes = Array.isArray(report.notes) ? report.notes.filter((n): n is string => typeof n === 'string') : [];
  const targets = readTargets(report.targets);
  if (report.benchmark === 'sandbox' || (isObj(report.createDestroy) && isObj(report.python))) {
    return { kind: 'sandbox', charts: sandboxCharts(report), tables: [], targets, notes };
  }
  if (report.benchmark === 'provisioning' && Array.isArray(report.functions)) {
    const charts = provisioningCharts(report);
    if (charts.length) return { kind: 'provisioning', charts, tables: provisioningTables(report), targets, notes };
  }
  const tables = findTables(report).filter((t) => t.title !== 'targets');
  return { kind: 'generic', charts: tables.map(chartOfTable).filter((c): c is ChartSpec => c !== null), tables, targets, notes };
}

function readTargets(value: unknown): TargetRow[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isObj).map((t) => ({
    name: str(t.name, '?'),
    target: str(t.target),
    measured: str(t.measured, num(t.value)?.toString() ?? ''),
    ok: t.ok === true,
  }));
}

function sandboxCharts(r: Obj): ChartSpec[] {
  const charts: ChartSpec[] = [];
  const modes = get(r, 'createDestroy', 'modes');
  if (Array.isArray(modes)) {
    const data = modes.filter(isObj).map((m) => ({
      label: labelOf(m),
      create: num(get(m, 'create', 'p50')) ?? 0,
      destroy: num(get(m, 'destroy', 'p50')) ?? 0,
    }));
    if (data.length) {
      charts.push({
        title: 'Sandbox create + destroy: cgroup pool vs mkdir/rmdir',
        note: 'p50 per sandbox. The pool hands out pre-created cgroups instead of making and removing one each time.',
        unit: 'ms',
        series: ['create', 'destroy'],
        data,
      });
    }
  }
  const python = summaryRows(get(r, 'python', 'rows'), (row) => row.available !== false);
  if (python.length) {
    charts.push({
      title: 'Cold python3 start: sockpit lean container vs bubblewrap vs crun',
      note: 'From nothing to a finished `python3 -c pass` inside each kind of sandbox.',
      unit: 'ms',
      series: ['p50', 'p99'],
      data: python,
    });
  }
  const invoke = summaryRows(get(r, 'invoke', 'rows'));
  if (invoke.length) {
    charts.push({
      title: 'Invocation: cold vs warm',
      note: 'A whole call through the daemon. Cold starts a fresh sandbox and interpreter; warm thaws an idle instance.',
      unit: 'ms',
      series: ['p50', 'p99'],
      data: invoke,
    });
  }
  return charts;
}

/** What a report row is called in charts and tables: its label, else its key. */
function labelOf(row: Obj): string {
  return str(row.label, str(row.key, '?'));
}

/** Rows of a report table that carry a summary, as {label, p50, p99} points. */
function summaryRows(rows: unknown, keep: (row: Obj) => boolean = () => true) {
  if (!Array.isArray(rows)) return [];
  return rows
    .filter(isObj)
    .filter((row) => keep(row) && isObj(row.summary))
    .map((row) => ({ label: labelOf(row), p50: num(get(row, 'summary', 'p50')) ?? 0, p99: num(get(row, 'summary', 'p99')) ?? 0 }));
}

const TIER_KEYS = ['cold', 'zygote', 'warm'] as const;

function provisioningCharts(r: Obj): ChartSpec[] {
  const charts: ChartSpec[] = [];
  const rows = (r.functions as unknown[]).filter(isObj);
  const starts = rows
    .map((row) => {
      const point: { label: string } & Record<string, number | string> = { label: labelOf(row) };
      let any = false;
      for (const t of TIER_KEYS) {
        const v = num(get(row, t, 'summary', 'p50'));
        if (v !== undefined) any = true;
        point[t] = v ?? 0;
      }
      return any ? point : null;
    })
    .filter((p): p is NonNullable<typeof p> => p !== null);
  if (starts.length) {
    charts.push({
      title: 'Invocation per library: cold vs Zygote vs warm',
      note: 'p50 of a whole call. Cold imports the library in a fresh interpreter; zygote forks a Python that already imported it; warm reuses an instance.',
      unit: 'ms',
      series: [...TIER_KEYS],
      data: starts,
    });
  }
  const speedups = rows
    .map((row) => ({ label: labelOf(row), 'cold / zygote': num(get(row, 'speedup', 'coldOverZygote')) ?? 0, 'cold / warm': num(get(row, 'speedup', 'coldOverWarm')) ?? 0 }))
    .filter((p) => p['cold / zygote'] > 0 || p['cold / warm'] > 0);
  if (speedups.length) {
    charts.push({ title: 'Speed-up over a cold start', note: 'How many times faster than cold (p50).', unit: 'x', series: ['cold / zygote', 'cold / warm'], data: speedups });
  }
  if (Array.isArray(r.memory)) {
    const mem = r.memory
      .filter(isObj)
      .map((m) => ({ label: str(m.key, '?'), zygote: num(get(m, 'zygote', 'instancePssMb')), cold: num(get(m, 'cold', 'instancePssMb')) }))
      .filter((m) => m.zygote !== undefined || m.cold !== undefined)
      .map((m) => ({ label: m.label, zygote: m.zygote ?? 0, cold: m.cold ?? 0 }));
    if (mem.length) {
      charts.push({
        title: 'Memory of one instance (PSS)',
        note: 'A forked instance shares its Zygote’s pages, so it costs less than a cold one that loaded everything itself.',
        unit: 'MB',
        series: ['zygote', 'cold'],
        data: mem,
      });
    }
  }
  return charts;
}

function provisioningTables(r: Obj): TableSpec[] {
  const rows = (r.functions as unknown[]).filter(isObj).map((row) => ({
    function: labelOf(row),
    packages: Array.isArray(row.packages) ? row.packages.join(' ') : '',
    'cold p50 ms': num(get(row, 'cold', 'summary', 'p50')) ?? null,
    'zygote p50 ms': num(get(row, 'zygote', 'summary', 'p50')) ?? null,
    'warm p50 ms': num(get(row, 'warm', 'summary', 'p50')) ?? null,
    'cold/zygote': num(get(row, 'speedup', 'coldOverZygote')) ?? null,
    'import cost ms': num(row.importCostMs) ?? null,
  }));
  const tables: TableSpec[] = [{ title: 'functions', columns: Object.keys(rows[0] ?? {}), rows }];
  const zy = findTables(r.zygotes, 'zygotes');
  return [...tables, ...zy];
}

/** Flattens an object's scalars one or two levels deep: {create: {p50: 1}} → {"create.p50": 1}. */
export function flattenRow(row: Obj, depth = 2, prefix = ''): Record<string, string | number | boolean | null> {
  const out: Record<string, string | number | boolean | null> = {};
  for (const [k, v] of Object.entries(row)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v === null || typeof v === 'string' || typeof v === 'boolean') out[key] = v;
    else if (typeof v === 'number') out[key] = Number.isFinite(v) ? v : null;
    else if (Array.isArray(v)) {
      if (v.every((x) => x === null || typeof x !== 'object')) out[key] = v.join(' ');
    } else if (isObj(v) && depth > 0) Object.assign(out, flattenRow(v, depth - 1, key));
  }
  return out;
}

/** Every array of objects in the report (depth-first), as a table named by its path. */
export function findTables(report: unknown, path = '', out: TableSpec[] = []): TableSpec[] {
  if (Array.isArray(report)) {
    const objs = report.filter(isObj);
    if (objs.length && objs.length === report.length) {
      const rows = objs.map((o) => flattenRow(o));
      const columns: string[] = [];
      for (const r of rows) for (const c of Object.keys(r)) if (!columns.includes(c)) columns.push(c);
      out.push({ title: path || 'rows', columns, rows });
      objs.forEach((o, i) => {
        for (const [k, v] of Object.entries(o)) if (Array.isArray(v) || isObj(v)) findNested(v, `${path}[${rowLabel(o, i)}].${k}`, out);
      });
    }
    return out;
  }
  if (isObj(report)) for (const [k, v] of Object.entries(report)) findTables(v, path ? `${path}.${k}` : k, out);
  return out;
}

function findNested(v: unknown, path: string, out: TableSpec[]): void {
  // tables nested in a table's rows (deeper than the flattening reaches)
  if (Array.isArray(v) && v.some(isObj)) findTables(v, path, out);
  else if (isObj(v)) for (const [k, x] of Object.entries(v)) if (Array.isArray(x) && x.some(isObj)) findTables(x, `${path}.${k}`, out);
}

const LABEL_COLUMNS = ['label', 'name', 'library', 'package', 'key', 'function', 'suite', 'mode', 'tier'];
const NOT_MEASURES = /(^|\.)(n|count|iterations|samples|version|wrongTier|available|ok)$/i;

/** A bar chart of a table: its name column against its p50 columns (or its other numbers). */
export function chartOfTable(t: TableSpec): ChartSpec | null {
  if (t.rows.length === 0 || t.rows.length > 40) return null;
  const label = LABEL_COLUMNS.find((c) => t.columns.includes(c) && t.rows.every((r) => typeof r[c] === 'string'));
  if (!label) return null;
  const numeric = t.columns.filter((c) => c !== label && !NOT_MEASURES.test(c) && t.rows.some((r) => typeof r[c] === 'number'));
  const p50s = numeric.filter((c) => /(^|\.)p50$/.test(c));
  const series = (p50s.length ? p50s : numeric).slice(0, 6);
  if (series.length === 0) return null;
  const name = (c: string) => (p50s.length ? c.replace(/\.?p50$/, '').replace(/\.summary$/, '') || 'p50' : c);
  const data = t.rows.map((r) => {
    const point: { label: string } & Record<string, number | string> = { label: String(r[label]) };
    for (const c of series) point[name(c)] = typeof r[c] === 'number' ? (r[c] as number) : 0;
    return point;
  });
  const unit = series.some((c) => /ms|p50|p99|mean|seconds?$/i.test(c)) ? 'ms' : '';
  return { title: t.title, note: p50s.length ? 'p50 per row' : undefined, unit, series: series.map(name), data };
}
