// The Zygote lineage as data: which Zygote serves a package set, when to grow the tree, what to evict. Pure:
// processes, clocks and memory readings are passed in, so every rule here is unit-tested.
//
// Rules (the SOCK paper's, docs/ARCHITECTURE.md):
// - match: for a function needing package set P, the Zygote whose set S is a subset of P with the most
//   packages; never one holding a package the function did not ask for (its import-time code is untrusted).
//   Ties: the most recently used.
// - grow: on a miss (S != P), a child of the best match that imports P \ S, once P was asked for
//   `growAfterMisses` times.
// - evict: above the memory budget, childless idle Zygotes (never the root) by lowest hits per byte.

export type ZygoteState = 'starting' | 'ready' | 'dead';

export interface ZygoteNode<P = unknown> {
  id: string;
  parent: ZygoteNode<P> | null;
  children: Set<ZygoteNode<P>>;
  /** name==version */
  packages: ReadonlySet<string>;
  state: ZygoteState;
  /** forks served (instances and child Zygotes) */
  hits: number;
  memoryBytes: number;
  lastUsed: number;
  /** forks in flight: a busy Zygote is never evicted */
  busy: number;
  /** functions it forked instances for */
  functions: Set<string>;
  /** the process behind it (owned by the manager) */
  process: P | null;
}

export class ZygoteTree<P = unknown> {
  readonly nodes = new Map<string, ZygoteNode<P>>();
  private readonly misses = new Map<string, number>();
  private seq = 0;

  constructor(private readonly growAfterMisses = 1) {}

  get root(): ZygoteNode<P> | undefined {
    for (const node of this.nodes.values()) if (node.parent === null) return node;
    return undefined;
  }

  add(parent: ZygoteNode<P> | null, packages: Iterable<string>, now: number): ZygoteNode<P> {
    const set = new Set(packages);
    if (parent === null && this.root) throw new Error('the tree already has a root');
    if (parent && ![...parent.packages].every((p) => set.has(p))) {
      throw new Error('a child Zygote holds every package of its parent');
    }
    const node: ZygoteNode<P> = {
      id: `z${++this.seq}`,
      parent,
      children: new Set(),
      packages: set,
      state: 'starting',
      hits: 0,
      memoryBytes: 0,
      lastUsed: now,
      busy: 0,
      functions: new Set(),
      process: null,
    };
    parent?.children.add(node);
    this.nodes.set(node.id, node);
    return node;
  }

  /** The best ready Zygote for package set P, or undefined when not even the root is ready. */
  match(packages: Iterable<string>): ZygoteNode<P> | undefined {
    const want = new Set(packages);
    let best: ZygoteNode<P> | undefined;
    for (const node of this.nodes.values()) {
      if (node.state !== 'ready') continue;
      if (![...node.packages].every((p) => want.has(p))) continue;
      if (!best || node.packages.size > best.packages.size || (node.packages.size === best.packages.size && node.lastUsed > best.lastUsed)) {
        best = node;
      }
    }
    return best;
  }

  /**
   * Whether to grow a child of `best` for P now. Counts the miss; says yes once P has missed often enough
   * and no Zygote for exactly P exists or is being made.
   */
  shouldGrow(best: ZygoteNode<P>, packages: Iterable<string>): boolean {
    const want = [...new Set(packages)].sort();
    if (want.length === best.packages.size) return false; // exact match
    const key = want.join(' ');
    for (const node of this.nodes.values()) {
      if (node.state !== 'dead' && [...node.packages].sort().join(' ') === key) return false;
    }
    const misses = (this.misses.get(key) ?? 0) + 1;
    this.misses.set(key, misses);
    if (misses < this.growAfterMisses) return false;
    this.misses.delete(key);
    return true;
  }

  /** Records a fork served by node. */
  hit(node: ZygoteNode<P>, now: number, fn?: string): void {
    node.hits++;
    node.lastUsed = now;
    if (fn) node.functions.add(fn);
  }

  /** Childless, idle, ready Zygotes other than the root, lowest hits per byte first, until within budget. */
  evictions(budgetBytes: number): ZygoteNode<P>[] {
    let total = 0;
    for (const node of this.nodes.values()) if (node.state !== 'dead') total += node.memoryBytes;
    const out: ZygoteNode<P>[] = [];
    const removed = new Set<ZygoteNode<P>>();
    while (total > budgetBytes) {
      let victim: ZygoteNode<P> | undefined;
      for (const node of this.nodes.values()) {
        if (node.parent === null || node.state !== 'ready' || node.busy > 0 || removed.has(node)) continue;
        if ([...node.children].some((c) => !removed.has(c))) continue;
        if (!victim || hitsPerByte(node) < hitsPerByte(victim) || (hitsPerByte(node) === hitsPerByte(victim) && node.lastUsed < victim.lastUsed)) {
          victim = node;
        }
      }
      if (!victim) break;
      removed.add(victim);
      out.push(victim);
      total -= victim.memoryBytes;
    }
    return out;
  }

  /** Takes a node out (it died or was evicted); its children, if any, hang from its parent. */
  remove(node: ZygoteNode<P>): void {
    node.state = 'dead';
    this.nodes.delete(node.id);
    node.parent?.children.delete(node);
    for (const child of node.children) {
      child.parent = node.parent;
      node.parent?.children.add(child);
    }
    node.children.clear();
  }

  memoryBytes(): number {
    let total = 0;
    for (const node of this.nodes.values()) total += node.memoryBytes;
    return total;
  }
}

function hitsPerByte(node: ZygoteNode<unknown>): number {
  return node.hits / Math.max(1, node.memoryBytes);
}
