import { describe, expect, it } from 'vitest';
import type { ZygoteInfo } from '../bridge/types';
import { addedPackages, DEFAULT_LAYOUT, layoutTree } from './treeLayout';

function z(id: string, parent: string | null, packages: string[] = []): ZygoteInfo {
  return { id, parent, packages, state: 'running', pid: 1, hits: 0, memoryBytes: 0, children: [], functions: [], lastUsed: '2026-01-01T00:00:00Z' };
}

const { nodeWidth: W, nodeHeight: H, hGap, vGap, margin } = DEFAULT_LAYOUT;

describe('layoutTree', () => {
  it('lays out nothing as an empty drawing', () => {
    expect(layoutTree([])).toEqual({ nodes: [], edges: [], width: 0, height: 0 });
  });

  it('puts one node at the margin', () => {
    const l = layoutTree([z('z1', null)]);
    expect(l.nodes).toHaveLength(1);
    expect(l.nodes[0]).toMatchObject({ id: 'z1', depth: 0, x: margin, y: margin });
    expect(l.width).toBe(2 * margin + W);
    expect(l.height).toBe(2 * margin + H);
  });

  it('places children one layer down and centres the parent over them', () => {
    const l = layoutTree([z('z1', null), z('z2', 'z1'), z('z3', 'z1'), z('z4', 'z1')]);
    const at = Object.fromEntries(l.nodes.map((n) => [n.id, n]));
    expect(at.z2.y).toBe(margin + H + vGap);
    expect([at.z2.slot, at.z3.slot, at.z4.slot]).toEqual([0, 1, 2]);
    expect(at.z1.slot).toBe(1);
    expect(at.z1.x + W / 2).toBe(at.z3.x + W / 2);
    expect(l.width).toBe(2 * margin + 3 * W + 2 * hGap);
    expect(l.height).toBe(2 * margin + 2 * H + vGap);
  });

  it('never overlaps two nodes of a layer and draws one edge per child', () => {
    const tree = [z('z1', null), z('z2', 'z1'), z('z3', 'z2'), z('z4', 'z2'), z('z5', 'z1'), z('z6', 'z5'), z('z7', 'z6'), z('z8', 'z6'), z('z9', 'z1')];
    const l = layoutTree(tree);
    const byDepth = new Map<number, number[]>();
    for (const n of l.nodes) byDepth.set(n.depth, [...(byDepth.get(n.depth) ?? []), n.x]);
    for (const xs of byDepth.values()) {
      xs.sort((a, b) => a - b);
      for (let i = 1; i < xs.length; i++) expect(xs[i] - xs[i - 1]).toBeGreaterThanOrEqual(W + hGap);
    }
    expect(l.edges).toHaveLength(8);
    const e = l.edges.find((x) => x.from === 'z6' && x.to === 'z8')!;
    const p = l.nodes.find((n) => n.id === 'z6')!;
    const c = l.nodes.find((n) => n.id === 'z8')!;
    expect(e).toMatchObject({ x1: p.x + W / 2, y1: p.y + H, x2: c.x + W / 2, y2: c.y });
  });

  it('orders siblings by id naturally (z2 before z10)', () => {
    const l = layoutTree([z('z1', null), z('z10', 'z1'), z('z2', 'z1')]);
    const slot = (id: string) => l.nodes.find((n) => n.id === id)!.slot;
    expect(slot('z2')).toBeLessThan(slot('z10'));
  });

  it('draws a node whose parent is unknown as a root, and survives a parent cycle', () => {
    const l = layoutTree([z('z1', null), z('z7', 'gone'), z('a', 'b'), z('b', 'a')]);
    expect(l.nodes.map((n) => n.id).sort()).toEqual(['a', 'b', 'z1', 'z7']);
    expect(l.nodes.find((n) => n.id === 'z7')!.depth).toBe(0);
    const a = l.nodes.find((n) => n.id === 'a')!;
    const b = l.nodes.find((n) => n.id === 'b')!;
    expect(Math.min(a.depth, b.depth)).toBe(0);
    expect(Math.max(a.depth, b.depth)).toBe(1);
  });

  it('names what each Zygote added beyond its parent', () => {
    const l = layoutTree([z('z1', null), z('z2', 'z1', ['alpha==1']), z('z3', 'z2', ['beta==2', 'alpha==1'])]);
    expect(l.nodes.find((n) => n.id === 'z3')!.added).toEqual(['beta==2']);
    expect(l.nodes.find((n) => n.id === 'z2')!.added).toEqual(['alpha==1']);
    expect(addedPackages(z('r', null, ['b', 'a']), null)).toEqual(['a', 'b']);
  });
});
