// Serves each invocation from the fastest tier that has what it needs, and records which:
//   warm:   an idle (frozen) instance of the same function version is thawed and reused;
//   zygote: a fresh sandbox whose instance is forked from the best Zygote (zygotes/manager.ts);
//   cold:   a fresh sandbox with a fresh interpreter (also the path when Zygotes are off or fail).
// After a call the instance is parked in the warm cache (frozen once idle); idle instances are evicted
// least-recently-used under the memory budget and after a TTL. What a call leaves to clean up (a sandbox to
// destroy, spares to replace) waits a few ms after its response (afterResponse).

import fs from 'node:fs';
import { Config } from '../config';
import { ErrorCode, SockpitError } from '../errors';
import { STATUS_OF } from '../api/errors';
import type { EventBus, Tier } from '../telemetry/events';
import type { ForkedInstance, ZygoteManager } from '../zygotes/manager';
import { FunctionRecord, FunctionStore } from '../functions/store';
import { callLimits } from '../functions/spec';
import { Phases, Sandbox, SandboxFactory } from '../sandbox/sandbox';
import { WarmCache } from './warm-cache';

export type { Tier };

export interface Invocation {
  function: string;
  version: number;
  tier: Tier;
  sandbox: string;
  /** the Zygote the instance was forked from (zygote tier) */
  zygote: string | null;
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
    readonly zygote: string | null,
    readonly phases: Phases,
  ) {
    const err = cause instanceof SockpitError ? cause : new SockpitError('internal', (cause as Error)?.message ?? String(cause), { cause });
    super(err.code, err.message, { errno: err.errno, op: err.op, path: err.path, detail: err.detail, cause });
  }
}

const SWEEP_INTERVAL_MS = 5_000;
/** an idle instance is frozen once no call came for it within this time */
const FREEZE_GRACE_MS = 50;
/**
 * How long after its response a call's clean-up starts. Destroying a sandbox (kill, unmount, cgroup reset)
 * and forking new spares keep two or three processes busy for 3-5 ms; started at once, they take the CPUs
 * the caller needs to read its response. Measured side by side on this 2-vCPU VM: a Zygote hit answered
 * 0.45 ms sooner end to end with the clean-up 3, 6 or 12 ms later (2.65-2.75 vs 3.10-3.15 ms p50).
 */
const AFTER_RESPONSE_DELAY_MS = 5;

export class Provisioner {
  private readonly warm: WarmCache<Sandbox>;
  private readonly sweeper: NodeJS.Timeout;
  private closing = false;
  /** calls in progress, for admission control */
  private inFlight = 0;
  /** clean-up waiting to start (afterResponse), run at once when the daemon closes */
  private readonly pendingWork = new Map<NodeJS.Timeout, () => void>();

