// Functions: what is deployed, a deploy form, and invoking the selected function with a JSON event — the
// result, the tier that served it (and why that was fast or slow), its Zygote and its phase timings.

import { useMemo, useState, type FormEvent } from 'react';
import { PhaseBar } from '../components/PhaseBar';
import { TierBadge, TierExplanation } from '../components/TierBadge';
import type { FunctionInfo } from '../bridge/types';
import { formatMs, formatWhen, nameFromFolder } from '../lib/format';
import { stores, useConnection, useFunctions, useZygotes } from '../stores';
import { DEFAULT_EVENT, type PickedSource, type RunView } from '../stores/functions';
import { filesFromFolder, filesFromZip, type UploadFile } from '../lib/upload';

export function FunctionsView() {
  const functions = useFunctions((s) => s.functions);
  const loaded = useFunctions((s) => s.loaded);
  const loadError = useFunctions((s) => s.loadError);
  const selected = useFunctions((s) => s.selected);
  const selectedFn = functions.find((f) => f.name === selected) ?? null;

  return (
    <section className="view" aria-labelledby="functions-title">
      <h2 id="functions-title">Functions</h2>
      <p className="intro">
        A function is a folder with <code>f.py</code> (<code>def f(event)</code>) and optionally a pinned <code>requirements.txt</code>. Each call runs in a
        lean container, served by the fastest of three tiers: <TierBadge tier="warm" /> an idle instance, <TierBadge tier="zygote" /> a fork of a Python
        that already imported the packages, or <TierBadge tier="cold" /> a fresh interpreter.
      </p>
      <div className="columns">
        <div className="column">
          <FunctionTable functions={functions} loaded={loaded} error={loadError} selected={selected} />
          <DeployForm />
        </div>
        <div className="column">{selectedFn ? <InvokePanel fn={selectedFn} /> : <p className="muted card">Deploy a function, then select it to invoke it.</p>}</div>
      </div>
    </section>
  );
}

