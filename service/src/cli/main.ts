// `sockpit`: the command line. `sockpit daemon` runs the service; every other command is a client of it.
// Every command takes --socket PATH (or SOCKPIT_SOCKET), so several daemons can run side by side.

import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ApiError, RunResult, SockpitClient, socketFromEnv } from '../client';
import { loadConfig } from '../config';
import { Daemon, VERSION } from '../daemon/daemon';
import { SockpitError } from '../errors';
import { execInPrivateMountNamespace, inPrivateMountNamespace } from '../daemon/mountns';
import { ignoreClosedOutput, stopWithOwner, tellSupervisor } from '../daemon/parent';
import { addTelemetryCommands } from './telemetry-commands';
import { addPanelCommand } from './panel-command';
import { formatTree } from './tree';
import { formatKernel } from './kernel-lines';

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

const program = new Command('sockpit')
  .description('serverless Python functions in lean containers, started in milliseconds from Zygotes')
  .version(VERSION)
  .option('--socket <path>', "sockpitd's unix socket (default: $SOCKPIT_SOCKET or /run/sockpit/sockpitd.sock)")
  .showHelpAfterError();

function client(cmd: Command): SockpitClient {
  return new SockpitClient(socketFromEnv(cmd.optsWithGlobals().socket));
}

/** Runs a client command: prints API errors plainly and sets the exit code. */
function withClient(action: (c: SockpitClient, ...args: any[]) => Promise<void>) {
  return async (...args: any[]) => {
    const cmd = args[args.length - 1] as Command;
    const c = client(cmd);
    try {
      await action(c, ...args);
    } catch (err) {
      process.exitCode = 1;
      if (err instanceof ApiError) console.error(`sockpit: ${err.message} (${err.status} ${err.code})`);
      else if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ECONNREFUSED') {
        console.error(`sockpit: can't reach sockpitd at ${c.socketPath}: is it running? (start it with \`sockpit daemon\`)`);
      } else console.error(`sockpit: ${(err as Error).message}`);
    } finally {
      await c.close();
    }
  };
}

program
  .command('daemon')
  .description('run sockpitd, the privileged provisioning service (as root)')
  .option('--config <file>', 'YAML or JSON configuration file (default: /etc/sockpit/sockpitd.yaml when present)')
  .option('--state-dir <dir>', 'where functions, the base image and sandboxes live (default: /var/lib/sockpit)')
  .option('--base <dir>', 'a root filesystem directory to use as the base image (default: assembled from the host)')
  .option('--python <path>', 'the interpreter inside the base image (default: /usr/bin/python3)')
  .option('--pool-size <n>', 'cgroups to pre-create in the pool', integer)
  .option('--index-url <url>', 'the package index pip installs from (a PEP 503 simple index)')
  .option('--find-links <dir>', 'an offline wheelhouse to install packages from (no index is used then)')
  .option('--no-zygotes', 'turn Zygotes off: every cold start is a fresh interpreter')
  .action(async (opts, cmd: Command) => {
    if (!inPrivateMountNamespace()) execInPrivateMountNamespace();
    ignoreClosedOutput();
    // one bad request or a bug in one path must not take every function down with it
    process.on('uncaughtException', (err) => console.error(`sockpitd: uncaught: ${err.stack}`));
    process.on('unhandledRejection', (err) => console.error(`sockpitd: unhandled rejection: ${(err as Error)?.stack ?? err}`));
    let daemon: Daemon | null = null;
    let stopping = false;
    const finish = (running: Daemon) =>
      running.stop().then(
        () => process.exit(0),
        (err) => {
          console.error(`sockpitd: stop failed: ${(err as Error).stack}`);
          process.exit(1);
        },
      );
    const stop = (why: string) => {
      if (stopping) return;
      stopping = true;
      console.log(`sockpitd: ${why}, stopping`);
      tellSupervisor('STOPPING=1');
      // while still starting, the stop runs once the start is done (or failed), so nothing is left half-made
      if (daemon !== null) finish(daemon);
    };
    // a supervisor may repeat SIGTERM while the stop runs: that changes nothing; a second Ctrl-C gives up on it
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => (stopping ? process.exit(130) : stop('SIGINT')));
    stopWithOwner(stop);
    const globals = cmd.optsWithGlobals();
    try {
      const config = loadConfig(opts.config, {
        socket: globals.socket ?? process.env.SOCKPIT_SOCKET,
        stateDir: opts.stateDir && path.resolve(opts.stateDir),
        base: opts.base && path.resolve(opts.base),
        python: opts.python,
        poolSize: opts.poolSize,
        indexUrl: opts.indexUrl,
        findLinks: opts.findLinks && path.resolve(opts.findLinks),
        noZygotes: opts.zygotes === false,
      });
      daemon = await Daemon.start(config);
      if (stopping) return void finish(daemon);
      const status = daemon.status();
      const line = `sockpitd ${VERSION} (pid ${process.pid}) listening on ${config.socket}; cgroups ${status.cgroupMode}, pool ${status.pool.size}, state ${config.stateDir}`;
      console.log(line);
      // systemd's Type=notify: the unit is started once the socket answers, not when the process exists
      tellSupervisor(`READY=1\nSTATUS=${line}`);
    } catch (err) {
      console.error(`sockpitd: ${err instanceof SockpitError ? err.message : (err as Error).stack}`);
      process.exit(1);
    }
  });

