// The web panel's secret (Jupyter's model): `sockpit panel` makes a random token per start and prints the URL
// that carries it; the page trades the token for an HttpOnly, SameSite=Strict cookie, and every /api request and
// the event stream must bring that cookie. Anything else on this machine that can open a TCP connection to
// 127.0.0.1 (another local user, a process that just sends the custom header and the right Host) gets 401.
// Pure logic: no sockets, no files.

import { randomBytes, timingSafeEqual } from 'node:crypto';
import { parse as parseCookies, serialize as serializeCookie } from 'cookie';

/** The query parameter of the URL `sockpit panel` prints. */
export const TOKEN_PARAM = 'token';

/** 32 random bytes, base64url: the per-start secret (token) and the cookie's value (session). */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** Cookies are not separated by port: each panel names its own, so two panels on one host don't log each other out. */
export function cookieName(port: number): string {
  return `sockpit-panel-${port}`;
}

/** Constant-time comparison of a presented secret with the expected one (any length, absent = false). */
export function secretMatches(presented: string | undefined | null, expected: string): boolean {
  if (typeof presented !== 'string' || presented.length === 0) return false;
  const a = Buffer.from(presented, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  // timingSafeEqual throws on different lengths; the length of a secret of fixed size tells nothing
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface PanelAuth {
  token: string;
  /** what the cookie holds: a second secret, so the token never sits in the browser's cookie jar */
  session: string;
  cookieName: string;
}

export function newPanelAuth(port: number, token = newSecret()): PanelAuth {
  return { token, session: newSecret(), cookieName: cookieName(port) };
}

/** Whether the request's Cookie header carries this panel's session. */
export function hasSession(auth: PanelAuth, cookieHeader: string | undefined): boolean {
  if (!cookieHeader) return false;
  let cookies: Record<string, string | undefined>;
  try {
    cookies = parseCookies(cookieHeader);
  } catch {
    return false;
  }
  return secretMatches(cookies[auth.cookieName], auth.session);
}

/** The Set-Cookie header that signs this browser in: a session cookie (gone with the browser, useless after a restart). */
export function sessionCookie(auth: PanelAuth): string {
  return serializeCookie(auth.cookieName, auth.session, { httpOnly: true, sameSite: 'strict', path: '/' });
}

/** The URL that signs a browser in. */
export function signInUrl(baseUrl: string, token: string): string {
  const url = new URL(baseUrl);
  url.searchParams.set(TOKEN_PARAM, token);
  return url.toString();
}

/** The same path and query without the token: where the page goes once the cookie is set. */
export function withoutToken(requestUrl: string): string {
  const url = new URL(requestUrl, 'http://panel');
  url.searchParams.delete(TOKEN_PARAM);
  return `${url.pathname}${url.search}`;
}

/** The token in a request's URL: null when there is none, '' (which matches nothing) when given twice. */
export function tokenOf(requestUrl: string): string | null {
  let values: string[];
  try {
    values = new URL(requestUrl, 'http://panel').searchParams.getAll(TOKEN_PARAM);
  } catch {
    return null;
  }
  return values.length === 1 ? values[0] : values.length === 0 ? null : '';
}

/** What a signed-out request is told. */
export const SIGNED_OUT_MESSAGE = 'signed out of the panel: open the URL `sockpit panel` printed, or run `sockpit panel --show-url`';
