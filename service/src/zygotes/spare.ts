// A spare seen from the daemon (service/runtime/zygote.py, "spare"): an instance a Zygote forked ahead of its
// request into a sandbox of its own, with no function in it yet, set up and waiting on its channel. For a call
// the sandbox gets the function (its code, its limits) and the instance its environment, right before the
// call: one process woken, little left for it to do.

import type { Instance } from '../sandbox/instance';
import type { Sandbox } from '../sandbox/sandbox';

export class Spare {
  private state: 'waiting' | 'taken' | 'closed' = 'waiting';

  /**
   * Takes ownership of the spare's instance and its sandbox, which is destroyed when the spare exits before it
   * was taken (after that, both are the taker's).
   */
  constructor(
    readonly instance: Instance,
    readonly sandbox: Sandbox,
  ) {
    void instance.exited().then(() => {
      if (this.state === 'taken') return;
      this.state = 'closed';
      void sandbox.destroy();
    });
  }

  /** false too once its sandbox lost its egress path (Sandbox.alive): close() it */
  get alive(): boolean {
    return this.state === 'waiting' && this.instance.alive && this.sandbox.alive;
  }

  /**
   * Makes the spare the instance of a function whose code and limits its sandbox now has (Sandbox.assign):
   * sends the function's environment and f.py's bytecode (null: the spare reads f.py), with the call the
   * caller sends next. Once.
   */
  take(env: Record<string, string>, bytecode: Buffer | null): Instance {
    this.state = 'taken';
    this.instance.setUp(env, bytecode);
    return this.instance;
  }

  /** Ends a spare that is no longer wanted (its Zygote died, or the tier closes); its sandbox goes with it. */
  close(): void {
    if (this.state !== 'waiting') return;
    this.state = 'closed';
    this.instance.kill();
  }
}
