#!/usr/bin/env node
// `npm start`: the panel on sockpitd with the sample functions. The desktop side never runs as root.
//
// As a user: sockpitd must already answer on the socket (installed as a service, or `sudo sockpit daemon`); this
// deploys the sample functions in examples/ as this user, invokes one, then opens the panel: the Electron window
// where an Electron binary and a display exist, otherwise the same panel in web mode on 127.0.0.1 (its sign-in URL,
// with the per-start token, is printed and kept for this user like `sockpit panel` does; when a panel of this user
// already runs on the port, its URL is printed instead). No daemon: it says how to start one and exits 1.
//
// As root (`sudo npm start`, `scripts/dev.sh start`, a root login): starts sockpitd when it is not running, then
// runs this same script, for everything else, as the panel's user (main/panel-user.ts: the user who ran sudo, else
// `nobody`; its one group `sockpit`, the socket's). The root process only supervises: Ctrl-C, or the end of the
// panel, stops what it started.
//
// `npm start -- --socket S --state-dir D ...`: the flags go to `sockpit daemon`; `--port N` to the web panel.

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ApiError, SockpitClient, socketFromEnv } = require('../dist/service/src/client');
const { launchPanel } = require('../dist/main/panel-launch');
const { findPanelUrl, panelFileDir } = require('../dist/main/panel-token-file');
const { choosePanelUser, groupGid, panelUserEnv, SOCKET_GROUP } = require('../dist/main/panel-user');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const flag = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const socket = socketFromEnv(flag('--socket'));
const port = Number(flag('--port') ?? 7788);
const daemonArgs = args.filter((a, i) => !['--socket', '--port'].includes(a) && !['--socket', '--port'].includes(args[i - 1]));
/** set by the root process for the one it starts as the panel's user */
const OF_ROOT_START = 'SOCKPIT_PANEL_OF_ROOT_START';

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

/** Runs the stops once, in order, then exits. */
function exitAfter(stops, code) {
  let running = null;
  return () => {
    running ??= (async () => {
      for (const stop of stops.splice(0)) await stop().catch(() => {});
      process.exit(code());
    })();
    return running;
  };
}

// ---- as root: sockpitd, and the rest as the panel's user -------------------------------------------------------

/** The socket's group, made when it is missing (scripts/dev.sh makes it too): the panel's user reaches the socket through it. */
function ensureSocketGroup() {
  if (groupGid(fs.readFileSync('/etc/group', 'utf8'), SOCKET_GROUP) !== null) return;
  console.log(`npm start: making the \`${SOCKET_GROUP}\` group (the socket's group: its members may use sockpitd)`);
  const made = spawnSync('groupadd', ['--system', SOCKET_GROUP], { stdio: 'inherit' });
  if (made.status !== 0) throw new Error(`can't make the \`${SOCKET_GROUP}\` group (groupadd ${made.error?.message ?? `exited with ${made.status}`})`);
}

/** Throws unless `user` can read this checkout (a repository under /root is not readable by `nobody`). */
function checkReadableBy(user) {
  const files = [__filename, path.join(root, 'dist/renderer/index.html')];
  const probe = spawnSync(process.execPath, ['-e', 'for (const f of process.argv.slice(1)) require("fs").accessSync(f, require("fs").constants.R_OK)', ...files], {
    uid: user.uid,
    gid: user.gid,
    cwd: '/',
    stdio: 'ignore',
  });
  if (probe.status !== 0) {
    throw new Error(
      `the panel runs as ${user.name} (uid ${user.uid}), who can't read ${root}: put the checkout where others may read it (e.g. /opt or /srv), or run \`sudo npm start\` from your own account`,
    );
  }
}

async function asRoot() {
  ensureSocketGroup();
  const client = new SockpitClient(socket);
  const stops = [];
  let exitCode = 0;
  const shutdown = exitAfter(stops, () => exitCode);
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  if (!(await reachable(client))) {
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
      // not stopped by us (a stop empties `stops`): that is a failure
      if (stops.length === 0) return;
      exitCode = code || 1;
      void shutdown();
    });
    for (let i = 0; i < 200 && !(await reachable(client)); i++) await new Promise((r) => setTimeout(r, 100));
  }
  await client.close();
  try {
    startPanelAsUser(stops, shutdown, (code) => (exitCode = code));
  } catch (err) {
    // the daemon this started stops too
    console.error(`npm start: ${err.message}`);
    exitCode = 1;
    await shutdown();
  }
}