program
  .command('deploy <dir>')
  .description('deploy a function folder (f.py with def f(event), optional requirements.txt and ol.yaml): read here, as you, and uploaded')
  .option('--name <name>', 'function name (default: the folder name)')
  .action(
    withClient(async (c, dir: string, opts: { name?: string }) => {
      const abs = path.resolve(dir);
      const fn = await c.deploy(opts.name ?? path.basename(abs), abs);
      console.log(`deployed ${fn.name} v${fn.version} from ${fn.source} (owner uid ${fn.owner})`);
    }),
  );

program
  .command('run <name> [event]')
  .description('invoke a function with a JSON event (default: null); prints the result, the tier and the phase timings')
  .option('--json', 'print the whole result as JSON')
  .action(
    withClient(async (c, name: string, event: string | undefined, opts: { json?: boolean }) => {
      const result = await c.runRaw(name, event ?? 'null');
      if (opts.json) console.log(JSON.stringify(result, null, 2));
      else printRun(result);
      if (result.status !== 200) process.exitCode = 1;
    }),
  );

function printRun(r: RunResult): void {
  if (r.status === 200) console.log(JSON.stringify(r.result));
  else {
    console.error(`error ${r.status} ${r.error?.code}: ${r.error?.message}`);
    const traceback = (r.error?.detail as { traceback?: string } | undefined)?.traceback;
    if (traceback) console.error(traceback.trimEnd());
  }
  const timings = Object.entries(r.timings)
    .map(([k, v]) => `${k} ${v.toFixed(2)}`)
    .join(', ');
  if (r.tier) console.error(`tier ${r.tier}, sandbox ${r.sandbox}; ms: ${timings}`);
}

program
  .command('ls')
  .description('list deployed functions')
  .action(
    withClient(async (c) => {
      const fns = await c.listFunctions();
      if (fns.length === 0) return console.log('no functions deployed');
      for (const fn of fns) console.log(`${fn.name.padEnd(24)} v${String(fn.version).padEnd(4)} uid ${String(fn.owner).padEnd(6)} ${fn.deployedAt}  ${fn.source}`);
    }),
  );

program
  .command('rm <name>')
  .description('remove a function')
  .action(
    withClient(async (c, name: string) => {
      await c.remove(name);
      console.log(`removed ${name}`);
    }),
  );

program
  .command('status')
  .description("show sockpitd's status")
  .option('--json', 'print as JSON')
  .action(
    withClient(async (c, opts: { json?: boolean }) => {
      const s = await c.status();
      if (opts.json) return console.log(JSON.stringify(s, null, 2));
      console.log(`sockpitd ${s.version}, pid ${s.pid}, up ${s.uptimeSeconds.toFixed(0)} s`);
      console.log(`cgroups ${s.cgroupMode}; pool ${s.pool.size} (${s.pool.free} free, ${s.pool.inUse} in use)`);
      console.log(`base ${s.base}, python ${s.python}`);
      console.log(`functions ${s.functions}; instances ${s.instances.live} live, ${s.instances.idle} idle (${(s.instances.idleMemoryBytes / 2 ** 20).toFixed(1)} MB)`);
      if (s.zygotes.offBecause) console.log(`Zygotes off: ${s.zygotes.offBecause}`);
      for (const line of formatKernel(s)) console.log(line);
    }),
  );

