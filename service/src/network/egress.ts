// The egress path of one pooled network namespace: nftables rules loaded into it (egress-rules.ts), then a
// slirp4netns process (a user-mode TCP/IP stack, Podman's and rootless Docker's) that gives it a tap0 with a
// default route and opens the namespace's outbound connections as ordinary sockets in the host's network
// namespace. Nothing of the host's configuration changes: no forwarding, no host firewall rule, no veth.
//
// Both run as root in the initial user namespace, which may enter any network namespace (the Zygotes' are owned
// by their user namespace, a child of ours). They join it through the pool's fd, inherited as fd 3: no path, no
// pid names it. slirp4netns is started sandboxed (--enable-sandbox: its own mount namespace, capabilities
// dropped; --enable-seccomp) since it parses what the function sends; and with --exit-fd on a pipe whose other
// end only the daemon holds, so it exits with the daemon even if the daemon is killed.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SockpitError } from '../errors';
import { which } from '../paths';
import { egressRuleset, hostAddressUpdate } from './egress-rules';
import type { HostAddressWatch } from './host-addresses';

export interface EgressOptions {
  /** CIDRs reachable though the deny list covers them (config network.allow) */
  allow: string[];
  /** the host's own addresses, refused in every namespace (the pools update them when they change) */
  hosts: HostAddressWatch;
  /** programs, absolute paths (findEgressTools) */
  slirp4netns?: string;
  nsenter?: string;
  nft?: string;
}

/** A running slirp4netns serving one namespace. */
export interface EgressHelper {
  pid: number;
  /** resolves when the process is gone (killed, or crashed: the namespace then has no way out) */
  exited: Promise<void>;
  /** SIGKILL, by pid, once; exited resolves when it is reaped */
  kill(): void;
  alive(): boolean;
}

type EgressTools = Required<Pick<EgressOptions, 'slirp4netns' | 'nsenter' | 'nft'>>;

/**
 * The programs egress runs, as absolute paths (nft is in /usr/sbin, which a daemon's PATH may lack); refuses to
 * start without them rather than failing every namespace, later, one by one.
 */
export function findEgressTools(): EgressTools {
  const find = (program: string) => which(program, ['/usr/sbin', '/usr/bin', '/sbin', '/bin']) ?? undefined;
  const found = { slirp4netns: find('slirp4netns'), nsenter: find('nsenter'), nft: find('nft') };
  const missing = Object.entries(found).filter(([, file]) => file === undefined).map(([program]) => program);
  if (missing.length > 0) {
    throw new SockpitError(
      'bad_request',
      `network.egress needs ${missing.join(', ')} (Debian: apt-get install slirp4netns nftables util-linux), or set network.egress: false (loopback only)`,
    );
  }
  return found as EgressTools;
}

/** Loads the rules into the namespace held by `netnsFd`, then starts slirp4netns on it; resolves once it is up. */
export async function startEgress(netnsFd: number, opts: EgressOptions, hostAddresses: string[]): Promise<EgressHelper> {
  await loadRules(netnsFd, egressRuleset({ allow: opts.allow, hostAddresses }), opts);
  return startSlirp(netnsFd, opts);
}

/** Replaces the host's addresses in the rules of a namespace that has them. */
export function updateHostAddresses(netnsFd: number, opts: EgressOptions, hostAddresses: string[]): Promise<void> {
  return loadRules(netnsFd, hostAddressUpdate(hostAddresses), opts);
}

function loadRules(netnsFd: number, ruleset: string, opts: EgressOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(opts.nsenter ?? 'nsenter', ['--net=/proc/self/fd/3', opts.nft ?? 'nft', '-f', '-'], {
      stdio: ['pipe', 'ignore', 'pipe', netnsFd],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4096)));
    child.once('error', (err) => reject(new SockpitError('internal', `Can't run nft for a network namespace: ${err.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new SockpitError('internal', `nft in a network namespace failed (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
    });
    child.stdin!.end(ruleset);
  });
}

function startSlirp(netnsFd: number, opts: EgressOptions): Promise<EgressHelper> {
  const args = ['--configure', '--disable-host-loopback', '--enable-sandbox', '--enable-seccomp', '--mtu=65520'];
  args.push('--ready-fd=4', '--exit-fd=5', '--netns-type=path', '/proc/self/fd/3', 'tap0');
  // fd 4: it writes "1" there once tap0 is configured; fd 5: it exits when that pipe closes (the daemon's end)
  const child = spawn(opts.slirp4netns ?? 'slirp4netns', args, { stdio: ['ignore', 'ignore', 'pipe', netnsFd, 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4096)));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let killed = false;
  const helper: EgressHelper = {
    pid: child.pid ?? -1,
    exited,
    kill() {
      if (killed || child.exitCode !== null || child.signalCode !== null) return;
      killed = true;
      child.kill('SIGKILL');
    },
    alive: () => child.exitCode === null && child.signalCode === null,
  };
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      helper.kill();
      reject(new SockpitError('internal', `slirp4netns for a network namespace ${why}${stderr.trim() ? `: ${stderr.trim()}` : ''}`));
    };
    child.once('error', (err) => fail(`can't start: ${err.message}`));
    const ready = child.stdio[4] as NodeJS.ReadableStream;
    ready.once('data', () => {
      child.removeAllListeners('exit');
      resolve(helper);
    });
    child.once('exit', (code, signal) => fail(`exited before it was ready (${signal ?? `exit ${code}`})`));
  });
}
