import { test } from 'node:test';
import assert from 'node:assert/strict';
import { toErrorResponse } from './errors';
import { SockpitError } from '../errors';

test('daemon errors keep their code, message and detail', () => {
  const { status, body } = toErrorResponse(new SockpitError('out_of_memory', 'hit 64 MB', { detail: { limitMb: 64 } }));
  assert.equal(status, 507);
  assert.deepEqual(body, { error: { code: 'out_of_memory', message: 'hit 64 MB', detail: { limitMb: 64 } } });
  assert.equal(toErrorResponse(new SockpitError('timeout', 't')).status, 504);
  assert.equal(toErrorResponse(new SockpitError('function_error', 'raised')).status, 422);
});

test('framework errors map to 400 and 413; anything else is a 500 without detail', () => {
  assert.equal(toErrorResponse(Object.assign(new Error('big'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 })).status, 413);
  assert.equal(toErrorResponse(Object.assign(new Error('bad'), { validation: [] })).status, 400);
  assert.equal(toErrorResponse(Object.assign(new Error('bad json'), { statusCode: 400 })).status, 400);
  const internal = toErrorResponse(new TypeError('oops'));
  assert.equal(internal.status, 500);
  assert.equal(internal.body.error.code, 'internal');
});
