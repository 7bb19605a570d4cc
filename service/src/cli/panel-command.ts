// `sockpit panel`: the control panel in a browser, for hosts without a desktop (and the e2e tests). Serves the
// built renderer and proxies its API calls to sockpitd's socket; it needs no root, only access to the socket.
// Each start makes a new sign-in token: the printed URL carries it, and `--show-url` prints it again from the
// token file this user's panel leaves (main/panel-token-file.ts).

import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { launchPanel, type LaunchedPanel } from '../../../main/panel-launch';
import { findPanelUrl, panelFileDir } from '../../../main/panel-token-file';

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
    .option('--show-url', "print the sign-in URL of this user's running panel (the one on --port, when given) and exit")
    .action(async (opts: { port: number; socket?: string; staticDir?: string; showUrl?: boolean }, cmd: Command) => {
      if (opts.showUrl) {
        const portGiven = cmd.getOptionValueSource('port') !== 'default';
        const found = findPanelUrl(panelFileDir(), portGiven ? opts.port : undefined);
        if ('url' in found) console.log(found.url);
        else {
          console.error(`sockpit: ${found.error}`);
          process.exitCode = 1;
        }
        return;
      }
      const socket = opts.socket ?? socketOf(cmd);
      let panel: LaunchedPanel;
      try {
        panel = await launchPanel({ socket, port: opts.port, host: '127.0.0.1', staticDir: opts.staticDir ? path.resolve(opts.staticDir) : defaultStaticDir() });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        console.error(
          e.code === 'EADDRINUSE' ? `sockpit: port ${opts.port} is in use (another \`sockpit panel\`?): pick another with --port` : `sockpit: can't start the panel: ${e.message}`,
        );
        process.exitCode = 1;
        return;
      }
      console.log(`sockpit panel: ${panel.server.signInUrl}`);
      console.log(`  open that URL to sign in (the token is new at each start; \`sockpit panel --show-url\` prints it again)`);
      console.log(`  sockpitd at ${socket}; Ctrl-C stops`);
      const stop = () => {
        void panel.stop().then(() => process.exit(0));
        // a second signal, or a close that hangs, ends it at once
        setTimeout(() => process.exit(0), 2000).unref();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}
