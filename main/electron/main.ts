// The Electron main process: one window on the renderer (dist/renderer/index.html), a minimal menu, a single
// instance and the IPC bridge (ipc.ts) over the service's typed client. It is only a client of sockpitd's socket
// and never runs as root (root-check.ts): the daemon runs as a service, or under `sudo sockpit daemon` /
// `sudo npm start`. When sockpitd does not answer, the panel still opens and says it can't reach it.

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, Menu, MenuItemConstructorOptions, shell } from 'electron';
import { SockpitClient, socketFromEnv } from '../../service/src/client';
import { broadcast, registerIpc, ServiceClient } from './ipc';
import { refusalAsRoot } from './root-check';
import { ServiceLink } from './service-link';

// dist/main/electron/main.js → the app's root (the repository, or resources/app when packaged)
const ROOT = path.resolve(__dirname, '../../..');
const RENDERER_DIR = path.join(ROOT, 'dist/renderer');
const RENDERER_INDEX = path.join(RENDERER_DIR, 'index.html');
const PRELOAD = path.join(__dirname, 'preload.js');

const socket = socketFromEnv();
const client = new SockpitClient(socket);
let window: BrowserWindow | null = null;
let link: ServiceLink | null = null;
let unregister: (() => void) | null = null;

function log(message: string): void {
  console.log(`sockpit: ${message}`);
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 840,
    minWidth: 900,
    minHeight: 600,
    title: 'sockpit',
    show: false,
    webPreferences: {
      preload: PRELOAD,
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  // the renderer hears the connection state as soon as it can listen
  win.webContents.on('dom-ready', () => link?.sendStateTo(win.webContents));
  // no navigation away from the panel and no new windows: links open in the user's browser
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (event, url) => {
    if (!url.startsWith(pathToFileURL(RENDERER_DIR).href)) event.preventDefault();
  });
  if (fs.existsSync(RENDERER_INDEX)) {
    void win.loadFile(RENDERER_INDEX);
  } else {
    const message = `The panel is not built: ${RENDERER_INDEX} is missing. Run the renderer build first.`;
    log(message);
    void win.loadURL(`data:text/plain;charset=utf-8,${encodeURIComponent(message)}`);
  }
  win.on('closed', () => {
    if (window === win) window = null;
  });
  return win;
}

function buildMenu(): Menu {
  const template: MenuItemConstructorOptions[] = [
    { label: 'File', submenu: [{ role: 'quit' }] },
    { label: 'View', submenu: [{ role: 'reload' }, { role: 'forceReload' }, { role: 'toggleDevTools' }, { type: 'separator' }, { role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }] },
    {
      label: 'Help',
      submenu: [
        {
          label: 'About sockpit',
          click: () => {
            const options = {
              type: 'info' as const,
              title: 'About sockpit',
              message: `sockpit ${app.getVersion()}`,
              detail: `A control panel for sockpitd: serverless Python functions in lean containers, started from Zygotes.\n\nsockpitd socket: ${socket}\nElectron ${process.versions.electron}, Chromium ${process.versions.chrome}, Node ${process.versions.node}`,
            };
            if (window) void dialog.showMessageBox(window, options);
            else void dialog.showMessageBox(options);
          },
        },
      ],
    },
  ];
  return Menu.buildFromTemplate(template);
}

function main(): void {
  const refusal = refusalAsRoot(process.getuid?.());
  if (refusal) {
    console.error(refusal);
    app.exit(1);
    return;
  }
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  app.on('second-instance', () => {
    if (!window) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });
  // a renderer never gets permissions (camera, notifications...): the panel needs none
  app.on('web-contents-created', (_e, contents) => {
    contents.session.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  });

  let quitting = false;
  app.on('before-quit', (event) => {
    if (quitting) return;
    quitting = true;
    event.preventDefault();
    void (async () => {
      unregister?.();
      await link?.stop();
      await client.close().catch(() => {});
      app.quit();
    })();
  });
  app.on('window-all-closed', () => app.quit());

  void app.whenReady().then(() => {
    Menu.setApplicationMenu(buildMenu());
    unregister = registerIpc(client as unknown as ServiceClient, { trustedUrlPrefix: pathToFileURL(RENDERER_DIR).href, log });
    link = new ServiceLink(client, { send: broadcast, log });
    link.start();
    window = createWindow();
  });
}

main();
