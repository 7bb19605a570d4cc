// The panel: a header with the daemon's status, the connection banner, the nav and one of four views
// (chosen by the location hash, so a view can be linked and reloaded).

import { useEffect, useState } from 'react';
import { ConnectionBanner } from './components/ConnectionBanner';
import { SignedOut } from './components/SignedOut';
import { stores, useConnection, wire } from './stores';
import { BenchmarksView } from './views/BenchmarksView';
import { FunctionsView } from './views/FunctionsView';
import { TimingsView } from './views/TimingsView';
import { ZygotesView } from './views/ZygotesView';

export const VIEWS = [
  { id: 'functions', label: 'Functions', hint: 'deploy and invoke' },
  { id: 'zygotes', label: 'Zygotes', hint: 'the lineage, live' },
  { id: 'timings', label: 'Timings', hint: 'latency per tier' },
  { id: 'benchmarks', label: 'Benchmarks', hint: 'side by side' },
] as const;
export type ViewId = (typeof VIEWS)[number]['id'];

function viewFromHash(hash: string): ViewId {
  const id = hash.replace(/^#\/?/, '').split(/[/?]/)[0];
  return (VIEWS.find((v) => v.id === id)?.id ?? 'functions') as ViewId;
}

export function navigate(view: ViewId): void {
  window.location.hash = `#/${view}`;
}

export function App() {
  const [view, setView] = useState<ViewId>(() => viewFromHash(window.location.hash));
  const signedOut = useConnection((s) => s.connection.state === 'signed-out');

  useEffect(() => wire(stores()), []);
  useEffect(() => {
    const onHash = () => setView(viewFromHash(window.location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  useEffect(() => {
    const label = VIEWS.find((v) => v.id === view)?.label ?? '';
    document.title = `${label} · sockpit`;
  }, [view]);

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <h1>sockpit</h1>
          <span className="tagline">serverless Python functions in lean containers, forked from Zygotes</span>
        </div>
        <nav aria-label="Views" className="nav">
          {VIEWS.map((v) => (
            <a key={v.id} href={`#/${v.id}`} aria-current={view === v.id ? 'page' : undefined} className={view === v.id ? 'active' : undefined}>
              {v.label}
            </a>
          ))}
        </nav>
      </header>
      <ConnectionBanner />
      <main className="content">
        {signedOut && <SignedOut />}
        {!signedOut && view === 'functions' && <FunctionsView />}
        {!signedOut && view === 'zygotes' && <ZygotesView />}
        {!signedOut && view === 'timings' && <TimingsView />}
        {!signedOut && view === 'benchmarks' && <BenchmarksView />}
      </main>
    </div>
  );
}
