import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../service/src/client';
import type { FollowOptions } from '../../service/src/client/telemetry';
import type { ConnectionState, Published } from '../bridge';
import { CHANNELS } from '../bridge';
import { LinkClient, ServiceLink, toBridgeError } from './service-link';

/** A daemon that can be up or down, and pushes events to whoever follows. */
class FakeDaemon {
  up = true;
  pid = 100;
  follows: FollowOptions[] = [];
  private push: ((e: Published) => void) | null = null;
  private end: (() => void) | null = null;

  client(): LinkClient {
    const err = () => Object.assign(new Error('connect ENOENT /x.sock'), { code: 'ENOENT' });
    return {
      socketPath: '/x.sock',
      status: async () => {
        if (!this.up) throw err();
        return { pid: this.pid } as Awaited<ReturnType<LinkClient['status']>>;
      },
      followEvents: (onEvent, opts = {}) => {
        if (!this.up) return Promise.reject(err());
        this.follows.push(opts);
        return new Promise<void>((resolve) => {
          this.push = onEvent;
          this.end = resolve;
          opts.signal?.addEventListener('abort', () => resolve());
        });
      },
    };
  }

  emit(seq: number): void {
    this.push?.({ type: 'invocation', seq, at: new Date().toISOString() } as unknown as Published);
  }

  /** the daemon stops (its stream ends) */
  stop(): void {
    this.up = false;
    this.end?.();
  }
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 3000; !check(); ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function harness(daemon: FakeDaemon) {
  const sent: Array<{ channel: string; payload: unknown }> = [];
  const link = new ServiceLink(daemon.client(), { send: (channel, payload) => sent.push({ channel, payload }), minDelayMs: 5, maxDelayMs: 20 });
  const states = () => sent.filter((m) => m.channel === CHANNELS.connection).map((m) => (m.payload as ConnectionState).state);
  const seqs = () => sent.filter((m) => m.channel === CHANNELS.event).map((m) => (m.payload as Published).seq);
  return { link, sent, states, seqs };
}

test('forwards events once connected, reports a disconnect and reconnects, resuming after the last event', async () => {
  const daemon = new FakeDaemon();
  const { link, states, seqs } = harness(daemon);
  link.start();
  await until(() => daemon.follows.length === 1, 'the first subscription');
  assert.deepEqual(states(), ['connected']);
  daemon.emit(1);
  daemon.emit(2);
  assert.deepEqual(seqs(), [1, 2]);
  assert.equal(daemon.follows[0].since, undefined);

  // a blip of the same daemon process: resume after seq 2
  daemon.stop();
  await until(() => states().length === 2, 'the disconnect');
  assert.equal(link.state.state, 'disconnected');
  daemon.up = true;
  await until(() => daemon.follows.length === 2, 'the resubscription');
  assert.equal(daemon.follows[1].since, 2);
  assert.deepEqual(states(), ['connected', 'disconnected', 'connected']);

  // a new daemon process numbers its events afresh: no `since`
  daemon.stop();
  await until(() => states().length === 4, 'the second disconnect');
  daemon.pid = 200;
  daemon.up = true;
  await until(() => daemon.follows.length === 3, 'the subscription to the new daemon');
  assert.equal(daemon.follows[2].since, undefined);
  await link.stop();
});

test('a daemon that is not there: one disconnected state, not one per retry', async () => {
  const daemon = new FakeDaemon();
  daemon.up = false;
  const { link, states } = harness(daemon);
  link.start();
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(states(), ['disconnected']);
  assert.match((link.state as { reason: string }).reason, /Can't reach sockpitd at \/x\.sock \(ENOENT\)/);
  await link.stop();
});

test('errors keep the API code, status and detail in the envelope', () => {
  assert.deepEqual(toBridgeError(new ApiError(404, 'not_found', 'no function x', { name: 'x' }), '/s'), {
    name: 'ApiError',
    message: 'no function x',
    code: 'not_found',
    status: 404,
    detail: { name: 'x' },
  });
  assert.equal(toBridgeError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), '/s').code, 'unavailable');
  assert.deepEqual(toBridgeError(new TypeError('bad'), '/s'), { name: 'TypeError', message: 'bad' });
});

test('the preload needs nothing but electron at run time (it runs sandboxed)', async () => {
  const fs = await import('node:fs');
  const source = fs.readFileSync(`${__dirname}/preload.ts`, 'utf8');
  const runtimeImports = [...source.matchAll(/^import\s+(?!type\b)[^;]*?from\s+'([^']+)'/gm)].map((m) => m[1]);
  assert.deepEqual(runtimeImports, ['electron']);
});
