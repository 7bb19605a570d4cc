// `sockpit tree`: the Zygote lineage drawn as a tree. Pure formatting.

import type { ZygoteInfo } from '../zygotes/manager';

export function formatTree(zygotes: ZygoteInfo[]): string {
  const byId = new Map(zygotes.map((z) => [z.id, z]));
  const roots = zygotes.filter((z) => z.parent === null || !byId.has(z.parent));
  const lines: string[] = [];
  const label = (z: ZygoteInfo, parent: ZygoteInfo | undefined) => {
    const own = z.packages.filter((p) => !parent?.packages.includes(p));
    const what = z.packages.length === 0 ? '(base)' : `+ ${own.join(' ') || '(same set)'}`;
    const mb = (z.memoryBytes / 2 ** 20).toFixed(1);
    const fns = z.functions.length ? `  serves ${z.functions.join(', ')}` : '';
    return `${z.id} ${what}  [${z.state}, ${z.hits} hits, ${mb} MB]${fns}`;
  };
  const walk = (z: ZygoteInfo, prefix: string, last: boolean, top: boolean) => {
    const parent = z.parent ? byId.get(z.parent) : undefined;
    lines.push(top ? label(z, parent) : `${prefix}${last ? '└─ ' : '├─ '}${label(z, parent)}`);
    const kids = z.children.map((id) => byId.get(id)).filter((c): c is ZygoteInfo => c !== undefined);
    kids.forEach((c, i) => walk(c, top ? '' : prefix + (last ? '   ' : '│  '), i === kids.length - 1, false));
  };
  roots.forEach((r) => walk(r, '', true, true));
  return lines.join('\n');
}
