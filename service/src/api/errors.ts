// The one place error codes become HTTP statuses, and the error body every route answers with:
// {"error": {"code", "message", "detail"?}}.

import type { ErrorBody, ErrorCode } from '../../../api';
import { SockpitError } from '../errors';

export const STATUS_OF: Record<ErrorCode, number> = {
  bad_request: 400,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  function_error: 422,
  overloaded: 429,
  internal: 500,
  instance_died: 502,
  unavailable: 503,
  timeout: 504,
  out_of_memory: 507,
  no_space: 507,
};

/** Turns anything thrown into a status and body. Fastify's own errors (parsing, limits) map to ours. */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof SockpitError) {
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    if (err.detail !== undefined) body.error.detail = err.detail;
    return { status: STATUS_OF[err.code], body };
  }
  const fastifyCode = (err as { code?: string })?.code;
  const statusCode = (err as { statusCode?: number })?.statusCode;
  const message = err instanceof Error ? err.message : String(err);
  if (fastifyCode === 'FST_ERR_CTP_BODY_TOO_LARGE') return { status: 413, body: { error: { code: 'too_large', message } } };
  if ((err as { validation?: unknown })?.validation !== undefined || (statusCode !== undefined && statusCode >= 400 && statusCode < 500)) {
    return { status: 400, body: { error: { code: 'bad_request', message } } };
  }
  return { status: 500, body: { error: { code: 'internal', message } } };
}
