// Running the host's Python for the package cache: pip installs and the PEP 508 helper (pep508.py), each in a
// clean environment (no PIP_* or PYTHON* from the daemon, no pip.conf, HOME in a throwaway folder, no user site), with a
// timeout that kills the whole process group, and a bounded capture of the output.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** stderr, or stdout+stderr interleaved when `mergeOutput` */
  stderr: string;
  timedOut: boolean;
  ms: number;
}

const KEEP_ENV = ['PATH', 'LANG', 'LC_ALL', 'TZ', 'http_proxy', 'https_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'SSL_CERT_FILE', 'SSL_CERT_DIR'];
const MAX_CAPTURE = 256 * 1024;

/** The environment pip and the helper run with: only the variables listed above pass through. */
export function cleanEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of KEEP_ENV) if (process.env[k] !== undefined) env[k] = process.env[k];
  env.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  env.LANG ??= 'C.UTF-8';
  // TMPDIR too: pip --target builds in a temp dir and then moves it, which must stay on the cache's filesystem
  return { ...env, HOME: home, TMPDIR: home, PYTHONNOUSERSITE: '1', PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1',
    // no pip.conf from the host (/etc/pip.conf, /etc/xdg/pip): the cache's own options are the whole story
    PIP_CONFIG_FILE: '/dev/null', PIP_ROOT_USER_ACTION: 'ignore', ...extra };
}

/**
 * Runs `file args` with a clean environment and HOME in a fresh folder under `tmpDir` (removed afterwards),
 * `input` on stdin, killing the process group after `timeoutMs`. Never rejects for the child's own failure:
 * the caller judges code/signal/timedOut. Rejects only when the child cannot be started.
 */
export async function runPython(
  file: string,
  args: string[],
  opts: { tmpDir: string; timeoutMs: number; input?: string; env?: Record<string, string>; cwd?: string },
): Promise<RunResult> {
  const home = fs.mkdtempSync(path.join(opts.tmpDir, 'home-'));
  const started = performance.now();
  try {
    return await new Promise<RunResult>((resolve, reject) => {
      const child = spawn(file, args, {
        cwd: opts.cwd ?? home,
        env: cleanEnv(home, opts.env),
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true, // its own process group, so a timeout kills pip's children too
      });
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      const cap = (s: string, d: string) => {
        const t = s + d;
        return t.length > MAX_CAPTURE ? t.slice(-MAX_CAPTURE) : t;
      };
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout = cap(stdout, d)));
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = cap(stderr, d)));
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }, opts.timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout, stderr, timedOut, ms: performance.now() - started });
      });
      child.stdin!.on('error', () => undefined); // EPIPE when the child exits early: the exit status tells
      child.stdin!.end(opts.input ?? '');
    });
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

/** Where pep508.py is: beside this file (tsx, or a build that copies it), else in the source tree (tsc output). */
export function helperScriptPath(): string {
  const candidates = [
    path.join(__dirname, 'pep508.py'),
    path.resolve(__dirname, '../../../../service/src/packages/pep508.py'), // dist/service/src/packages -> repo
  ];
  for (const c of candidates) if (fs.existsSync(c)) return c;
  return candidates[0];
}
