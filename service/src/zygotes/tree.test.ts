import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZygoteTree } from './tree';

function ready<T extends { state: string }>(node: T): T {
  node.state = 'ready';
  return node;
}

test('match: the largest subset of the wanted set, never a Zygote with a package not asked for', () => {
  const tree = new ZygoteTree();
  const root = ready(tree.add(null, [], 0));
  const numpy = ready(tree.add(root, ['numpy==1.24'], 0));
  const pandas = ready(tree.add(numpy, ['numpy==1.24', 'pandas==1.5'], 0));
  const requests = ready(tree.add(root, ['requests==2.28'], 0));
  assert.equal(tree.match(['numpy==1.24', 'pandas==1.5', 'flask==2.2']), pandas);
  assert.equal(tree.match(['numpy==1.24']), numpy);
  tree.hit(requests, 1);
  assert.equal(tree.match(['requests==2.28', 'numpy==1.24']), requests, 'equal sizes: the most recently used');
  assert.equal(tree.match(['pandas==1.5']), root, 'pandas alone does not include numpy: the pandas Zygote holds more');
  assert.equal(tree.match(['flask==2.2']), root);
  assert.equal(tree.match([]), root);
});

test('match: versions are part of the key, so a different pin does not match', () => {
  const tree = new ZygoteTree();
  const root = ready(tree.add(null, [], 0));
  ready(tree.add(root, ['numpy==1.24'], 0));
  assert.equal(tree.match(['numpy==1.26']), root);
});

test('match: ties go to the most recently used; starting and dead Zygotes are not matched', () => {
  const tree = new ZygoteTree();
  const root = ready(tree.add(null, [], 0));
  const a = ready(tree.add(root, ['a==1'], 0));
  const b = ready(tree.add(root, ['b==1'], 0));
  tree.hit(a, 5);
  tree.hit(b, 9);
  assert.equal(tree.match(['a==1', 'b==1']), b);
  tree.hit(a, 10);
  assert.equal(tree.match(['a==1', 'b==1']), a);
  const starting = tree.add(root, ['a==1', 'b==1'], 11);
  assert.equal(tree.match(['a==1', 'b==1']), a, 'a Zygote still importing is not used');
  starting.state = 'ready';
  assert.equal(tree.match(['a==1', 'b==1']), starting);
  tree.remove(starting);
  assert.equal(tree.match(['a==1', 'b==1']), a);
  assert.equal(tree.match([]), root);
  assert.equal(new ZygoteTree().match([]), undefined);
});

test('grow: on a miss, after the configured number of misses, once per package set', () => {
  const tree = new ZygoteTree(2);
  const root = ready(tree.add(null, [], 0));
  assert.equal(tree.shouldGrow(root, []), false, 'an exact match never grows');
  assert.equal(tree.shouldGrow(root, ['x==1']), false, 'first miss');
  assert.equal(tree.shouldGrow(root, ['x==1']), true, 'second miss');
  tree.add(root, ['x==1'], 0); // being made
  assert.equal(tree.shouldGrow(root, ['x==1']), false, 'already being made');
  assert.equal(new ZygoteTree(1).shouldGrow(root, ['y==1']), true, 'growAfterMisses 1 grows on the first miss');
});

test('a child must hold all of its parent\'s packages', () => {
  const tree = new ZygoteTree();
  const root = tree.add(null, [], 0);
  const a = tree.add(root, ['a==1'], 0);
  assert.throws(() => tree.add(a, ['b==1'], 0), /every package of its parent/);
  assert.throws(() => tree.add(null, [], 0), /already has a root/);
});

test('evict: childless idle Zygotes by lowest hits per byte, never the root, until within budget', () => {
  const tree = new ZygoteTree();
  const root = ready(tree.add(null, [], 0));
  root.memoryBytes = 10;
  const a = ready(tree.add(root, ['a==1'], 0));
  a.memoryBytes = 100;
  a.hits = 50; // 0.5 hits/byte
  const b = ready(tree.add(root, ['b==1'], 0));
  b.memoryBytes = 100;
  b.hits = 10; // 0.1
  const ab = ready(tree.add(a, ['a==1', 'b==1'], 0));
  ab.memoryBytes = 100;
  ab.hits = 30; // 0.3
  assert.deepEqual(tree.evictions(1000), []);
  assert.deepEqual(tree.evictions(250).map((n) => n.id), [b.id]);
  // a has a child: ab goes before a even though a has fewer hits per byte than... a is not childless
  a.hits = 1;
  assert.deepEqual(tree.evictions(150).map((n) => n.id), [b.id, ab.id]);
  assert.deepEqual(tree.evictions(0).map((n) => n.id), [b.id, ab.id, a.id], 'the root is never evicted');
  b.busy = 1;
  assert.deepEqual(tree.evictions(250).map((n) => n.id), [ab.id], 'a busy Zygote is not evicted');
});

test('remove: children of a removed Zygote hang from its parent; counts stay right', () => {
  const tree = new ZygoteTree();
  const root = ready(tree.add(null, [], 0));
  const a = ready(tree.add(root, ['a==1'], 0));
  const ab = ready(tree.add(a, ['a==1', 'b==1'], 0));
  tree.remove(a);
  assert.equal(ab.parent, root);
  assert.ok(root.children.has(ab));
  assert.equal(tree.nodes.size, 2);
  assert.equal(a.state, 'dead');
  assert.equal(tree.match(['a==1']), root, 'requests for a dead Zygote fall back to its parent');
});
