// Benchmarks: run a suite in sockpitd with one click, follow its progress, see the results side by side, keep
// a history of runs and export one as CSV or JSON.

import { useEffect, useMemo, useState } from 'react';
import { SpecChart } from '../components/SpecChart';
import type { BenchmarkJob, BenchmarkSuite } from '../bridge/types';
import { describeReport, type TableSpec } from '../lib/benchReport';
import { reportToCsv } from '../lib/csv';
import { formatDateTime } from '../lib/format';
import { stores, useBenchmarks } from '../stores';
import { currentJob, SUITES } from '../stores/benchmarks';

const SUITE_TEXT: Record<BenchmarkSuite, { title: string; text: string }> = {
  sandbox: {
    title: 'Sandbox',
    text: 'Lean containers: cgroup pool vs mkdir/rmdir, a cold python3 in a sockpit sandbox vs bubblewrap vs crun, and cold vs warm invocations.',
  },
  provisioning: {
    title: 'Provisioning',
    text: 'The three tiers per library: a cold start that imports it, a fork from a Zygote that already has it, and a warm instance.',
  },
};

export function BenchmarksView() {
  const jobs = useBenchmarks((s) => s.jobs);
  const error = useBenchmarks((s) => s.error);
  const selected = useBenchmarks((s) => s.selected);
  const job = jobs.find((j) => j.id === selected) ?? null;

  return (
    <section className="view" aria-labelledby="benchmarks-title">
      <h2 id="benchmarks-title">Benchmarks</h2>
      <p className="intro">
        Measured by sockpitd on this machine, side by side with the peers it competes with. Runs are kept: pick one in the history to see its charts and
        export it.
      </p>
      {error && (
        <p role="alert" className="error-text">
          {error}
        </p>
      )}
      <div className="suite-cards">
        {SUITES.map((s) => (
          <SuiteCard key={s} suite={s} jobs={jobs} />
        ))}
      </div>
      <div className="columns bench-columns">
        <History jobs={jobs} selected={selected} />
        <div className="column">{job ? <RunDetails job={job} /> : <p className="card muted">No run selected.</p>}</div>
      </div>
    </section>
  );
}

function SuiteCard({ suite, jobs }: { suite: BenchmarkSuite; jobs: BenchmarkJob[] }) {
  const iterations = useBenchmarks((s) => s.iterations[suite]);
  const starting = useBenchmarks((s) => s.starting[suite]);
  const startError = useBenchmarks((s) => s.startError[suite]);
  const { start, setIterations } = stores().benchmarks.getState();
  const job = currentJob(jobs, suite);
  const running = job?.state === 'running';
  const pct = job ? Math.round((job.state === 'finished' ? 1 : job.progress) * 100) : 0;
  const inputId = `iterations-${suite}`;

  return (
    <section className="card suite-card" aria-label={`${SUITE_TEXT[suite].title} suite`}>
      <h3>{SUITE_TEXT[suite].title}</h3>
      <p className="muted small-text">{SUITE_TEXT[suite].text}</p>
      <div className="row">
        <label htmlFor={inputId}>Iterations</label>
        <input
          id={inputId}
          type="number"
          min={1}
          max={10000}
          value={Number.isFinite(iterations) ? iterations : ''}
          onChange={(e) => setIterations(suite, Math.max(1, Math.floor(Number(e.target.value) || 1)))}
          className="narrow"
        />
        <button type="button" className="primary" onClick={() => void start(suite)} disabled={starting || running}>
          {running ? 'Running…' : starting ? 'Starting…' : 'Run'}
        </button>
      </div>
      {job && (
        <div className="progress-wrap">
          <div
            role="progressbar"
            aria-label={`${SUITE_TEXT[suite].title} benchmark progress`}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={pct}
            aria-valuetext={`${pct}% ${job.state}${job.message && job.message !== job.state ? `: ${job.message}` : ''}`}
            className={`progress progress-${job.state}`}
          >
            <div className="progress-fill" style={{ width: `${pct}%` }} />
          </div>
          <div className="small-text muted">
            {pct}% · {job.state}
            {job.message && job.message !== job.state ? ` · ${job.message}` : ''}
          </div>
          {job.state === 'failed' && job.error && (
            <p role="alert" className="error-text small-text">
              {job.error}
            </p>
          )}
        </div>
      )}
      {startError && (
        <p role="alert" className="error-text small-text">
          {startError}
        </p>
      )}
    </section>
  );
}

function duration(job: BenchmarkJob): string {
  if (!job.finishedAt) return '–';
  const ms = Date.parse(job.finishedAt) - Date.parse(job.startedAt);
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : '–';
}

