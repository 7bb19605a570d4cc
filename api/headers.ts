// Header names of the API (lower case, as Node and fetch hand them over) and of the web panel's server.

/** POST /run/:name answers: which tier served the call, its sandbox, and the Zygote it was forked from */
export const TIER_HEADER = 'x-sockpit-tier';
export const SANDBOX_HEADER = 'x-sockpit-sandbox';
export const ZYGOTE_HEADER = 'x-sockpit-zygote';
/** phase durations of a call (server-timing.ts) */
export const SERVER_TIMING_HEADER = 'server-timing';
/** PUT /v1/functions/:name: where the folder came from, only shown */
export const SOURCE_HEADER = 'x-sockpit-source';

/** The web panel's server serves the API under this prefix (`sockpit panel`). */
export const PANEL_API_PREFIX = '/api';
/** The panel server's marker on its own 503 (the daemon's socket did not answer). */
export const UNREACHABLE_HEADER = 'x-sockpit-unreachable';
/** The panel server's marker on its 401: this browser has no valid sign-in cookie. */
export const SIGNED_OUT_HEADER = 'x-sockpit-signed-out';
/** Sent with every panel request: a cross-site page can't add it without a CORS preflight the panel never grants. */
export const PANEL_HEADER = 'x-sockpit-panel';
