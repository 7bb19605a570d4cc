// Where a running `sockpit panel` leaves its sign-in URL for the user who started it: panel-<port>.json
// ({url, token, pid}), mode 0600, in $XDG_RUNTIME_DIR/sockpit (else ~/.config/sockpit, else $TMPDIR/sockpit-<uid>
// for an account with no home of its own), a directory of mode 0700.
// `sockpit panel --show-url` and `npm start` read it; the panel removes it when it stops.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface PanelFile {
  /** the sign-in URL (it carries the token) */
  url: string;
  token: string;
  /** the panel's process */
  pid: number;
}

/** $XDG_RUNTIME_DIR/sockpit (a per-user tmpfs on systemd hosts), else ~/.config/sockpit, else (no home of our own:
 *  `nobody`, whose home is /nonexistent, runs the panel of `sudo npm start` on a root login) $TMPDIR/sockpit-<uid>.
 *  A runtime dir or home of another user (kept across `su` or `sudo -E`) is passed over: the file would land where
 *  that user can't keep it private. The same user in the same environment always gets the same directory, which
 *  is how `sockpit panel --show-url` finds the file. */
export function panelFileDir(env: NodeJS.ProcessEnv = process.env): string {
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime && path.isAbsolute(runtime) && ownedByUs(runtime)) return path.join(runtime, 'sockpit');
  const home = env.HOME || os.homedir();
  if (ownedByUs(home)) return path.join(home, '.config', 'sockpit');
  // ensurePrivateDir refuses it if another user made it first
  return path.join(os.tmpdir(), `sockpit-${process.getuid?.() ?? 'user'}`);
}

function ownedByUs(dir: string): boolean {
  const uid = process.getuid?.();
  try {
    return uid === undefined ? fs.statSync(dir).isDirectory() : fs.statSync(dir).uid === uid;
  } catch {
    return false;
  }
}

export function panelFilePath(dir: string, port: number): string {
  return path.join(dir, `panel-${port}.json`);
}

/** Makes `dir` (0700) or checks that it is ours and private: a directory another user made or can read is refused. */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = fs.lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory (a symlink?): refusing to keep the panel's token there`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new Error(`${dir} belongs to uid ${st.uid}, not to you (${uid}): refusing to keep the panel's token there`);
  // ours but open to others (an older version, a umask): close it
  if ((st.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
}

/** Writes the file 0600 from the start (a new file, renamed over any stale one: never through a symlink). */
export function writePanelFile(dir: string, port: number, content: PanelFile): string {
  ensurePrivateDir(dir);
  const target = panelFilePath(dir, port);
  const tmp = `${target}.${process.pid}.tmp`;
  fs.rmSync(tmp, { force: true });
  const fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
  try {
    fs.fchmodSync(fd, 0o600);
    fs.writeSync(fd, `${JSON.stringify(content, null, 2)}\n`);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, target);
  return target;
}

export function readPanelFile(file: string): PanelFile | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
  const p = parsed as Partial<PanelFile> | null;
  if (!p || typeof p.url !== 'string' || typeof p.token !== 'string' || !Number.isInteger(p.pid)) return null;
  return { url: p.url, token: p.token, pid: p.pid as number };
}

/** Removes the file if it is still the one with this token (synchronous: it also runs from process 'exit'). */
export function removePanelFile(file: string, token: string): void {
  if (readPanelFile(file)?.token !== token) return;
  try {
    fs.unlinkSync(file);
  } catch {
    // already gone
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as someone else
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface RunningPanel extends PanelFile {
  port: number;
  file: string;
}

/** The panels whose files are in `dir` and whose process still runs, by port. */
export function runningPanels(dir: string): RunningPanel[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: RunningPanel[] = [];
  for (const name of names) {
    const m = /^panel-(\d+)\.json$/.exec(name);
    if (!m) continue;
    const file = path.join(dir, name);
    const content = readPanelFile(file);
    if (content && processAlive(content.pid)) out.push({ ...content, port: Number(m[1]), file });
  }
  return out.sort((a, b) => a.port - b.port);
}

/** The URL `sockpit panel --show-url` prints: that port's panel, or (no port asked) the only one running. */
export function findPanelUrl(dir: string, port: number | undefined): { url: string } | { error: string } {
  const running = runningPanels(dir);
  const where = `no running \`sockpit panel\` has left its URL in ${dir}`;
  if (port !== undefined) {
    const found = running.find((p) => p.port === port);
    return found ? { url: found.url } : { error: `${where} for port ${port} (start one with \`sockpit panel --port ${port}\`)` };
  }
  if (running.length === 1) return { url: running[0].url };
  if (running.length === 0) return { error: `${where} (start one with \`sockpit panel\`, as this user)` };
  return { error: `several panels run (ports ${running.map((p) => p.port).join(', ')}): pick one with --port` };
}
