import { describe, expect, it } from 'vitest';
import { chartOfTable, describeReport, findTables, flattenRow } from './benchReport';
import report from './sandbox-report.fixture.json';

describe('describeReport', () => {
  it('gives nothing for no report', () => {
    expect(describeReport(null).kind).toBe('empty');
    expect(describeReport('text').charts).toEqual([]);
  });

  it('charts the sandbox suite side by side: pool vs mkdir, sockpit vs bwrap vs crun, cold vs warm', () => {
    const v = describeReport(report);
    expect(v.kind).toBe('sandbox');
    expect(v.charts).toHaveLength(3);
    const [cd, py, inv] = v.charts;
    expect(cd.data.map((d) => d.label)).toEqual(['pool (CgroupPool pooled)', 'mkdir/rmdir (no pool)']);
    expect(cd.data[0].create).toBe(report.createDestroy.modes[0].create.p50);
    expect(py.data.map((d) => d.label)).toEqual(report.python.rows.filter((r) => r.available && r.summary).map((r) => r.label));
    expect(inv.data.find((d) => d.label.startsWith('warm'))!.p50).toBe(report.invoke.rows[1].summary.p50);
    expect(v.targets.map((t) => t.ok)).toEqual(report.targets.map((t) => t.ok));
  });

  it('leaves out an unavailable peer and survives missing parts', () => {
    const broken = { benchmark: 'sandbox', createDestroy: {}, python: { rows: [{ label: 'crun', available: false }, { label: 'bwrap', summary: { p50: 3, p99: 4 } }] } };
    const v = describeReport(broken);
    expect(v.charts).toHaveLength(1);
    expect(v.charts[0].data).toEqual([{ label: 'bwrap', p50: 3, p99: 4 }]);
  });

  it('charts the provisioning suite per library: cold, zygote and warm p50', () => {
    const tier = (p50: number) => ({ summary: { n: 3, p50, p99: p50 * 2, mean: p50, min: p50, max: p50 }, serverTotalP50: p50, phasesP50: { exec: 0.1 }, wrongTier: 0 });
    const v = describeReport({
      benchmark: 'provisioning',
      functions: [
        { key: 'numpy', label: 'numpy', packages: ['numpy==1.24'], cold: tier(120), zygote: tier(8), warm: tier(1), speedup: { coldOverZygote: 15, coldOverWarm: 120 }, importCostMs: 100 },
      ],
      memory: [{ key: 'numpy', zygote: { instancePssMb: 3 }, cold: { instancePssMb: 20 } }],
      zygotes: [{ id: 'z1', parent: null, packages: [], memoryMb: 6, hits: 2 }],
      targets: [],
      notes: [],
    });
    expect(v.kind).toBe('provisioning');
    expect(v.charts[0].series).toEqual(['cold', 'zygote', 'warm']);
    expect(v.charts[0].data[0]).toMatchObject({ label: 'numpy', cold: 120, zygote: 8, warm: 1 });
    expect(v.charts.find((c) => c.unit === 'MB')!.data[0]).toMatchObject({ zygote: 3, cold: 20 });
    expect(v.tables[0].rows[0]['zygote p50 ms']).toBe(8);
  });

  it('makes tables and charts of an unknown shape', () => {
    const v = describeReport({ benchmark: 'future', results: [{ library: 'flask', cold: { p50: 150 }, zygote: { p50: 10 } }, { library: 'requests', cold: { p50: 100 }, zygote: { p50: 7 } }] });
    expect(v.kind).toBe('generic');
    expect(v.tables.map((t) => t.title)).toEqual(['results']);
    expect(v.charts[0]).toMatchObject({ series: ['cold', 'zygote'], unit: 'ms' });
    expect(v.charts[0].data[1]).toEqual({ label: 'requests', cold: 100, zygote: 7 });
  });
});

describe('table helpers', () => {
  it('flattens nested objects with dots and joins scalar arrays', () => {
    expect(flattenRow({ a: 1, b: { c: 2, d: { e: 3 } }, f: ['x', 'y'], g: [{ h: 1 }] })).toEqual({ a: 1, 'b.c': 2, 'b.d.e': 3, f: 'x y' });
  });

  it('finds arrays of objects anywhere, named by path', () => {
    expect(findTables({ a: { rows: [{ x: 1 }] }, b: [{ y: 2 }], c: [1, 2] }).map((t) => t.title)).toEqual(['a.rows', 'b']);
  });

  it('charts no table without a name column', () => {
    expect(chartOfTable({ title: 't', columns: ['x'], rows: [{ x: 1 }] })).toBeNull();
  });
});
