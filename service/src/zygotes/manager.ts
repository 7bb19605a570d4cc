// The Zygote tier: keeps the lineage of Zygote processes (tree.ts decides, this file does), serves instances
// from the best match (its spare, or a fork), grows the tree on misses, evicts under the memory budget, and
// survives Zygote deaths: a request whose Zygote died falls back to its parent, and the base is started again
// when needed. Spares (spare.ts) are made once a call's clean-up is due (provisioner.ts, afterResponse), each in
// a sandbox of its own.
//
// Below the tree sits the first Zygote, which the daemon spawns: PID 1 of the namespace every Zygote lives in
// (zygote.py says why there must be one). It is never asked for instances, imports nothing and forks only
// base Zygotes, so no function's package ever runs in it; when it dies, the kernel ends every Zygote with it
// and the next request starts it again.

import fs from 'node:fs';
import type { ZygoteInfo, ZygoteStats } from '../../../api';
import * as native from '../../../native';
import { FunctionLimits } from '../config';
import { SockpitError } from '../errors';
import { instanceEnvironment, Sandbox, SandboxFactory, SandboxSpec } from '../sandbox/sandbox';
import type { EventBus } from '../telemetry/events';
import { BytecodeCache } from '../functions/bytecode';
import type { PackageRef } from '../functions/store';
import { ZygoteNode, ZygoteTree } from './tree';
import type { ProcessHandle } from '../sandbox/process';
import { Spare } from './spare';
import { ForkRequest, ZygoteProcess } from './zygote';

export type { ZygoteInfo, ZygoteStats } from '../../../api';


export interface ZygoteManagerOptions {
  budgetBytes: number;
  growAfterMisses: number;
  timeoutMs: number;
  /** limits of a Zygote's own sandbox */
  limits: FunctionLimits;
  /** limits a spare's sandbox is made with (a function's defaults: most calls then change none) */
  spareLimits: FunctionLimits;
}

export interface ForkedInstance {
  /** the new instance's sandbox, now the caller's */
  sandbox: Sandbox;
  zygote: string;
  /** ms spent preparing the sandbox (or giving a spare's to the function) */
  sandboxMs: number;
  /** ms spent growing the tree first, when it grew */
  growMs?: number;
}

/** an idle Zygote is frozen once no fork came for it within this time */
const FREEZE_GRACE_MS = 200;
/** how often a request for one function may fall back to a parent before giving up on the tier */
const MAX_FALLBACKS = 8;

type Node = ZygoteNode<ZygoteProcess>;

export class ZygoteManager {
  readonly tree: ZygoteTree<ZygoteProcess>;
  private rootStarting: Promise<Node> | null = null;
  /** the first Zygote (not in the tree), and its start when one is under way */
  private first: ZygoteProcess | null = null;
  private firstStarting: Promise<ZygoteProcess> | null = null;
  private closed = false;
  /** what a spare gets with its function, so it does not read f.py's .pyc itself */
  private readonly bytecode = new BytecodeCache();

  constructor(
    private readonly factory: SandboxFactory,
    private readonly opts: ZygoteManagerOptions,
    private readonly bus: EventBus | null = null,
  ) {
    this.tree = new ZygoteTree(opts.growAfterMisses);
  }

  async start(): Promise<void> {
    await this.ensureRoot();
  }

  /**
   * An instance for a function, in a sandbox of `spec`, from the best Zygote (growing the tree first when the
   * policy says so): the Zygote's spare when it has one, else forked now. `event`, when given, is sent to the
   * instance as soon as it exists: it waits in the channel while the instance gets ready, and sandbox.call()
   * only waits for the reply. Throws when the tier can't serve it, leaving nothing behind; the caller falls
   * back to cold.
   */
  async forkInstance(fn: string, packages: PackageRef[], spec: SandboxSpec, event?: Buffer): Promise<ForkedInstance> {
    const want = packages.map((p) => p.key);
    let growMs: number | undefined;
    for (let attempt = 0; attempt < MAX_FALLBACKS; attempt++) {
      let node = this.tree.match(want) ?? (await this.ensureRoot());
      if (this.tree.shouldGrow(node, want)) {
        const started = performance.now();
        try {
          node = await this.grow(node, packages);
          growMs = performance.now() - started;
        } catch {
          // a package whose import fails or hangs: the instance imports it itself, from the best match
        }
      }
      try {
        const { sandbox, sandboxMs } = await this.forkInto(node, fn, spec, event);
        // the tree grew: bring it back within its budget, off this call's path
        if (growMs !== undefined) this.evict().catch((e) => console.error(`sockpitd: Zygote eviction failed: ${(e as Error).message}`));
        return { sandbox, zygote: node.id, sandboxMs, growMs };
      } catch (err) {
        if (node.process?.alive) throw err; // the request itself failed; another Zygote would fail alike
        this.onDeath(node, 'died while forking'); // fall back to its parent on the next round
      }
    }
    throw new SockpitError('unavailable', 'no Zygote could fork an instance');
  }

