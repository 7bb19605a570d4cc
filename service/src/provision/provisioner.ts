// Serves each invocation from the fastest tier that has what it needs, and records which:
//   warm: an idle, frozen instance of the same function version is thawed and reused;
//   cold: a fresh lean container with a fresh interpreter.
// (The zygote tier slots in between with the Zygotes issue.) After a call the instance is frozen and parked
// in the warm cache; idle instances are evicted least-recently-used under the memory budget and after a TTL.

import fs from 'node:fs';
import { EventEmitter } from 'node:events';
import { Config } from '../config';
import { SockpitError } from '../errors';
import { FunctionRecord, FunctionStore } from '../functions/store';
import { effectiveLimits } from '../functions/spec';
import { Phases, Sandbox, SandboxFactory } from '../sandbox/sandbox';
import { WarmCache } from './warm-cache';

export type Tier = 'warm' | 'cold';

export interface Invocation {
  function: string;
  version: number;
  tier: Tier;
  sandbox: string;
  /** true when f(event) returned; false when it raised or f.py failed to load (body is then the error) */
  ok: boolean;
  /** f.py itself failed to import */
  loadFailed: boolean;
  /** ok: the JSON result; otherwise {type, message, traceback} */
  body: Buffer;
  phases: Phases;
}

/** A call that failed after a tier was chosen (timeout, out of memory, the instance died): the API still
 *  reports which tier and sandbox it was, and how far it got. */
export class InvocationFailure extends SockpitError {
  constructor(
    cause: unknown,
    readonly tier: Tier,
    readonly sandbox: string,
    readonly phases: Phases,
  ) {
    const err = cause instanceof SockpitError ? cause : new SockpitError('internal', (cause as Error)?.message ?? String(cause), { cause });
    super(err.code, err.message, { errno: err.errno, op: err.op, path: err.path, detail: err.detail, cause });
  }
}

export interface ProvisionerEvents {
  invocation: [Invocation];
}

const SWEEP_INTERVAL_MS = 5_000;
/** an idle instance is frozen once no call came for it within this time */
const FREEZE_GRACE_MS = 50;

export class Provisioner extends EventEmitter<ProvisionerEvents> {
  private readonly warm: WarmCache<Sandbox>;
  private readonly sweeper: NodeJS.Timeout;
  private closing = false;

  constructor(
    private readonly factory: SandboxFactory,
    private readonly functions: FunctionStore,
    private readonly config: Config,
  ) {
    super();
    this.warm = new WarmCache(config.warm.memoryBudgetMb * 1024 * 1024, config.warm.idleTtlMs);
    this.sweeper = setInterval(() => this.destroyAll(this.warm.expire(Date.now())), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  stats(): { live: number; idle: number; idleMemoryBytes: number } {
    return { live: this.factory.live.size, idle: this.warm.size, idleMemoryBytes: this.warm.memoryBytes };
  }

  async invoke(name: string, event: Buffer): Promise<Invocation> {
    if (this.closing) throw new SockpitError('unavailable', 'sockpitd is shutting down');
    const fn = this.functions.get(name);
    if (!fn) throw new SockpitError('not_found', `no function named "${name}"`);
    const started = performance.now();
    const phases: Phases = {};
    let mark = started;
    const phase = (label: string) => {
      const now = performance.now();
      phases[label] = now - mark;
      mark = now;
    };

    let tier: Tier = 'warm';
    let sandbox = this.takeWarm(fn);
    if (sandbox) {
      phase(sandbox.thaw() ? 'thaw' : 'reuse');
    } else {
      tier = 'cold';
      sandbox = this.factory.prepare({ codeDir: fn.codeDir, environment: fn.environment, limits: effectiveLimits(this.config.limits, fn.limits) });
      phase('sandbox');
      try {
        sandbox.start();
      } catch (err) {
        await this.destroy(sandbox);
        throw err;
      }
      phase('spawn');
    }

    let reply;
    try {
      reply = await sandbox.call(event);
    } catch (err) {
      await this.destroy(sandbox);
      phases.total = performance.now() - started;
      throw new InvocationFailure(err, tier, sandbox.id, phases);
    }
    const roundTrip = performance.now() - mark;
    if (tier === 'cold') {
      // the instance reports how long it took to import f.py; the rest before the call is interpreter start-up
      phases.boot = Math.max(0, roundTrip - reply.loadMs - reply.execMs);
      phases.load = reply.loadMs;
    }
    phases.exec = reply.execMs;
    phases.total = performance.now() - started;
    this.park(sandbox, fn);

    const invocation: Invocation = {
      function: fn.name,
      version: fn.version,
      tier,
      sandbox: sandbox.id,
      ok: reply.status === 'ok',
      loadFailed: reply.status === 'load_error',
      body: reply.body,
      phases,
    };
    this.emit('invocation', invocation);
    return invocation;
  }

  /**
   * Drops idle instances of a function that is gone or was redeployed (their code is out of date), and the
   * old code snapshot once nothing runs it. Busy instances finish their call and are not parked.
   */
  async retire(name: string, oldCodeDir?: string): Promise<void> {
    const current = this.functions.get(name);
    const stale = this.warm.removeWhere((key) => key.startsWith(`${name}@`) && key !== (current && keyOf(current)));
    await this.destroyAll(stale);
    if (oldCodeDir) this.removeCodeIfUnused(oldCodeDir);
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.sweeper);
    this.warm.removeWhere(() => true);
    await this.factory.destroyAll();
  }

  private takeWarm(fn: FunctionRecord): Sandbox | null {
    for (;;) {
      const sandbox = this.warm.take(keyOf(fn));
      if (!sandbox) return null;
      if (sandbox.alive) return sandbox;
      void this.destroy(sandbox);
    }
  }

  /** Freezes a sandbox after its call and keeps it for the warm tier, unless it must not be reused: the
   *  daemon is closing, the function was redeployed, or the call left processes behind (a fork bomb's
   *  children would otherwise wake up again with the next call). */
  private park(sandbox: Sandbox, fn: FunctionRecord): void {
    if (this.closing || !sandbox.alive || this.functions.get(fn.name)?.version !== fn.version || sandbox.processCount() > 1) {
      void this.destroy(sandbox);
      return;
    }
    try {
      sandbox.freezeWhenIdle(FREEZE_GRACE_MS);
      void this.destroyAll(this.warm.put(sandbox, keyOf(fn), sandbox.memoryBytes(), Date.now()));
    } catch {
      void this.destroy(sandbox);
    }
  }

  private async destroyAll(sandboxes: Sandbox[]): Promise<void> {
    await Promise.all(sandboxes.map((s) => this.destroy(s)));
  }

  /** Destroys a sandbox; once no sandbox uses an out-of-date code snapshot any more, removes it too. */
  private async destroy(sandbox: Sandbox): Promise<void> {
    this.warm.remove(sandbox);
    try {
      await sandbox.destroy();
    } catch (err) {
      process.emitWarning(`sockpitd: destroying sandbox ${sandbox.id} failed: ${(err as Error).message}`);
    }
    this.removeCodeIfUnused(sandbox.spec.codeDir);
  }

  private removeCodeIfUnused(codeDir: string): void {
    const inUse = [...this.factory.live].some((s) => s.spec.codeDir === codeDir);
    const current = this.functions.list().some((f) => f.codeDir === codeDir);
    if (!inUse && !current) fs.rmSync(codeDir, { recursive: true, force: true });
  }
}

function keyOf(fn: FunctionRecord): string {
  return `${fn.name}@${fn.version}`;
}
