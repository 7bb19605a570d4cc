import { describe, expect, it } from 'vitest';
import { csvField, reportToCsv, reportToRows, toCsv } from './csv';
import report from './sandbox-report.fixture.json';

describe('csv', () => {
  it('quotes fields that need it and doubles quotes', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(' padded')).toBe('" padded"');
    expect(csvField(1.5)).toBe('1.5');
    expect(csvField(NaN)).toBe('');
    expect(csvField(null)).toBe('');
    expect(csvField(true)).toBe('true');
  });

  it('joins rows with CRLF', () => {
    expect(toCsv([['a', 'b'], [1, 'x,y']])).toBe('a,b\r\n1,"x,y"\r\n');
    expect(toCsv([])).toBe('');
  });

  it('turns a report of any shape into section,row,metric,value rows', () => {
    const rows = reportToRows({ suite: 'x', host: { cpus: 2 }, modes: [{ label: 'pool', create: { p50: 0.5 } }, { key: 'nopool', create: { p50: 1 } }], tags: ['a', 'b'] });
    expect(rows[0]).toEqual(['section', 'row', 'metric', 'value']);
    expect(rows).toContainEqual(['report', '', 'suite', 'x']);
    expect(rows).toContainEqual(['report', '', 'host.cpus', 2]);
    expect(rows).toContainEqual(['modes', 'pool', 'create.p50', 0.5]);
    expect(rows).toContainEqual(['modes', 'nopool', 'create.p50', 1]);
    expect(rows).toContainEqual(['report', '', 'tags', 'a; b']);
  });

  it('exports the sandbox report with every p50 of every mode', () => {
    const csv = reportToCsv(report);
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe('section,row,metric,value');
    expect(lines).toContain(`createDestroy.modes,pool (CgroupPool pooled),create.p50,${report.createDestroy.modes[0].create.p50}`);
    expect(lines).toContain(`invoke.rows,warm invoke (thawed idle instance),summary.p50,${report.invoke.rows[1].summary.p50}`);
    expect(lines.some((l) => l.startsWith('targets,sandbox create p50 (pool),ok,'))).toBe(true);
    // every line has exactly 4 fields outside quotes
    for (const l of lines) expect(l.replace(/"([^"]|"")*"/g, 'Q').split(',')).toHaveLength(4);
  });
});