  snapshot(): ZygoteInfo[] {
    return [...this.tree.nodes.values()].map((n) => ({
      id: n.id,
      parent: n.parent?.id ?? null,
      packages: [...n.packages].sort(),
      state: n.state === 'starting' ? 'starting' : n.state === 'dead' ? 'dead' : n.process?.sandbox.frozen ? 'frozen' : 'running',
      pid: n.process?.pid ?? null,
      hits: n.hits,
      memoryBytes: n.memoryBytes,
      children: [...n.children].map((c) => c.id),
      functions: [...n.functions].sort(),
      lastUsed: new Date(n.lastUsed).toISOString(),
    }));
  }

  /** count and memory: the tree's Zygotes; processes: those, their spares and the first Zygote: every process of the tier */
  stats(): ZygoteStats {
    const zygotes = [...this.tree.nodes.values()].map((n) => n.process).filter((p) => p?.alive);
    const processes = zygotes.reduce((sum, p) => sum + 1 + p!.spareCount, 0) + (this.first?.alive ? 1 : 0);
    return { count: this.tree.nodes.size, memoryBytes: this.tree.memoryBytes(), processes };
  }

  /** Kills every Zygote and destroys their sandboxes. */
  async close(): Promise<void> {
    this.closed = true;
    const nodes = [...this.tree.nodes.values()];
    for (const node of nodes) this.tree.remove(node);
    const processes = [...nodes.map((n) => n.process), this.first].filter((p): p is ZygoteProcess => p !== null && p !== undefined);
    this.first = null;
    await Promise.all(processes.map(async (p) => (p.kill(), await p.sandbox.destroy())));
  }

  private ensureRoot(): Promise<Node> {
    const root = this.tree.root;
    if (root?.state === 'ready') return Promise.resolve(root);
    this.rootStarting ??= this.startRoot().finally(() => (this.rootStarting = null));
    return this.rootStarting;
  }

  private async startRoot(): Promise<Node> {
    if (this.closed) throw new SockpitError('unavailable', 'the Zygote tier is closed');
    const first = await this.ensureFirst();
    return this.forkZygote(first, this.tree.add(null, [], Date.now()), [], []);
  }

  private ensureFirst(): Promise<ZygoteProcess> {
    if (this.first?.alive) return Promise.resolve(this.first);
    this.firstStarting ??= this.startFirst().finally(() => (this.firstStarting = null));
    return this.firstStarting;
  }

  private async startFirst(): Promise<ZygoteProcess> {
    if (this.closed) throw new SockpitError('unavailable', 'the Zygote tier is closed');
    // it makes the Zygotes' user namespace as it starts, and a network namespace owned by it
    const sandbox = await this.factory.prepare({ codeDir: null, paths: [], environment: {}, limits: this.opts.limits }, 'own');
    let process: ZygoteProcess;
    try {
      const started = this.factory.startZygote(sandbox);
      process = new ZygoteProcess(started.process, started.channelFd, started.outputFd, sandbox, this.opts.timeoutMs);
      // every other sandbox of the tier gets a network namespace owned by that user namespace: only those can
      // its root (the Zygotes, root there and nowhere else) join for what it forks
      if (this.factory.isolated) this.factory.setZygoteUserns(fs.openSync(`/proc/${started.process.pid}/ns/user`, 'r'));
    } catch (err) {
      await sandbox.destroy();
      throw err;
    }
    void process.exited().then(() => {
      if (this.first === process) {
        this.first = null;
        this.factory.setZygoteUserns(null); // its user namespace is gone with every Zygote in it
      }
      void sandbox.destroy();
    });
    try {
      await process.ready;
    } catch (err) {
      process.kill();
      throw err;
    }
    if (this.closed) {
      process.kill();
      throw new SockpitError('unavailable', 'the Zygote tier is closed');
    }
    this.first = process;
    sandbox.freezeWhenIdle(FREEZE_GRACE_MS);
    return process;
  }

  /** A child of `parent` that imports what `packages` has beyond the parent's set. */
  private grow(parent: Node, packages: PackageRef[]): Promise<Node> {
    if (!parent.process) return Promise.reject(new SockpitError('internal', `Zygote ${parent.id} has no process`));
    const missing = packages.filter((p) => !parent.packages.has(p.key));
    const node = this.tree.add(parent, packages.map((p) => p.key), Date.now());
    return this.forkZygote(parent.process, node, packages.map((p) => p.sandboxPath), missing.flatMap((p) => p.topLevel), parent);
  }

