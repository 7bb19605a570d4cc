// Who runs the panel when `sudo npm start` (or a root login) starts sockpitd: never root. The desktop side is only
// a client of the socket, so it runs as the user who invoked sudo (SUDO_UID) or, on a root login with no such user,
// as `nobody`; in both cases with the `sockpit` group as its primary group, which is what lets it open the socket
// (root:sockpit 0660). Node's spawn with uid/gid drops every supplementary group, so the group has to be the
// primary one. Pure: it reads the text of /etc/passwd and /etc/group it is given.

import path from 'node:path';

export const SOCKET_GROUP = 'sockpit';
/** the account a root login's panel runs as */
export const FALLBACK_USER = 'nobody';

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

export interface PanelUser {
  name: string;
  uid: number;
  /** the sockpit group's gid: the process's only group */
  gid: number;
  /** the user's home from /etc/passwd (`nobody`'s is /nonexistent) */
  home: string;
  /** where it comes from, said to the user */
  why: string;
}

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || !/^\d+$/.test(f[2]) || !/^\d+$/.test(f[3])) continue;
    out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] });
  }
  return out;
}

export function groupGid(groupText: string, name: string): number | null {
  const line = groupText.split('\n').find((l) => l.startsWith(`${name}:`));
  const gid = line?.split(':')[2];
  return gid !== undefined && /^\d+$/.test(gid) ? Number(gid) : null;
}

/**
 * The panel's user for a root process with this environment: SUDO_UID's user (when it is not root), else `nobody`.
 * An error says what is missing (the group, the account).
 */
export function choosePanelUser(env: NodeJS.ProcessEnv, passwdText: string, groupText: string): PanelUser | { error: string } {
  const gid = groupGid(groupText, SOCKET_GROUP);
  if (gid === null) return { error: `there is no \`${SOCKET_GROUP}\` group (the socket's group): make it with \`groupadd --system ${SOCKET_GROUP}\`` };
  const users = parsePasswd(passwdText);
  const sudoUid = env.SUDO_UID !== undefined && /^[1-9]\d*$/.test(env.SUDO_UID) ? Number(env.SUDO_UID) : null;
  if (sudoUid !== null) {
    const entry = users.find((u) => u.uid === sudoUid);
    const name = entry?.name ?? env.SUDO_USER ?? `uid ${sudoUid}`;
    return { name, uid: sudoUid, gid, home: entry?.home ?? '/nonexistent', why: 'the user who ran sudo' };
  }
  const fallback = users.find((u) => u.name === FALLBACK_USER);
  if (!fallback) return { error: `there is no \`${FALLBACK_USER}\` account to run the panel as: run \`npm start\` with sudo from your own account` };
  return { name: fallback.name, uid: fallback.uid, gid, home: fallback.home, why: 'no user ran sudo (a root login)' };
}

/**
 * The environment of the panel's process: root's, with the user's HOME, USER and LOGNAME, and the user's own
 * $XDG_RUNTIME_DIR (its token file goes there, where the user's `sockpit panel --show-url` looks) when
 * `ownRuntimeDir` says /run/user/<uid> is theirs; otherwise none, so no runtime dir of root's is used.
 */
export function panelUserEnv(user: PanelUser, env: NodeJS.ProcessEnv, ownRuntimeDir: (dir: string) => boolean): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, HOME: user.home, USER: user.name, LOGNAME: user.name };
  const runtime = path.join('/run/user', String(user.uid));
  if (ownRuntimeDir(runtime)) out.XDG_RUNTIME_DIR = runtime;
  else delete out.XDG_RUNTIME_DIR;
  return out;
}
