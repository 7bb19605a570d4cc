// What a sandbox's egress may not reach, as an nftables ruleset loaded into its network namespace (pure: the
// addresses come in, the text goes out). slirp4netns (egress.ts) opens every outbound connection from the host's
// network namespace, so without these rules a function could reach whatever the host reaches: its loopback
// (slirp4netns is started with --disable-host-loopback too), link-local metadata services, its own interface
// addresses, the private networks it sits on. The rules drop all of that on output, before slirp4netns sees a
// packet, so a quirk of slirp4netns or of its DNS forwarder can't open a way around them.

import net from 'node:net';

/** Never reachable through egress (unless network.allow lists them): the host and the networks around it. */
export const DENIED_V4 = [
  '0.0.0.0/8', // "this network"
  '10.0.0.0/8',
  '100.64.0.0/10', // carrier-grade NAT
  '127.0.0.0/8',
  '169.254.0.0/16', // link-local: cloud metadata
  '172.16.0.0/12',
  '192.168.0.0/16',
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, broadcast
];
export const DENIED_V6 = [
  '::/127', // unspecified, loopback
  '::ffff:0:0/96', // IPv4-mapped: the v4 list in another form
  'fc00::/7', // unique local
  'fe80::/10', // link-local
  'ff00::/8', // multicast
];

/** slirp4netns's defaults (--configure): the sandbox is 10.0.2.100, its DNS forwarder 10.0.2.3 */
export const SLIRP_DNS = '10.0.2.3';

/** Parses "a.b.c.d/n", "x::/n" or a bare address (a /32 or /128); null when it is none of those. */
export function parseCidr(text: string): { family: 4 | 6; cidr: string } | null {
  const [address, bits, ...rest] = text.split('/');
  const family = net.isIP(address);
  if ((family !== 4 && family !== 6) || rest.length > 0) return null;
  const max = family === 4 ? 32 : 128;
  if (bits === undefined) return { family, cidr: `${address}/${max}` };
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return null;
  return { family, cidr: `${address}/${Number(bits)}` };
}

export interface EgressRules {
  /** CIDRs reachable even though the deny list covers them (network.allow) */
  allow: string[];
  /** the host's own addresses (any of them, public too, reaches the host): host-addresses.ts */
  hostAddresses: string[];
}

const TABLE = 'inet sockpit_egress';

/**
 * The ruleset, one table of its own. Its own loopback stays open (a function may talk to itself); DNS goes to
 * slirp4netns's forwarder only (port 53, nothing else of 10.0.2.0/24: 10.0.2.2 is the host); the host's own
 * addresses (sets host4/host6, updated when they change: hostAddressUpdate) are refused before network.allow is
 * looked at. Denied packets get a reject, so a connect() fails at once instead of timing out.
 */
export function egressRuleset({ allow, hostAddresses }: EgressRules): string {
  const set = (items: string[]) => `{ ${items.join(', ')} }`;
  const lines = [
    'table inet sockpit_egress {',
    '  set host4 { type ipv4_addr; flags interval; auto-merge; }',
    '  set host6 { type ipv6_addr; flags interval; auto-merge; }',
    '  chain output {',
    '    type filter hook output priority 0; policy accept;',
    '    oifname "lo" accept',
    `    ip daddr ${SLIRP_DNS} meta l4proto { tcp, udp } th dport 53 accept`,
    // the host's own addresses first: network.allow never opens the host itself
    '    ip daddr @host4 reject',
    '    ip6 daddr @host6 reject',
  ];
  // one rule per entry: entries may overlap, which one anonymous interval set refuses
  for (const c of new Set(allow.map(parseCidr))) if (c) lines.push(`    ${c.family === 4 ? 'ip' : 'ip6'} daddr ${c.cidr} accept`);
  lines.push(`    ip daddr ${set(DENIED_V4)} reject`);
  lines.push(`    ip6 daddr ${set(DENIED_V6)} reject`);
  lines.push('  }', '}', hostAddressUpdate(hostAddresses));
  return lines.join('\n');
}

/** Replaces the host address sets of a namespace's table with these addresses. */
export function hostAddressUpdate(hostAddresses: string[]): string {
  const cidrs = hostAddresses.map(parseCidr).filter((c) => c !== null);
  const lines = [`flush set ${TABLE} host4`, `flush set ${TABLE} host6`];
  for (const family of [4, 6] as const) {
    const mine = cidrs.filter((c) => c.family === family).map((c) => c.cidr);
    if (mine.length) lines.push(`add element ${TABLE} host${family} { ${mine.join(', ')} }`);
  }
  return `${lines.join('\n')}\n`;
}