function FunctionTable({ functions, loaded, error, selected }: { functions: FunctionInfo[]; loaded: boolean; error: string | null; selected: string | null }) {
  const { select, remove } = stores().functions.getState();
  const connected = useConnection((s) => s.connection.state === 'connected');
  return (
    <div className="card">
      <h3>Deployed</h3>
      {error && (
        <p role="alert" className="error-text">
          {error}
        </p>
      )}
      {!loaded && !error && <p className="muted">{connected ? 'Loading…' : 'Waiting for sockpitd…'}</p>}
      {loaded && functions.length === 0 && <p className="muted">No functions deployed yet.</p>}
      {functions.length > 0 && (
        <table className="table" aria-label="Deployed functions">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Version</th>
              <th scope="col">Owner</th>
              <th scope="col">Packages</th>
              <th scope="col">Deployed</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {functions.map((f) => (
              <tr key={f.name} className={f.name === selected ? 'selected' : undefined} aria-selected={f.name === selected}>
                <td>
                  <button type="button" className="link" aria-pressed={f.name === selected} onClick={() => select(f.name)} title={f.source}>
                    {f.name}
                  </button>
                </td>
                <td>v{f.version}</td>
                <td className="nowrap" title="the uid that deployed it: only it and root may redeploy or remove it">{ownerName(f.owner)}</td>
                <td className="packages">{f.packages.length ? f.packages.join(', ') : <span className="muted">none</span>}</td>
                <td className="nowrap" title={f.deployedAt}>{formatWhen(f.deployedAt)}</td>
                <td>
                  <button
                    type="button"
                    className="small danger"
                    aria-label={`Remove ${f.name}`}
                    onClick={() => {
                      if (window.confirm(`Remove ${f.name}?`)) void remove(f.name);
                    }}
                  >
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function DeployForm() {
  const deploying = useFunctions((s) => s.deploying);
  const deployError = useFunctions((s) => s.deployError);
  const deployMessage = useFunctions((s) => s.deployMessage);
  const [picked, setPicked] = useState<PickedSource | null>(null);
  const [pickError, setPickError] = useState<string | null>(null);
  const [name, setName] = useState('');
  const bridge = stores().bridge;
  const derived = nameFromFolder(picked === null ? '' : 'folder' in picked ? picked.folder : picked.label);
  const shown = picked === null ? null : 'folder' in picked ? picked.folder : `${picked.label} (${picked.files.length} file${picked.files.length === 1 ? '' : 's'})`;

  // the page reads what the user picked and uploads it: sockpitd never opens a path of ours
  const pick = async (read: () => Promise<{ folder: string; files: UploadFile[] }>, fallback: string) => {
    setPickError(null);
    try {
      const { folder, files } = await read();
      setPicked({ files, label: folder || fallback });
    } catch (err) {
      setPicked(null);
      setPickError((err as Error).message);
    }
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!picked) return;
    const ok = await stores()
      .functions.getState()
      .deploy(picked, name.trim() || derived);
    if (ok) setName('');
  };

  return (
    <form className="card form" onSubmit={submit} aria-labelledby="deploy-title">
      <h3 id="deploy-title">Deploy a function</h3>
      <p className="muted small-text">The folder (f.py, optionally requirements.txt and ol.yaml) is read here and uploaded to sockpitd; it belongs to you afterwards. Deploying a name again makes a new version.</p>
      {bridge.pickDirectory ? (
        <>
          <label htmlFor="deploy-folder">Folder</label>
          <div className="row">
            <output id="deploy-folder" className="picked">{shown ?? <span className="muted">none chosen</span>}</output>
            <button
              type="button"
              onClick={async () => {
                const dir = await bridge.pickDirectory!();
                if (dir) setPicked({ folder: dir });
              }}
            >
              Choose folder…
            </button>
          </div>
        </>
      ) : (
        <>
          <label htmlFor="deploy-folder">Folder</label>
          <input
            id="deploy-folder"
            type="file"
            // a folder input: every file below the picked folder, with its relative path
            {...{ webkitdirectory: '', directory: '' }}
            multiple
            onChange={(e) => {
              const files = [...(e.target.files ?? [])];
              void pick(() => filesFromFolder(files), 'upload');
            }}
          />
          <label htmlFor="deploy-zip">or a zip</label>
          <input
            id="deploy-zip"
            type="file"
            accept=".zip,application/zip"
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) void pick(async () => filesFromZip(new Uint8Array(await file.arrayBuffer())), file.name.replace(/\.zip$/i, ''));
            }}
          />
          {shown && <p className="muted small-text">Chosen: {shown}</p>}
        </>
      )}
      <label htmlFor="deploy-name">Name</label>
      <input
        id="deploy-name"
        type="text"
        value={name}
        onChange={(e) => setName(e.target.value)}
        placeholder={derived ? `${derived} (from the folder)` : 'optional: the folder name'}
        spellCheck={false}
        autoComplete="off"
      />
      <div className="row">
        <button type="submit" className="primary" disabled={deploying || picked === null}>
          {deploying ? 'Deploying…' : 'Deploy'}
        </button>
        {deployMessage && !deployError && (
          <span role="status" className="ok-text">
            {deployMessage}
          </span>
        )}
      </div>
      {(pickError || deployError) && (
        <p role="alert" className="error-text">
          {pickError ?? deployError}
        </p>
      )}
    </form>
  );
}

function ownerName(uid: number | undefined): string {
  return uid === undefined ? '?' : uid === 0 ? 'root' : `uid ${uid}`;
}

function jsonProblem(text: string): string | null {
  if (text.trim() === '') return null;
  try {
    JSON.parse(text);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

function InvokePanel({ fn }: { fn: FunctionInfo }) {
  const text = useFunctions((s) => s.events[fn.name] ?? DEFAULT_EVENT);
  const run = useFunctions((s) => s.runs[fn.name]);
  const { setEvent, invoke } = stores().functions.getState();
  const problem = useMemo(() => jsonProblem(text), [text]);

  return (
    <div className="card">
      <h3>
        Invoke <code>{fn.name}</code> <span className="muted">v{fn.version}</span>
      </h3>
      <p className="muted small-text">
        {fn.packages.length ? (
          <>
            needs {fn.packages.length} package{fn.packages.length === 1 ? '' : 's'}: {fn.packages.join(', ')}
          </>
        ) : (
          'needs no packages'
        )}{' '}
        · from {fn.source} · owner {ownerName(fn.owner)}
        {fn.environmentKeys.length > 0 && <> · environment: {fn.environmentKeys.join(', ')}</>}
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void invoke(fn.name);
        }}
      >
        <label htmlFor="event-json">Event (JSON)</label>
        <textarea
          id="event-json"
          value={text}
          onChange={(e) => setEvent(fn.name, e.target.value)}
          rows={6}
          spellCheck={false}
          aria-describedby={problem ? 'event-problem' : undefined}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              void invoke(fn.name);
            }
          }}
        />
        {problem && (
          <p id="event-problem" className="warn-text small-text">
            Not valid JSON ({problem}): sockpitd will answer 400.
          </p>
        )}
        <div className="row">
          <button type="submit" className="primary" disabled={run?.running}>
            {run?.running ? 'Invoking…' : 'Invoke'}
          </button>
          <span className="muted small-text">Ctrl+Enter invokes. Invoke twice: the second call is usually warm.</span>
        </div>
      </form>
      <RunResultView run={run} />
    </div>
  );
}