function History({ jobs, selected }: { jobs: BenchmarkJob[]; selected: string | null }) {
  const { select } = stores().benchmarks.getState();
  return (
    <section className="card history" aria-labelledby="history-title">
      <h3 id="history-title">History</h3>
      {jobs.length === 0 ? (
        <p className="muted">No runs yet.</p>
      ) : (
        <ul className="history-list">
          {jobs.map((j) => (
            <li key={j.id}>
              <button type="button" className={`history-item${j.id === selected ? ' selected' : ''}`} aria-pressed={j.id === selected} onClick={() => select(j.id)}>
                <span className={`state-dot state-${j.state}`} aria-hidden="true" />
                <span className="history-main">
                  <strong>{j.suite}</strong> · {j.state}
                </span>
                <span className="muted small-text">
                  {formatDateTime(j.startedAt)} · {duration(j)}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** An object URL for a download, revoked when the content changes or the view goes. */
function useDownload(content: string | null, type: string): string | null {
  const [url, setUrl] = useState<string | null>(null);
  useEffect(() => {
    if (content === null) {
      setUrl(null);
      return;
    }
    const u = URL.createObjectURL(new Blob([content], { type }));
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [content, type]);
  return url;
}

function RunDetails({ job }: { job: BenchmarkJob }) {
  const view = useMemo(() => describeReport(job.result), [job.result]);
  const hasResult = job.result !== null && job.result !== undefined;
  const json = useMemo(() => (hasResult ? JSON.stringify(job.result, null, 2) : null), [job.result, hasResult]);
  const csv = useMemo(() => (hasResult ? reportToCsv(job.result) : null), [job.result, hasResult]);
  const jsonUrl = useDownload(json, 'application/json');
  const csvUrl = useDownload(csv, 'text/csv');
  const base = `sockpit-${job.suite}-${job.id}`;

  return (
    <section className="card" aria-labelledby="run-title">
      <div className="run-head">
        <h3 id="run-title">
          {job.suite} run <span className="muted">{formatDateTime(job.startedAt)}</span>
        </h3>
        <div className="row">
          {csvUrl && (
            <a className="button" href={csvUrl} download={`${base}.csv`}>
              Export CSV
            </a>
          )}
          {jsonUrl && (
            <a className="button" href={jsonUrl} download={`${base}.json`}>
              Export JSON
            </a>
          )}
        </div>
      </div>
      {job.state === 'running' && <p className="muted">Running: {Math.round(job.progress * 100)}%. The results appear here when it finishes.</p>}
      {job.state === 'failed' && (
        <p role="alert" className="error-text">
          Failed: {job.error ?? job.message}
        </p>
      )}
      {job.state === 'finished' && !hasResult && <p className="muted">This run has no report.</p>}
      {view.targets.length > 0 && (
        <table className="table targets" aria-label="Targets">
          <thead>
            <tr>
              <th scope="col">Target</th>
              <th scope="col">Goal</th>
              <th scope="col">Measured</th>
              <th scope="col">Met</th>
            </tr>
          </thead>
          <tbody>
            {view.targets.map((t) => (
              <tr key={t.name}>
                <td>{t.name}</td>
                <td>{t.target}</td>
                <td>{t.measured}</td>
                <td className={t.ok ? 'ok-text' : 'warn-text'}>{t.ok ? '✓ yes' : '✗ no'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="chart-grid bench-charts">
        {view.charts.map((c) => (
          <SpecChart key={c.title} spec={c} />
        ))}
      </div>
      {view.kind !== 'sandbox' && view.tables.map((t) => <GenericTable key={t.title} table={t} />)}
      {view.notes.length > 0 && (
        <details>
          <summary>Notes ({view.notes.length})</summary>
          <ul className="notes">
            {view.notes.map((n, i) => (
              <li key={i}>{n}</li>
            ))}
          </ul>
        </details>
      )}
      {hasResult && view.kind !== 'sandbox' && view.tables.length === 0 && (
        <details open>
          <summary>Report</summary>
          <pre className="json">{json}</pre>
        </details>
      )}
    </section>
  );
}

function cell(v: unknown): string {
  if (typeof v === 'number') return Math.abs(v) >= 100 || Number.isInteger(v) ? String(Math.round(v * 100) / 100) : v.toPrecision(3);
  if (v === null || v === undefined) return '';
  return String(v);
}

function GenericTable({ table }: { table: TableSpec }) {
  return (
    <div className="table-wrap">
      <table className="table" aria-label={table.title}>
        <caption>{table.title}</caption>
        <thead>
          <tr>
            {table.columns.map((c) => (
              <th key={c} scope="col">
                {c}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {table.rows.map((r, i) => (
            <tr key={i}>
              {table.columns.map((c) => (
                <td key={c}>{cell(r[c])}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
