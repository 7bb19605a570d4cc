#!/usr/bin/env node
// `npm start`: starts sockpitd (as root, when it is not already running on the socket), deploys the sample
// functions in examples/, then opens the panel: the Electron window where an Electron binary and a display
// exist, otherwise the same panel in web mode on 127.0.0.1 (its sign-in URL, with the per-start token, is printed
// and kept for this user like `sockpit panel` does; when a panel of this user already runs on the port, its URL is
// printed instead). Ctrl-C stops what it started.
//
// `npm start -- --socket S --state-dir D ...`: the flags go to `sockpit daemon`; `--port N` to the web panel.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { SockpitClient, socketFromEnv } = require('../dist/service/src/client');
const { launchPanel } = require('../dist/main/panel-launch');
const { findPanelUrl, panelFileDir } = require('../dist/main/panel-token-file');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const flag = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const socket = socketFromEnv(flag('--socket'));
const port = Number(flag('--port') ?? 7788);
const daemonArgs = args.filter((a, i) => !['--socket', '--port'].includes(a) && !['--socket', '--port'].includes(args[i - 1]));

async function reachable(client) {
  try {
    await client.status();
    return true;
  } catch {
    return false;
  }
}

/** The Electron binary, when this machine has one (npm skips its download where it can't be fetched). */
function electronBinary() {
  try {
    const binary = require('electron');
    return typeof binary === 'string' && fs.existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}

async function main() {
  const client = new SockpitClient(socket);
  const stops = [];
  if (!(await reachable(client))) {
    if (process.getuid() !== 0) {
      console.error('sockpitd is not running and needs root: run `sudo npm start` (or start `sockpit daemon` as root)');
      process.exit(1);
    }
    // owned by this script (SOCKPIT_OWNER_PID, see service/src/daemon/parent.ts): if it is killed, the daemon stops too
    const daemon = spawn(process.execPath, [path.join(root, 'bin/sockpit.js'), '--socket', socket, 'daemon', ...daemonArgs], {
      stdio: 'inherit',
      env: { ...process.env, SOCKPIT_OWNER_PID: String(process.pid) },
    });
    const exited = new Promise((resolve) => daemon.on('exit', resolve));
    stops.push(async () => {
      daemon.kill('SIGTERM');
      await exited;
    });
    daemon.on('exit', (code) => {
      if (stops.length > 0) process.exit(code ?? 1);
    });
    for (let i = 0; i < 200 && !(await reachable(client)); i++) await new Promise((r) => setTimeout(r, 100));
  }
  for (const name of fs.readdirSync(path.join(root, 'examples'))) {
    const fn = await client.deploy(name, path.join(root, 'examples', name));
    console.log(`deployed ${fn.name} v${fn.version}`);
  }
  const run = await client.run('hello', { name: 'sockpit' });
  console.log(`hello -> ${JSON.stringify(run.result)} (${run.tier}, ${run.timings.total?.toFixed(1)} ms)`);
  await client.close();

  const electron = electronBinary();
  if (electron && (process.env.DISPLAY || process.env.WAYLAND_DISPLAY)) {
    // Electron refuses to run as root without --no-sandbox; as root the renderer keeps contextIsolation
    const extra = process.getuid() === 0 ? ['--no-sandbox'] : [];
    const app = spawn(electron, [root, ...extra], { stdio: 'inherit', env: { ...process.env, SOCKPIT_SOCKET: socket } });
    app.on('exit', () => shutdown());
    console.log('\nthe sockpit window is open; closing it stops what this command started');
  } else {
    const why = electron ? 'no display' : 'no Electron binary here';
    try {
      const panel = await launchPanel({ socket, port, staticDir: path.join(root, 'dist/renderer') });
      stops.unshift(() => panel.stop());
      console.log(`\nsockpit panel (web mode: ${why}): ${panel.server.signInUrl}`);
      console.log('  (the token is new at each start; `node bin/sockpit.js panel --show-url` prints this URL again)');
    } catch (err) {
      const running = err.code === 'EADDRINUSE' ? findPanelUrl(panelFileDir(), port) : null;
      if (!running || !running.url) throw err.code === 'EADDRINUSE' ? new Error(`port ${port} is in use: pick another with --port`) : err;
      console.log(`\nsockpit panel (web mode: ${why}) already runs on port ${port}: ${running.url}`);
    }
  }
  console.log(`CLI: node bin/sockpit.js --socket ${socket} run hello '{"name": "you"}'   (Ctrl-C stops)\n`);

  async function shutdown() {
    const pending = stops.splice(0);
    for (const stop of pending) await stop().catch(() => {});
    process.exit(0);
  }
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((err) => {
  console.error(`npm start: ${err.message}`);
  process.exit(1);
});