  /** Forks the Zygote of `node` (just added to the tree) from `from`, which imports `imports` on `paths`. */
  private async forkZygote(from: ZygoteProcess, node: Node, paths: string[], imports: string[], parent: Node | null = null): Promise<Node> {
    const sandbox = await this.factory.prepare({ codeDir: null, paths, environment: {}, limits: this.opts.limits }, 'zygote');
    const [controlParent, controlChild] = native.socketpair();
    const [outputRead, outputWrite] = native.pipe();
    let process: ZygoteProcess | undefined;
    try {
      const forked = await this.fork(from, parent, sandbox, [controlChild, outputWrite], {
        kind: 'zygote',
        paths: sandbox.spec.paths,
        imports,
        uid: 0,
        gid: 0,
        hostname: 'sockpit-zygote',
      });
      process = new ZygoteProcess(forked.process, controlParent, outputRead, sandbox, this.opts.timeoutMs, null);
    } catch (err) {
      if (!process) {
        fs.closeSync(controlParent);
        fs.closeSync(outputRead);
      }
      this.tree.remove(node);
      this.bus?.publish({ type: 'zygote', action: 'died', id: node.id, parent: parent?.id ?? null, packages: [...node.packages], reason: (err as Error).message });
      await sandbox.destroy();
      throw err;
    }
    node.process = process;
    this.watch(node);
    return this.becomeReady(node);
  }

  /** An instance of `fn` from the Zygote of `node`: its spare, or a fork. On failure its sandbox is destroyed. */
  private async forkInto(node: Node, fn: string, spec: SandboxSpec, event?: Buffer): Promise<{ sandbox: Sandbox; sandboxMs: number }> {
    const zygote = node.process!;
    const started = performance.now();
    // spares run in namespaces with egress: a `network: none` function gets a fork into a bare one
    const spare = spec.network === 'none' ? null : await zygote.takeSpare();
    const sandbox = spare ? spare.sandbox : await this.factory.prepare(spec, 'zygote');
    if (spare) {
      try {
        sandbox.assign(spec);
      } catch (err) {
        spare.close(); // and its sandbox with it
        throw err;
      }
    }
    const sandboxMs = performance.now() - started;
    const env = instanceEnvironment(spec);
    if (spare) {
      // nothing to wait for: the environment and the event wait in the channel for the spare to wake up
      sandbox.adopt(spare.take(env, spec.codeDir === null ? null : this.bytecode.of(spec.codeDir)));
      if (event) sandbox.sendAhead(event);
    } else {
      const request: ForkRequest = { kind: 'instance', paths: spec.paths, env, uid: this.factory.uid, gid: this.factory.gid, hostname: 'sockpit' };
      try {
        await this.forkNew(zygote, node, sandbox, request, event);
      } catch (err) {
        await sandbox.destroy();
        throw err;
      }
    }
    this.tree.hit(node, Date.now(), fn);
    this.bus?.publish({
      type: 'zygote',
      action: 'forked',
      id: node.id,
      parent: node.parent?.id ?? null,
      packages: [...node.packages],
      child: { kind: 'instance', id: sandbox.id, function: fn },
    });
    return { sandbox, sandboxMs };
  }

  /**
   * Forks an instance (or a spare) into `sandbox`, which adopts it as soon as it is known; `event` is sent to
   * it then, ahead of its readiness. Resolves once it is ready.
   */
  private async forkNew(zygote: ZygoteProcess, node: Node, sandbox: Sandbox, request: ForkRequest, event?: Buffer): Promise<void> {
    const [channelParent, channelChild] = native.socketpair();
    const [outputRead, outputWrite] = native.pipe();
    const adopt = (process: ProcessHandle) => {
      sandbox.adopt(this.factory.instance(process, channelParent, outputRead));
      if (event) sandbox.sendAhead(event);
    };
    try {
      await this.fork(zygote, node, sandbox, [channelChild, outputWrite], request, adopt);
    } catch (err) {
      if (!sandbox.instance) {
        fs.closeSync(channelParent);
        fs.closeSync(outputRead);
      }
      throw err;
    }
  }

  /**
   * A spare from the Zygote of `node`: an instance forked into a sandbox with no function yet (spare.ts);
   * null when it can't be made.
   */
  private async forkSpare(node: Node): Promise<Spare | null> {
    const zygote = node.process;
    if (!zygote?.alive || this.closed) return null;
    let sandbox: Sandbox;
    try {
      sandbox = await this.factory.prepare({ codeDir: null, paths: [], environment: {}, limits: this.opts.spareLimits }, 'zygote');
    } catch {
      return null; // the pool is exhausted, say: calls come first
    }
    try {
      await this.forkNew(zygote, node, sandbox, { kind: 'spare', paths: [], uid: this.factory.uid, gid: this.factory.gid, hostname: 'sockpit' });
      return new Spare(sandbox.instance!, sandbox);
    } catch {
      await sandbox.destroy();
      return null;
    }
  }