const STATUS_HINTS: Record<number, string> = {
  400: 'The request was refused: check the event is valid JSON.',
  404: 'No such function (was it removed?).',
  409: 'Conflict.',
  413: 'The event is too large.',
  422: 'The function raised an exception.',
  429: 'sockpitd is overloaded: too many calls at once.',
  502: 'The instance died while serving the call.',
  503: 'sockpitd is unavailable.',
  504: 'The function did not answer in time (timeout).',
  507: 'The sandbox ran out of memory.',
};

function RunResultView({ run }: { run: RunView | undefined }) {
  if (!run) return null;
  const outcome = run.outcome;
  return (
    <section aria-label="Result" className="result" aria-busy={run.running}>
      <h3>Result</h3>
      {run.failure && (
        <p role="alert" className="error-text">
          {run.failure}
        </p>
      )}
      {outcome && (
        <>
          <div className="result-head">
            <TierBadge tier={outcome.tier} />
            <span>
              HTTP {outcome.status} · {formatMs(outcome.timings.total)} in sockpitd
              {run.clientMs !== null && <span className="muted"> ({formatMs(run.clientMs)} as the panel saw it)</span>}
            </span>
          </div>
          <TierExplanation tier={outcome.tier} />
          {outcome.tier === 'zygote' && (outcome.timings.grow ?? 0) > 0 && (
            <p className="small-text">
              This call grew the tree first: no Zygote had all its packages, so a new one was forked from the best match and imported the missing ones (
              <strong>grow</strong>). The next call that needs them forks straight from it.
            </p>
          )}
          <ZygoteLine zygote={outcome.zygote ?? null} tier={outcome.tier} sandbox={outcome.sandbox} />
          {outcome.status === 200 ? (
            <pre className="json" aria-label="Return value">
              {JSON.stringify(outcome.result, null, 2)}
            </pre>
          ) : (
            <ErrorAnswer status={outcome.status} error={outcome.error} />
          )}
          <h4>Where the time went</h4>
          <PhaseBar timings={outcome.timings} />
        </>
      )}
    </section>
  );
}

function ZygoteLine({ zygote, tier, sandbox }: { zygote: string | null; tier: string | null; sandbox: string | null }) {
  const node = useZygotes((s) => (zygote ? s.zygotes.find((z) => z.id === zygote) : undefined));
  if (tier !== 'zygote') return sandbox ? <p className="muted small-text">sandbox {sandbox}</p> : null;
  if (!zygote) return <p className="muted small-text">Forked from a Zygote · sandbox {sandbox}</p>;
  return (
    <p className="small-text">
      Forked from Zygote{' '}
      <a
        href="#/zygotes"
        onClick={() => {
          stores().zygotes.getState().select(zygote);
        }}
      >
        {zygote}
      </a>{' '}
      {node && <span className="muted">({node.packages.length ? node.packages.join(', ') : 'the base: no packages'})</span>} · sandbox {sandbox}
    </p>
  );
}

function ErrorAnswer({ status, error }: { status: number; error: { code: string; message: string; detail?: unknown } | undefined }) {
  const detail = (error?.detail ?? {}) as { traceback?: unknown; type?: unknown; detail?: { traceback?: unknown } };
  const traceback = typeof detail.traceback === 'string' ? detail.traceback : typeof detail.detail?.traceback === 'string' ? detail.detail.traceback : null;
  return (
    <div role="alert" className="error-box">
      <p>
        <strong>
          Error {status}
          {error?.code ? ` ${error.code}` : ''}
        </strong>
        : {error?.message ?? 'no message'}
      </p>
      {STATUS_HINTS[status] && <p className="muted small-text">{STATUS_HINTS[status]}</p>}
      {traceback && (
        <pre className="traceback" aria-label="Traceback">
          {traceback.trimEnd()}
        </pre>
      )}
    </div>
  );
}
