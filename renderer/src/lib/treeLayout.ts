// The Zygote lineage as a layered tree drawing, free of I/O and of React: each Zygote one layer below its
// parent; leaves take consecutive slots left to right in depth-first order and a parent sits centred over
// its children, so no two nodes of a layer overlap and no edges cross.

import type { ZygoteInfo } from '../bridge/types';

export interface LayoutOptions {
  nodeWidth: number;
  nodeHeight: number;
  /** horizontal space between neighbouring slots */
  hGap: number;
  /** vertical space between layers */
  vGap: number;
  margin: number;
}

export interface LayoutNode {
  id: string;
  depth: number;
  /** the slot (leaf units, fractional for parents) */
  slot: number;
  /** top-left corner in px */
  x: number;
  y: number;
  zygote: ZygoteInfo;
  /** what this Zygote imported beyond its parent's packages (all of them for a root) */
  added: string[];
}

export interface LayoutEdge {
  from: string;
  to: string;
  /** parent's bottom centre → child's top centre, px */
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface TreeLayout {
  nodes: LayoutNode[];
  edges: LayoutEdge[];
  width: number;
  height: number;
}

export const DEFAULT_LAYOUT: LayoutOptions = { nodeWidth: 180, nodeHeight: 78, hGap: 24, vGap: 52, margin: 16 };

const byNaturalId = (a: ZygoteInfo, b: ZygoteInfo) => a.id.localeCompare(b.id, undefined, { numeric: true });

export function layoutTree(zygotes: readonly ZygoteInfo[], options: Partial<LayoutOptions> = {}): TreeLayout {
  const o = { ...DEFAULT_LAYOUT, ...options };
  const byId = new Map<string, ZygoteInfo>();
  for (const z of zygotes) if (!byId.has(z.id)) byId.set(z.id, z);

  // children from each node's parent field: one source of truth, whatever `children` says
  const kids = new Map<string, ZygoteInfo[]>();
  const roots: ZygoteInfo[] = [];
  for (const z of byId.values()) {
    if (z.parent !== null && z.parent !== z.id && byId.has(z.parent)) {
      const list = kids.get(z.parent) ?? [];
      list.push(z);
      kids.set(z.parent, list);
    } else roots.push(z);
  }
  for (const list of kids.values()) list.sort(byNaturalId);
  roots.sort(byNaturalId);

  const placed = new Map<string, LayoutNode>();
  const edges: Array<{ from: string; to: string }> = [];
  let nextSlot = 0;
  let maxDepth = -1;

  const place = (z: ZygoteInfo, depth: number, parent: ZygoteInfo | null): LayoutNode => {
    const node: LayoutNode = { id: z.id, depth, slot: 0, x: 0, y: 0, zygote: z, added: addedPackages(z, parent) };
    placed.set(z.id, node);
    maxDepth = Math.max(maxDepth, depth);
    const children = (kids.get(z.id) ?? []).filter((c) => !placed.has(c.id));
    if (children.length === 0) node.slot = nextSlot++;
    else {
      const slots = children.map((c) => {
        edges.push({ from: z.id, to: c.id });
        return place(c, depth + 1, z).slot;
      });
      node.slot = (slots[0] + slots[slots.length - 1]) / 2;
    }
    return node;
  };

  for (const r of roots) place(r, 0, null);
  // members of a parent cycle have no root: draw each unplaced one as a root of its own
  for (const z of [...byId.values()].sort(byNaturalId)) if (!placed.has(z.id)) place(z, 0, null);

  const nodes = [...placed.values()];
  for (const n of nodes) {
    n.x = o.margin + n.slot * (o.nodeWidth + o.hGap);
    n.y = o.margin + n.depth * (o.nodeHeight + o.vGap);
  }
  const edgeList: LayoutEdge[] = edges.map(({ from, to }) => {
    const p = placed.get(from)!;
    const c = placed.get(to)!;
    return { from, to, x1: p.x + o.nodeWidth / 2, y1: p.y + o.nodeHeight, x2: c.x + o.nodeWidth / 2, y2: c.y };
  });
  const slots = nextSlot;
  return {
    nodes,
    edges: edgeList,
    width: slots === 0 ? 0 : 2 * o.margin + slots * o.nodeWidth + (slots - 1) * o.hGap,
    height: maxDepth < 0 ? 0 : 2 * o.margin + (maxDepth + 1) * o.nodeHeight + maxDepth * o.vGap,
  };
}

/** The packages a Zygote holds that its parent does not (sorted). */
export function addedPackages(z: ZygoteInfo, parent: ZygoteInfo | null): string[] {
  const inherited = new Set(parent?.packages ?? []);
  return z.packages.filter((p) => !inherited.has(p)).sort();
}
