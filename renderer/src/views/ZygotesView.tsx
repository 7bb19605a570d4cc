// Zygotes: the lineage as a tree, live. Each node is a Python process that imported a set of packages and
// waits to be forked; a new node lights up for a moment, an evicted one leaves. Clicking one shows it all.

import { useMemo } from 'react';
import type { ZygoteInfo } from '../bridge/types';
import { formatBytes, formatTime } from '../lib/format';
import { layoutTree, DEFAULT_LAYOUT, type LayoutNode } from '../lib/treeLayout';
import { stores, useConnection, useZygotes } from '../stores';

const STATE_LABEL: Record<string, string> = {
  running: 'running',
  frozen: 'frozen (idle, costs no CPU)',
  starting: 'starting (importing its packages)',
  dead: 'dead',
};

export function ZygotesView() {
  const zygotes = useZygotes((s) => s.zygotes);
  const loaded = useZygotes((s) => s.loaded);
  const error = useZygotes((s) => s.error);
  const selected = useZygotes((s) => s.selected);
  const fresh = useZygotes((s) => s.fresh);
  const activity = useZygotes((s) => s.activity);
  const enabled = useConnection((s) => s.status?.zygotes.enabled ?? true);
  const layout = useMemo(() => layoutTree(zygotes), [zygotes]);
  const selectedNode = layout.nodes.find((n) => n.id === selected) ?? null;
  const { select } = stores().zygotes.getState();

  return (
    <section className="view" aria-labelledby="zygotes-title">
      <h2 id="zygotes-title">Zygotes</h2>
      <p className="intro">
        A <strong>Zygote</strong> is a Python process that has already started and imported a set of packages, then waits, frozen. To serve a call, sockpit
        <em> forks</em> it: the child starts with the interpreter and every import already in memory (shared copy-on-write), so it skips the start-up and the
        imports that make a cold start slow. Each Zygote was forked from a parent and imported more: together they form this lineage. A function is forked
        from the Zygote with the most of its packages and none it did not ask for; on a miss the tree grows a child.
      </p>
      {error && (
        <p role="alert" className="error-text">
          {error}
        </p>
      )}
      {!enabled && <p className="card muted">Zygotes are switched off in this sockpitd (--no-zygotes): every start is cold.</p>}
      <div className="columns zygote-columns">
        <div className="card tree-card">
          <div className="legend" aria-hidden="true">
            <span className="swatch state-running" /> running <span className="swatch state-frozen" /> frozen <span className="swatch state-starting" /> starting{' '}
            <span className="swatch fresh-swatch" /> new
          </div>
          {loaded && zygotes.length === 0 && <p className="muted">No Zygotes yet: the base Zygote starts with the first call that needs one.</p>}
          {!loaded && !error && <p className="muted">Loading…</p>}
          {layout.nodes.length > 0 && (
            <div className="tree-scroll">
              <svg
                role="group"
                aria-label="Zygote lineage"
                width={layout.width}
                height={layout.height}
                viewBox={`0 0 ${layout.width} ${layout.height}`}
                className="tree"
              >
                {layout.edges.map((e) => (
                  <path
                    key={`${e.from}-${e.to}`}
                    className="tree-edge"
                    d={`M${e.x1},${e.y1} C${e.x1},${(e.y1 + e.y2) / 2} ${e.x2},${(e.y1 + e.y2) / 2} ${e.x2},${e.y2}`}
                  />
                ))}
                {layout.nodes.map((n) => (
                  <TreeNode key={n.id} node={n} selected={n.id === selected} fresh={Boolean(fresh[n.id])} onSelect={() => select(n.id === selected ? null : n.id)} />
                ))}
              </svg>
            </div>
          )}
        </div>
        <div className="column">
          {selectedNode ? <ZygoteDetails node={selectedNode} all={zygotes} /> : <p className="card muted">Click a Zygote to see its packages, process and the functions it served.</p>}
          <ActivityList items={activity} />
        </div>
      </div>
    </section>
  );
}