addTelemetryCommands(program, (cmd) => socketFromEnv(cmd.optsWithGlobals().socket));
addPanelCommand(program, (cmd) => socketFromEnv(cmd.optsWithGlobals().socket));

program
  .command('tree')
  .description('show the Zygote lineage: packages, state, hits and memory of each Zygote')
  .option('--json', 'print as JSON')
  .action(
    withClient(async (c, opts: { json?: boolean }) => {
      const zygotes = await c.zygotes();
      if (opts.json) return console.log(JSON.stringify(zygotes, null, 2));
      if (zygotes.length === 0) return console.log('no Zygotes (they are off, or the base has not started)');
      console.log(formatTree(zygotes));
    }),
  );

const bench = program.command('bench').description('benchmarks, measured side by side in one run');
/** --progress-json (hidden): progress as JSON lines on stderr, for sockpitd's benchmark jobs */
const progressJson = () => new Option('--progress-json', 'write progress to stderr as JSON lines').hideHelp();
function positive(value: string): number {
  const n = integer(value);
  if (n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}
bench
  .command('sandbox')
  .description('sandbox create+destroy with and without the pool; cold python3 in sockpit vs bubblewrap vs crun')
  .option('--json', 'print the results as JSON')
  .option('--iterations <n>', 'python runs and invocations per mode (default 250); create/destroy runs 10x as many', positive)
  .addOption(progressJson())
  .action(async (opts) => {
    const { runSandboxBench } = await import('../bench/sandbox' as string);
    await runSandboxBench({ json: Boolean(opts.json), iterations: opts.iterations, progressJson: Boolean(opts.progressJson) });
  });
bench
  .command('provisioning')
  .description('cold start with Zygotes off vs Zygote hit vs warm call, and memory per instance, for functions importing nothing, requests, flask, numpy, pandas')
  .option('--json', 'print the results as JSON')
  .option('--iterations <n>', 'Zygote hits and warm calls per function (default 30); cold starts are a third of it', positive)
  .addOption(progressJson())
  .action(async (opts) => {
    const { runProvisioningBench } = await import('../bench/provisioning' as string);
    await runProvisioningBench({ json: Boolean(opts.json), iterations: opts.iterations, progressJson: Boolean(opts.progressJson) });
  });
bench
  .command('network')
  .description('what a network namespace per sandbox costs a call: cold, Zygote hit and warm; isolated with egress, loopback only, host')
  .option('--json', 'print the results as JSON')
  .option('--iterations <n>', 'calls timed per daemon (default 60)', positive)
  .action(async (opts) => {
    const { runNetworkBench } = await import('../bench/network' as string);
    await runNetworkBench({ json: Boolean(opts.json), iterations: opts.iterations });
  });

bench
  .command('load')
  .description('N concurrent clients over the socket while Zygotes and instances are killed at random: throughput, p50/p99, lost and wrong answers (must be 0), leaks')
  .option('--json', 'print the results as JSON')
  .option('--clients <n>', 'concurrent clients (default 32)', positive)
  .option('--calls <n>', 'calls in all (default 10000)', positive)
  .option('--functions <n>', 'functions to spread the calls over (default 8)', positive)
  .option('--kills', 'SIGKILL a random Zygote or instance every 50-100 ms (the default)')
  .option('--no-kills', 'no kills: the same load without faults')
  .option('--network <mode>', 'the daemon\'s network.mode: isolated (default) or host (to compare only)')
  .addOption(progressJson())
  .action(async (opts) => {
    const { runLoadBench } = await import('../bench/load' as string);
    await runLoadBench({
      json: Boolean(opts.json),
      clients: opts.clients,
      calls: opts.calls,
      functions: opts.functions,
      kills: opts.kills !== false,
      network: opts.network,
      progressJson: Boolean(opts.progressJson),
    });
  });

program.parseAsync(process.argv).catch((err) => {
  console.error(`sockpit: ${(err as Error).message}`);
  process.exit(1);
});
