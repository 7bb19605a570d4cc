// sockpitd's mounts must live and die in a mount namespace of its own. Node can't unshare one for all of its
// threads, so the process is started again under unshare(1), which execs it inside a fresh private one.

import { spawn } from 'node:child_process';

const MARK = 'SOCKPIT_PRIVATE_MOUNTNS';

export function inPrivateMountNamespace(): boolean {
  return process.env[MARK] === '1';
}

/** Runs this same command again in a private mount namespace, forwarding signals and the exit status. */
export function reexecInPrivateMountNamespace(): void {
  const child = spawn(
    'unshare',
    ['--mount', '--propagation', 'private', '--', process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    { stdio: 'inherit', env: { ...process.env, [MARK]: '1' } },
  );
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    console.error(`sockpit: can't run unshare(1) (util-linux): ${err.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (signal === 'SIGKILL' ? 9 : 15)));
}
