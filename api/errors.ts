// The error body every route answers with, {"error": {"code", "message", "detail"?}}, and its codes. The daemon
// maps each code to an HTTP status in one place (service/src/api/errors.ts).

export type ErrorCode =
  | 'bad_request' // 400: malformed input
  | 'forbidden' // 403: the caller may not do this (another uid's function)
  | 'not_found' // 404: unknown function or route
  | 'conflict' // 409: the request clashes with current state
  | 'too_large' // 413: request body over the limit
  | 'function_error' // 422: the function raised (traceback in detail)
  | 'overloaded' // 429: admission control said no
  | 'internal' // 500: a bug or an unexpected system failure
  | 'instance_died' // 502: the instance exited without answering
  | 'unavailable' // 503: the daemon is starting or stopping
  | 'timeout' // 504: the call ran past its timeout
  | 'out_of_memory' // 507: the sandbox hit its memory limit
  | 'no_space'; // 507: the disk under the package cache (or the state directory) is full

export interface ErrorBody {
  error: { code: ErrorCode; message: string; detail?: unknown };
}