  constructor(
    private readonly factory: SandboxFactory,
    private readonly functions: FunctionStore,
    private readonly config: Config,
    private readonly zygotes: ZygoteManager | null = null,
    private readonly bus: EventBus | null = null,
  ) {
    this.warm = new WarmCache(config.warm.memoryBudgetMb * 1024 * 1024, config.warm.idleTtlMs);
    this.sweeper = setInterval(() => this.destroyAll(this.warm.expire(Date.now())), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  /** live: function instances (Zygotes' own sandboxes are counted by the Zygote tier) */
  stats(): { live: number; idle: number; idleMemoryBytes: number } {
    const live = [...this.factory.live].filter((s) => s.spec.codeDir !== null).length;
    return { live, idle: this.warm.size, idleMemoryBytes: this.warm.memoryBytes };
  }

  async invoke(name: string, event: Buffer): Promise<Invocation> {
    if (this.closing) throw new SockpitError('unavailable', 'sockpitd is shutting down');
    const fn = this.functions.get(name);
    if (!fn) throw new SockpitError('not_found', `no function named "${name}"`);
    if (this.inFlight >= this.config.maxConcurrentCalls) {
      throw new SockpitError('overloaded', `sockpitd is serving ${this.inFlight} calls, its limit: try again shortly`);
    }
    this.inFlight++;
    try {
      return await this.serve(fn, event);
    } finally {
      this.inFlight--;
      // Zygotes replace the spares this call used after its response: forks beside the call would slow it down
      this.afterResponse(() => {
        if (!this.closing) this.zygotes?.refillSpares();
      });
    }
  }

  private async serve(fn: FunctionRecord, event: Buffer): Promise<Invocation> {
    const started = performance.now();
    const phases: Phases = {};
    let mark = started;
    const phase = (label: string) => {
      const now = performance.now();
      phases[label] = now - mark;
      mark = now;
    };

    let tier: Tier = 'warm';
    let zygote: string | null = null;
    let sandbox = this.takeWarm(fn);
    if (sandbox) {
      phase(sandbox.thaw() ? 'thaw' : 'reuse');
    } else {
      const spec = {
        codeDir: fn.codeDir,
        paths: fn.packages.map((p) => p.sandboxPath),
        environment: fn.environment,
        limits: callLimits(this.config.limits, fn.limits, this.config.limits.max),
        network: fn.network,
      };
      let forked: ForkedInstance | null = null;
      if (this.zygotes) {
        try {
          forked = await this.zygotes.forkInstance(fn.name, fn.packages, spec, event);
        } catch (err) {
          // the tier could not serve it (and left nothing behind): a cold start
          console.error(`sockpitd: the Zygote tier could not serve ${fn.name}, starting it cold: ${(err as Error).message}`);
        }
      }
      if (forked) {
        tier = 'zygote';
        zygote = forked.zygote;
        sandbox = forked.sandbox;
        phases.sandbox = forked.sandboxMs;
        if (forked.growMs !== undefined) phases.grow = forked.growMs;
        phase('fork');
        phases.fork -= forked.sandboxMs + (forked.growMs ?? 0);
      } else {
        sandbox = await this.factory.prepare(spec);
        phase('sandbox');
        tier = 'cold';
        try {
          sandbox.start();
        } catch (err) {
          await this.destroy(sandbox);
          throw err;
        }
        phase('spawn');
      }
    }

    let reply;
    try {
      reply = await sandbox.call(event);
    } catch (err) {
      await this.destroy(sandbox);
      phases.total = performance.now() - started;
      const failure = new InvocationFailure(err, tier, sandbox.id, zygote, phases);
      this.publish(fn, failure, STATUS_OF[failure.code], failure.code);
      throw failure;
    }
    const roundTrip = performance.now() - mark;
    if (tier === 'cold') {
      // the instance reports how long it took to import f.py; the rest before the call is interpreter start-up
      phases.boot = Math.max(0, roundTrip - reply.loadMs - reply.execMs);
    }
    if (tier !== 'warm') phases.load = reply.loadMs;
    phases.exec = reply.execMs;
    phases.total = performance.now() - started;

    const invocation: Invocation = {
      function: fn.name,
      version: fn.version,
      tier,
      sandbox: sandbox.id,
      zygote,
      ok: reply.status === 'ok',
      loadFailed: reply.status === 'load_error',
      body: reply.body,
      phases,
    };
    // Parking (cgroup reads) and the event are no part of the caller's wait: they run once the response is
    // written, and still before the daemon reads another request; a teardown waits longer (afterResponse).
    const parked = sandbox;
    setImmediate(() => {
      this.park(parked, fn);
      this.publish(fn, invocation, invocation.ok ? 200 : 422, invocation.ok ? null : 'function_error');
    });
    return invocation;
  }

  private publish(
    fn: FunctionRecord,
    run: { tier: Tier; sandbox: string; zygote: string | null; phases: Phases },
    status: number,
    error: ErrorCode | null,
  ): void {
    this.bus?.publish({
      type: 'invocation',
      function: fn.name,
      version: fn.version,
      tier: run.tier,
      zygote: run.zygote,
      sandbox: run.sandbox,
      status,
      error,
      phases: run.phases,
    });
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
    for (const [timer, work] of this.pendingWork) {
      clearTimeout(timer);
      work();
    }
    this.pendingWork.clear();
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
      this.afterResponse(() => void this.destroy(sandbox));
      return;
    }
    try {
      sandbox.freezeWhenIdle(FREEZE_GRACE_MS);
      const evicted = this.warm.put(sandbox, keyOf(fn), sandbox.memoryBytes(), Date.now());
      if (evicted.length > 0) this.afterResponse(() => void this.destroyAll(evicted));
      // an idle instance that dies (killed from outside) gives its sandbox back at once, not at its next call
      void sandbox.instance?.exited().then(() => {
        if (this.warm.remove(sandbox)) void this.destroy(sandbox);
      });
    } catch {
      void this.destroy(sandbox);
    }
  }

  /** Runs `work` AFTER_RESPONSE_DELAY_MS from now, or when the daemon closes, whichever comes first. */
  private afterResponse(work: () => void): void {
    if (this.closing) return work();
    const timer = setTimeout(() => {
      this.pendingWork.delete(timer);
      work();
    }, AFTER_RESPONSE_DELAY_MS);
    this.pendingWork.set(timer, work);
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

  private removeCodeIfUnused(codeDir: string | null): void {
    if (codeDir === null) return;
    const inUse = [...this.factory.live].some((s) => s.spec.codeDir === codeDir);
    const current = this.functions.list().some((f) => f.codeDir === codeDir);
    if (!inUse && !current) fs.rmSync(codeDir, { recursive: true, force: true });
  }
}

function keyOf(fn: FunctionRecord): string {
  return `${fn.name}@${fn.version}`;
}
