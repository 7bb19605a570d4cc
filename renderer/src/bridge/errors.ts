// Errors cross the bridge as an envelope (BridgeError) or an API error body ({error: {code, message, detail}})
// and are rebuilt here as real Errors that keep code, status and detail.

import type { BridgeError } from './types';

export class SockpitError extends Error {
  readonly code?: string;
  readonly status?: number;
  readonly detail?: unknown;

  constructor(envelope: BridgeError) {
    super(envelope.message);
    this.name = envelope.name || 'SockpitError';
    this.code = envelope.code;
    this.status = envelope.status;
    this.detail = envelope.detail;
  }
}

/** An Error from a BridgeError envelope (what the Electron preload and the HTTP bridge both produce). */
export function fromEnvelope(envelope: BridgeError): SockpitError {
  return new SockpitError(envelope);
}

/** An Error from an HTTP error answer: the API's error body when there is one, else the status and text. */
export function fromHttp(status: number, text: string): SockpitError {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; detail?: unknown } };
    if (body && typeof body.error === 'object' && body.error && typeof body.error.message === 'string') {
      return new SockpitError({
        name: 'ApiError',
        message: body.error.message,
        code: typeof body.error.code === 'string' ? body.error.code : undefined,
        status,
        detail: body.error.detail,
      });
    }
  } catch {
    // not JSON: fall through
  }
  const snippet = text.trim().slice(0, 200);
  return new SockpitError({ name: 'ApiError', message: `HTTP ${status}${snippet ? `: ${snippet}` : ''}`, code: 'internal', status });
}

/** The code of an error thrown by a bridge call, when it has one. */
export function errorCode(err: unknown): string | undefined {
  return (err as { code?: unknown })?.code as string | undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
