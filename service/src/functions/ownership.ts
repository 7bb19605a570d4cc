// Who may do what to a function (README "Threat model"): it belongs to the uid that deployed it (SO_PEERCRED of
// the API connection). Any member of the socket's group may list and invoke it; only its owner and root may
// redeploy it, delete it or read its environment's values. Pure.

import { SockpitError } from '../errors';

/** the caller as the kernel told the daemon (null: the connection could not be identified) */
export interface Caller {
  uid: number;
}

export function mayManage(caller: Caller | null, owner: number): boolean {
  return caller !== null && (caller.uid === 0 || caller.uid === owner);
}

/** Throws 403 unless the caller may change the function. */
export function checkMayManage(caller: Caller | null, fn: { name: string; owner: number }, action: 'redeploy' | 'delete'): void {
  if (mayManage(caller, fn.owner)) return;
  const who = caller === null ? 'an unidentified caller' : `uid ${caller.uid}`;
  throw new SockpitError('forbidden', `function "${fn.name}" belongs to uid ${fn.owner}: only its owner or root may ${action} it (the caller is ${who})`);
}

/** The caller's uid to record as a new function's owner; an unidentified caller deploys nothing. */
export function ownerOf(caller: Caller | null): number {
  if (caller === null) throw new SockpitError('forbidden', 'the caller of this connection could not be identified (SO_PEERCRED): deploys need a known uid');
  return caller.uid;
}
