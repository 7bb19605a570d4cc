// The one error type of the daemon. Every failure that can reach a caller is a SockpitError with a code from
// ErrorCode; the API maps codes to HTTP statuses in one place (api/errors.ts). Context is added on the way up
// with `wrap`, keeping the original as `cause` (crun's error chain, runc's structured mount errors). The codes are
// part of the API contract (api/errors.ts).

import type { ErrorCode } from '../../api';

export type { ErrorCode } from '../../api';

export interface ErrorOptions {
  /** errno name (EPERM, ENOENT...) when a system call failed underneath */
  errno?: string;
  /** the operation that failed, e.g. "mount", "cgroup.create", "deploy" */
  op?: string;
  path?: string;
  detail?: unknown;
  cause?: unknown;
}

export class SockpitError extends Error {
  readonly code: ErrorCode;
  readonly errno?: string;
  readonly op?: string;
  readonly path?: string;
  readonly detail?: unknown;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SockpitError';
    this.code = code;
    this.errno = options.errno ?? errnoOf(options.cause);
    this.op = options.op;
    this.path = options.path;
    this.detail = options.detail;
  }
}

/** The errno name carried by a Node system error or a native addon error, if any. */
export function errnoOf(err: unknown): string | undefined {
  if (err instanceof SockpitError) return err.errno;
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** Adds context to any thrown value: "<context>: <original message>", keeping a SockpitError's code. */
export function wrap(err: unknown, context: string, options: ErrorOptions & { code?: ErrorCode } = {}): SockpitError {
  const message = `${context}: ${err instanceof Error ? err.message : String(err)}`;
  const code = options.code ?? (err instanceof SockpitError ? err.code : 'internal');
  const inner = err instanceof SockpitError ? err : undefined;
  return new SockpitError(code, message, {
    errno: options.errno ?? inner?.errno ?? errnoOf(err),
    op: options.op ?? inner?.op,
    path: options.path ?? inner?.path,
    detail: options.detail ?? inner?.detail,
    cause: err,
  });
}

export function badRequest(message: string, detail?: unknown): SockpitError {
  return new SockpitError('bad_request', message, { detail });
}