/** Runs this script again as the panel's user; its end ends the root process too. */
function startPanelAsUser(stops, shutdown, setExitCode) {
  const user = choosePanelUser(process.env, fs.readFileSync('/etc/passwd', 'utf8'), fs.readFileSync('/etc/group', 'utf8'));
  if ('error' in user) throw new Error(user.error);
  checkReadableBy(user);
  console.log(`npm start: the panel runs as ${user.name} (uid ${user.uid}, group ${SOCKET_GROUP}: ${user.why}), never as root`);
  const ownRuntimeDir = (dir) => {
    try {
      return fs.statSync(dir).uid === user.uid;
    } catch {
      return false;
    }
  };
  const env = { ...panelUserEnv(user, process.env, ownRuntimeDir), SOCKPIT_SOCKET: socket, [OF_ROOT_START]: '1' };
  const panel = spawn(process.execPath, [__filename, '--socket', socket, '--port', String(port)], { stdio: 'inherit', uid: user.uid, gid: user.gid, cwd: root, env });
  const panelExited = new Promise((resolve) => panel.on('exit', resolve));
  // the panel first: it is the daemon's client
  stops.unshift(async () => {
    if (panel.exitCode === null && panel.signalCode === null) panel.kill('SIGTERM');
    await panelExited;
  });
  panel.on('exit', (code, signal) => {
    if (stops.length === 0) return;
    setExitCode(code ?? (signal ? 0 : 1));
    void shutdown();
  });
}

// ---- as a user: the client side --------------------------------------------------------------------------------

function notReachableMessage() {
  if (process.env[OF_ROOT_START]) {
    return (
      `sockpitd answers root on ${socket} but not ${os.userInfo().username} (uid ${process.getuid()}, group ${SOCKET_GROUP}): ` +
      `the socket must be root:${SOCKET_GROUP} 0660 and every directory above it searchable by others`
    );
  }
  return (
    `sockpitd does not answer on ${socket}. Start it: \`sudo systemctl start sockpitd\` (installed as a service) or ` +
    `\`sudo sockpit daemon\`, then run \`npm start\` again as you; or run \`sudo npm start\`, which starts sockpitd as root ` +
    `and the panel as you. To use the socket as you, be a member of the \`${SOCKET_GROUP}\` group.`
  );
}

/** Deploys a sample; one another user deployed before is kept (only its owner or root may redeploy it). */
async function deploySample(client, name) {
  try {
    const fn = await client.deploy(name, path.join(root, 'examples', name));
    console.log(`deployed ${fn.name} v${fn.version}`);
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 'forbidden')) throw err;
    console.log(`kept ${name}: ${err.message}`);
  }
}

function showUrlHint() {
  const command = 'node bin/sockpit.js panel --show-url';
  const me = os.userInfo().username;
  return process.env[OF_ROOT_START] && process.env.SUDO_UID !== String(process.getuid()) ? `sudo -u ${me} ${command}` : command;
}

async function asUser() {
  const client = new SockpitClient(socket);
  if (!(await reachable(client))) {
    console.error(`npm start: ${notReachableMessage()}`);
    process.exit(1);
  }
  for (const name of fs.readdirSync(path.join(root, 'examples'))) await deploySample(client, name);
  const run = await client.run('hello', { name: 'sockpit' });
  console.log(`hello -> ${JSON.stringify(run.result)} (${run.tier}, ${run.timings.total?.toFixed(1)} ms)`);
  await client.close();

  const stops = [];
  const shutdown = exitAfter(stops, () => 0);
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  const electron = electronBinary();
  if (electron && (process.env.DISPLAY || process.env.WAYLAND_DISPLAY)) {
    // as this user: Chromium keeps its own sandbox, and the renderer its contextIsolation and sandbox
    const app = spawn(electron, [root], { stdio: 'inherit', env: { ...process.env, SOCKPIT_SOCKET: socket } });
    app.on('exit', () => shutdown());
    console.log('\nthe sockpit window is open; closing it stops what this command started');
  } else {
    const why = electron ? 'no display' : 'no Electron binary here';
    try {
      const panel = await launchPanel({ socket, port, staticDir: path.join(root, 'dist/renderer') });
      stops.unshift(() => panel.stop());
      console.log(`\nsockpit panel (web mode: ${why}): ${panel.server.signInUrl}`);
      console.log(`  (the token is new at each start; \`${showUrlHint()}\` prints this URL again)`);
    } catch (err) {
      const running = err.code === 'EADDRINUSE' ? findPanelUrl(panelFileDir(), port) : null;
      if (!running || !running.url) throw err.code === 'EADDRINUSE' ? new Error(`port ${port} is in use: pick another with --port`) : err;
      console.log(`\nsockpit panel (web mode: ${why}) already runs on port ${port}: ${running.url}`);
    }
  }
  console.log(`CLI: node bin/sockpit.js --socket ${socket} run hello '{"name": "you"}'   (Ctrl-C stops)\n`);
}

(process.getuid() === 0 ? asRoot() : asUser()).catch((err) => {
  console.error(`npm start: ${err.message}`);
  process.exit(1);
});
