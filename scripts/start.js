#!/usr/bin/env node
// `npm start`: starts sockpitd (as root, when it is not already running on the socket), deploys the sample
// functions in examples/, and stays in the foreground until Ctrl-C, which stops the daemon again.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { SockpitClient, socketFromEnv } = require('../dist/service/src/client');

const root = path.resolve(__dirname, '..');
// `npm start -- --socket S --state-dir D ...`: the flags go to `sockpit daemon`
const daemonArgs = process.argv.slice(2);
const flag = (name) => (daemonArgs.includes(name) ? daemonArgs[daemonArgs.indexOf(name) + 1] : undefined);
const socket = socketFromEnv(flag('--socket'));

async function reachable(client) {
  try {
    await client.status();
    return true;
  } catch {
    return false;
  }
}

async function main() {
  const client = new SockpitClient(socket);
  let daemon = null;
  if (!(await reachable(client))) {
    if (process.getuid() !== 0) {
      console.error('sockpitd is not running and needs root: run `sudo npm start` (or start `sockpit daemon` as root)');
      process.exit(1);
    }
    daemon = spawn(process.execPath, [path.join(root, 'bin/sockpit.js'), '--socket', socket, 'daemon', ...daemonArgs.filter((a, i) => a !== '--socket' && daemonArgs[i - 1] !== '--socket')], { stdio: 'inherit' });
    daemon.on('exit', (code) => process.exit(code ?? 1));
    for (let i = 0; i < 200 && !(await reachable(client)); i++) await new Promise((r) => setTimeout(r, 100));
  }
  for (const name of fs.readdirSync(path.join(root, 'examples'))) {
    const fn = await client.deploy(name, path.join(root, 'examples', name));
    console.log(`deployed ${fn.name} v${fn.version}`);
  }
  const run = await client.run('hello', { name: 'sockpit' });
  console.log(`hello -> ${JSON.stringify(run.result)} (${run.tier}, ${run.timings.total?.toFixed(1)} ms)`);
  console.log(`\nsockpitd is serving ${socket}. Try:\n  node bin/sockpit.js --socket ${socket} run hello '{"name": "you"}'\n`);
  await client.close();
  if (!daemon) return;
  const stop = () => daemon.kill('SIGTERM');
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => {
  console.error(`npm start: ${err.message}`);
  process.exit(1);
});
