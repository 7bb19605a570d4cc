// A panel server together with its token file: what `sockpit panel` and `npm start` run. The file is written
// once the port is bound (0 picks one) and removed when the panel stops, including on process exit.

import { startPanelServer, type PanelServer, type PanelServerOptions } from './panel-server';
import { panelFileDir, removePanelFile, writePanelFile } from './panel-token-file';

export interface LaunchedPanel {
  server: PanelServer;
  /** the token file (panel-<port>.json) */
  file: string;
  /** closes the server and removes the token file */
  stop(): Promise<void>;
}

export async function launchPanel(opts: PanelServerOptions & { fileDir?: string }): Promise<LaunchedPanel> {
  const server = await startPanelServer(opts);
  let file: string;
  try {
    file = writePanelFile(opts.fileDir ?? panelFileDir(), server.port, { url: server.signInUrl, token: server.token, pid: process.pid });
  } catch (err) {
    await server.close();
    throw new Error(`can't store the panel's token: ${(err as Error).message}`);
  }
  const removeFile = () => removePanelFile(file, server.token);
  process.once('exit', removeFile);
  return {
    server,
    file,
    stop: async () => {
      process.off('exit', removeFile);
      removeFile();
      await server.close();
    },
  };
}