  /**
   * One fork request to `process` (the Zygote of `node`, or the first Zygote when node is null): sends
   * [...ends, root, network namespace (when isolated), cgroup join files] and closes our copies (the network
   * namespace stays the sandbox's). `onProcess`: ZygoteProcess.fork.
   */
  private async fork(process: ZygoteProcess, node: Node | null, sandbox: Sandbox, ends: number[], request: ForkRequest, onProcess?: (p: ProcessHandle) => void) {
    const root = fs.openSync(sandbox.dirs.root, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    const join = this.factory.joinFdsOf(sandbox.cgroup);
    try {
      const members = () => this.factory.driver.members(sandbox.cgroup);
      const netns = sandbox.netns ? [sandbox.netns.fd] : [];
      const fds = [...ends, root, ...netns, ...join];
      return await this.thawedFor(process, node, () => process.fork({ ...request, netns: sandbox.netns ? 1 : 0 }, fds, join.length, members, onProcess));
    } finally {
      for (const fd of [...ends, root]) fs.closeSync(fd);
    }
  }

  /**
   * Has every Zygote that serves instances and is short of spares fork more. The provisioner calls this once
   * a call is answered: forks beside the call would slow it down, and a call that comes while a spare is on
   * its way waits for it (ZygoteProcess.takeSpare).
   */
  refillSpares(): void {
    for (const node of this.tree.nodes.values()) {
      const process = node.process;
      // only those short of spares are thawed for it: the others may stay frozen
      if (node.state !== 'ready' || !process?.needsSpares) continue;
      // a spare that can't be made now is tried again after the next call; calls fork without one meanwhile
      this.thawedFor(process, node, () => process.refillSpares(() => this.forkSpare(node))).catch(() => {});
    }
  }

  /** Runs `work` with the Zygote thawed; freezes it again once it is idle. */
  private async thawedFor<T>(process: ZygoteProcess, node: Node | null, work: () => Promise<T>): Promise<T> {
    if (node) node.busy++;
    try {
      process.sandbox.thaw();
      return await work();
    } finally {
      if (node) node.busy--;
      if ((node?.busy ?? 0) === 0 && process.alive) process.sandbox.freezeWhenIdle(FREEZE_GRACE_MS);
    }
  }

  private becomeReady(node: Node): Node {
    node.state = 'ready';
    node.memoryBytes = this.memoryOf(node);
    node.process?.sandbox.freezeWhenIdle(FREEZE_GRACE_MS);
    this.bus?.publish({ type: 'zygote', action: 'created', id: node.id, parent: node.parent?.id ?? null, packages: [...node.packages] });
    if (node.parent) {
      this.tree.hit(node.parent, Date.now());
      this.bus?.publish({
        type: 'zygote',
        action: 'forked',
        id: node.parent.id,
        parent: node.parent.parent?.id ?? null,
        packages: [...node.parent.packages],
        child: { kind: 'zygote', id: node.id },
      });
    }
    return node;
  }

  private watch(node: Node): void {
    void node.process?.exited().then(() => {
      if (this.tree.nodes.get(node.id) === node) this.onDeath(node, 'its process exited');
    });
  }

  private onDeath(node: Node, reason: string): void {
    if (this.tree.nodes.get(node.id) !== node) return;
    this.tree.remove(node);
    node.process?.kill();
    void node.process?.sandbox.destroy();
    this.bus?.publish({ type: 'zygote', action: 'died', id: node.id, parent: node.parent?.id ?? null, packages: [...node.packages], reason });
  }

  /** Refreshes the memory of every Zygote and evicts what the budget can't hold. */
  private async evict(): Promise<void> {
    for (const node of this.tree.nodes.values()) node.memoryBytes = this.memoryOf(node);
    const victims = this.tree.evictions(this.opts.budgetBytes);
    for (const node of victims) {
      this.tree.remove(node);
      this.bus?.publish({ type: 'zygote', action: 'evicted', id: node.id, parent: node.parent?.id ?? null, packages: [...node.packages] });
    }
    await Promise.all(victims.map(async (n) => n.process && (n.process.kill(), await n.process.sandbox.destroy())));
  }

  private memoryOf(node: Node): number {
    try {
      return node.process ? node.process.sandbox.memoryBytes() : 0;
    } catch {
      return 0;
    }
  }
}
