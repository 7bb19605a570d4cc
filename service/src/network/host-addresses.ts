// The host's own addresses, which egress must refuse whatever range they are in (a public address of the host
// reaches its services as well as 127.0.0.1 does). Read from the kernel's tables of the daemon's network namespace
// rather than from os.networkInterfaces(), which leaves out interfaces without carrier: every address the host
// accepts packets for is a "host LOCAL" entry of /proc/net/fib_trie (IPv4), or a line of /proc/net/if_inet6.
// Addresses change (DHCP, an interface brought up): a watch reads them again every few seconds and tells the
// pools, which update the set in every namespace they hold.

import fs from 'node:fs';

/** "a.b.c.d/n" of every local entry of /proc/net/fib_trie */
export function parseFibTrie(text: string): string[] {
  const out = new Set<string>();
  let last: string | null = null;
  for (const line of text.split('\n')) {
    const node = /\|-- (\d+\.\d+\.\d+\.\d+)/.exec(line);
    if (node) last = node[1];
    const leaf = /^\s*\/(\d+) host LOCAL/.exec(line);
    if (leaf && last) out.add(`${last}/${leaf[1]}`);
  }
  return [...out].sort();
}

/** the addresses of /proc/net/if_inet6 ("fe80000000000000…" per line), as x:x:…/128 */
export function parseIfInet6(text: string): string[] {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const hex = /^([0-9a-f]{32})\s/.exec(line)?.[1];
    if (hex) out.add(`${hex.match(/.{4}/g)!.join(':')}/128`);
  }
  return [...out].sort();
}

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return ''; // no IPv6 (or no IPv4) in this kernel: none of its addresses to refuse
  }
}

/** The daemon's namespace's addresses now. */
export function readHostAddresses(): string[] {
  return [...parseFibTrie(readOr('/proc/net/fib_trie')), ...parseIfInet6(readOr('/proc/net/if_inet6'))];
}

/** How often the addresses are read again: an address the host gains is refused within this time. */
const WATCH_MS = 2000;

/** The current list, with a version that changes with it; listeners hear of each change. */
export class HostAddressWatch {
  private list = readHostAddresses();
  private key = this.list.join(',');
  version = 0;
  private readonly listeners = new Set<() => void>();
  private readonly timer = setInterval(() => this.check(), WATCH_MS).unref();

  get addresses(): string[] {
    return this.list;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads the addresses again (also called by the timer); tells the listeners when they changed. */
  check(): void {
    const list = readHostAddresses();
    const key = list.join(',');
    if (key === this.key) return;
    this.list = list;
    this.key = key;
    this.version++;
    for (const listener of this.listeners) listener();
  }

  close(): void {
    clearInterval(this.timer);
    this.listeners.clear();
  }
}
