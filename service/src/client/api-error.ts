// The client's one error: an HTTP error status of sockpitd, with the code, message and detail of its error body
// (api/errors.ts), or `internal` when the body was not one.

import type { ErrorBody } from '../../../api';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly detail?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The ApiError of a response with an error status, from its body as text. */
export function toApiError(status: number, text: string): ApiError {
  try {
    const { error } = JSON.parse(text) as ErrorBody;
    return new ApiError(status, error.code, error.message, error.detail);
  } catch {
    return new ApiError(status, 'internal', `HTTP ${status}: ${text.slice(0, 200)}`);
  }
}