function TreeNode({ node, selected, fresh, onSelect }: { node: LayoutNode; selected: boolean; fresh: boolean; onSelect: () => void }) {
  const z = node.zygote;
  const { nodeWidth: w, nodeHeight: h } = DEFAULT_LAYOUT;
  const added = node.added;
  const title = z.parent === null ? 'base' : added.length ? `+ ${added[0]}` : '+ nothing new';
  const more = added.length > 1 ? ` +${added.length - 1} more` : '';
  const label = `Zygote ${z.id}, ${z.state}, ${z.parent === null ? 'base' : `adds ${added.join(' ') || 'nothing'}`}, ${z.hits} hits, ${formatBytes(z.memoryBytes)}`;
  return (
    <g
      transform={`translate(${node.x},${node.y})`}
      className={`tree-node state-${z.state}${selected ? ' selected' : ''}${fresh ? ' fresh' : ''}`}
      role="button"
      tabIndex={0}
      aria-label={label}
      aria-pressed={selected}
      onClick={onSelect}
      onKeyDown={(e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          onSelect();
        }
      }}
    >
      <title>{[`Zygote ${z.id} (${STATE_LABEL[z.state] ?? z.state})`, ...(z.packages.length ? z.packages : ['no packages'])].join('\n')}</title>
      <rect width={w} height={h} rx={8} className="node-box" />
      <rect width={6} height={h} rx={3} className="node-state" />
      <text x={14} y={20} className="node-id">
        {z.id} <tspan className="node-state-text">· {z.state}</tspan>
      </text>
      <text x={14} y={40} className="node-pkgs">
        {truncate(title, 22)}
        <tspan className="node-more">{more}</tspan>
      </text>
      <text x={14} y={62} className="node-stats">
        {z.hits} hit{z.hits === 1 ? '' : 's'} · {formatBytes(z.memoryBytes)}
      </text>
    </g>
  );
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s;
}

function ZygoteDetails({ node, all }: { node: LayoutNode; all: ZygoteInfo[] }) {
  const z = node.zygote;
  const added = new Set(node.added);
  return (
    <section className="card details" aria-label={`Zygote ${z.id} details`}>
      <h3>Zygote {z.id}</h3>
      <dl className="facts">
        <dt>State</dt>
        <dd>{STATE_LABEL[z.state] ?? z.state}</dd>
        <dt>PID</dt>
        <dd>{z.pid ?? '–'}</dd>
        <dt>Parent</dt>
        <dd>{z.parent ? <ZygoteLink id={z.parent} /> : 'none: the base Zygote'}</dd>
        <dt>Hits</dt>
        <dd>{z.hits} (forks it served)</dd>
        <dt>Memory</dt>
        <dd>{formatBytes(z.memoryBytes)}</dd>
        <dt>Last used</dt>
        <dd>{formatTime(z.lastUsed)}</dd>
        <dt>Children</dt>
        <dd>{z.children.length ? z.children.map((c, i) => <span key={c}>{i > 0 && ', '}<ZygoteLink id={c} /></span>) : 'none'}</dd>
        <dt>Functions served</dt>
        <dd>{z.functions.length ? z.functions.join(', ') : 'none yet'}</dd>
      </dl>
      <h4>Packages ({z.packages.length})</h4>
      {z.packages.length === 0 ? (
        <p className="muted">None: a bare interpreter, the root every other Zygote grows from.</p>
      ) : (
        <ul className="pkg-list">
          {z.packages.map((p) => (
            <li key={p}>
              <code>{p}</code> {added.has(p) ? <span className="tag">imported here</span> : <span className="muted small-text">inherited</span>}
            </li>
          ))}
        </ul>
      )}
      {all.length > 0 && <p className="muted small-text">{all.length} Zygotes in the tree.</p>}
    </section>
  );
}

function ZygoteLink({ id }: { id: string }) {
  return (
    <button type="button" className="link" onClick={() => stores().zygotes.getState().select(id)}>
      {id}
    </button>
  );
}

function ActivityList({ items }: { items: { seq: number; at: string; action: string; text: string }[] }) {
  return (
    <section className="card" aria-labelledby="activity-title">
      <h3 id="activity-title">Recent Zygote events</h3>
      {items.length === 0 ? (
        <p className="muted">Nothing yet. Invoke a function with packages to see the tree grow.</p>
      ) : (
        <ol className="activity" aria-live="polite">
          {items.slice(0, 15).map((a) => (
            <li key={`${a.seq}-${a.at}`} className={`act-${a.action}`}>
              <span className="muted">{formatTime(a.at)}</span> {a.text}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
