// The Electron main process: one window on the renderer (dist/renderer/index.html), a minimal menu, a single
// instance, the IPC bridge (ipc.ts) over the service's typed client, and — when sockpitd is not running and we
// are root — sockpitd itself as a child, stopped again when the app quits. Not root and no daemon: the panel
// still opens and says it can't reach sockpitd.

import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, Menu, MenuItemConstructorOptions, shell } from 'electron';
import { SockpitClient, socketFromEnv } from '../../service/src/client';
import { broadcast, registerIpc, ServiceClient } from './ipc';
import { ServiceLink } from './service-link';

// dist/main/electron/main.js → the app's root (the repository, or resources/app when packaged)
const ROOT = path.resolve(__dirname, '../../..');
const RENDERER_DIR = path.join(ROOT, 'dist/renderer');
const RENDERER_INDEX = path.join(RENDERER_DIR, 'index.html');
const PRELOAD = path.join(__dirname, 'preload.js');
const CLI = path.join(ROOT, 'bin/sockpit.js');

const socket = socketFromEnv();
const client = new SockpitClient(socket);
let window: BrowserWindow | null = null;
let daemon: ChildProcess | null = null;
let link: ServiceLink | null = null;
let unregister: (() => void) | null = null;

function log(message: string): void {
  console.log(`sockpit: ${message}`);
}

async function reachable(): Promise<boolean> {
  try {
    await client.status();
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts sockpitd as a child when it does not answer on the socket and we are root. It runs under the system's
 * `node` (SOCKPIT_NODE overrides), not Electron's: its native modules are built for Node's ABI.
 */
async function ensureDaemon(): Promise<void> {
  if (await reachable()) return;
  if (process.getuid?.() !== 0) {
    log(`sockpitd is not reachable at ${socket} and starting it needs root: the panel opens without it`);
    return;
  }
  const node = process.env.SOCKPIT_NODE ?? 'node';
  log(`starting sockpitd on ${socket} (${node} ${CLI} daemon)`);
  const child = spawn(node, [CLI, '--socket', socket, 'daemon'], { stdio: ['ignore', 'inherit', 'inherit'] });
  daemon = child;
  child.on('error', (err) => {
    log(`can't start sockpitd: ${err.message}`);
    if (daemon === child) daemon = null;
  });
  child.on('exit', (code, signal) => {
    log(`sockpitd exited (${signal ?? code})`);
    if (daemon === child) daemon = null;
  });
  // the window opens either way; this only saves the banner flashing on a normal start
  for (let i = 0; i < 100 && daemon === child && !(await reachable()); i++) await new Promise((r) => setTimeout(r, 100));
  link?.retryNow();
}

/** SIGTERM to the daemon we started, and its exit awaited (SIGKILL after 10 s). */
async function stopDaemon(): Promise<void> {
  const child = daemon;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
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
      await stopDaemon();
      await client.close().catch(() => {});
      app.quit();
    })();
  });
  app.on('window-all-closed', () => app.quit());

  void app.whenReady().then(async () => {
    Menu.setApplicationMenu(buildMenu());
    unregister = registerIpc(client as unknown as ServiceClient, { trustedUrlPrefix: pathToFileURL(RENDERER_DIR).href, log });
    link = new ServiceLink(client, { send: broadcast, log });
    link.start();
    window = createWindow();
    await ensureDaemon();
  });
}

main();
