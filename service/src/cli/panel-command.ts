// `sockpit panel`: the control panel in a browser, for hosts without a desktop (and the e2e tests). Serves the
// built renderer and proxies its API calls to sockpitd's socket; it needs no root, only access to the socket.

import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { startPanelServer } from '../../../main/panel-server';

export const DEFAULT_PANEL_PORT = 7788;

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535; 0 picks a free one)');
  return n;
}

/** dist/renderer, next to the compiled CLI (dist/service/src/cli → dist/renderer) */
export function defaultStaticDir(): string {
  return path.resolve(__dirname, '../../../renderer');
}

export function addPanelCommand(program: Command, socketOf: (cmd: Command) => string): void {
  program
    .command('panel')
    .description("serve the control panel on http://127.0.0.1:PORT (a proxy to sockpitd's socket; no root needed)")
    .option('--port <n>', `port to listen on (default ${DEFAULT_PANEL_PORT}; 0 picks a free one)`, port, DEFAULT_PANEL_PORT)
    .option('--socket <path>', "sockpitd's unix socket (default: $SOCKPIT_SOCKET or /run/sockpit/sockpitd.sock)")
    .option('--static-dir <dir>', 'the built renderer to serve (default: dist/renderer)')
    .action(async (opts: { port: number; socket?: string; staticDir?: string }, cmd: Command) => {
      const socket = opts.socket ?? socketOf(cmd);
      let server;
      try {
        server = await startPanelServer({ socket, port: opts.port, host: '127.0.0.1', staticDir: opts.staticDir ? path.resolve(opts.staticDir) : defaultStaticDir() });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        console.error(
          e.code === 'EADDRINUSE' ? `sockpit: port ${opts.port} is in use (another \`sockpit panel\`?): pick another with --port` : `sockpit: can't start the panel: ${e.message}`,
        );
        process.exitCode = 1;
        return;
      }
      console.log(`sockpit panel: ${server.url} (sockpitd at ${socket}; Ctrl-C stops)`);
      const stop = () => {
        void server.close().then(() => process.exit(0));
        // a second signal, or a close that hangs, ends it at once
        setTimeout(() => process.exit(0), 2000).unref();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
