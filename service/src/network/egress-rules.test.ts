import { test } from 'node:test';
import assert from 'node:assert/strict';
import { egressRuleset, hostAddressUpdate, parseCidr } from './egress-rules';

test('parseCidr: addresses become /32 or /128; bad prefixes, names and extra parts are refused', () => {
  assert.deepEqual(parseCidr('10.1.2.3'), { family: 4, cidr: '10.1.2.3/32' });
  assert.deepEqual(parseCidr('10.0.0.0/08'), { family: 4, cidr: '10.0.0.0/8' });
  assert.deepEqual(parseCidr('fd00::1'), { family: 6, cidr: 'fd00::1/128' });
  for (const bad of ['10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/x', 'host', '10.0.0.0/8/8', '', '1.2.3']) assert.equal(parseCidr(bad), null, bad);
});

test('the ruleset: own loopback and DNS to slirp4netns first, the host refused before the allow list, then the deny list', () => {
  const text = egressRuleset({ allow: ['10.88.0.10', 'fd00::/8', 'nonsense'], hostAddresses: ['203.0.113.1/32', 'fe80::1/128'] });
  const at = (needle: string) => {
    const i = text.indexOf(needle);
    assert.ok(i >= 0, `${needle} in\n${text}`);
    return i;
  };
  assert.ok(at('oifname "lo" accept') < at('ip daddr 10.0.2.3 meta l4proto { tcp, udp } th dport 53 accept'));
  assert.ok(at('ip daddr @host4 reject') < at('ip daddr 10.88.0.10/32 accept'));
  assert.ok(at('ip6 daddr @host6 reject') < at('ip6 daddr fd00::/8 accept'));
  assert.ok(at('ip daddr 10.88.0.10/32 accept') < at('ip daddr { 0.0.0.0/8, 10.0.0.0/8,'));
  for (const range of ['127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', 'fc00::/7', 'fe80::/10', '::/127']) at(range);
  assert.doesNotMatch(text, /nonsense/);
  at('add element inet sockpit_egress host4 { 203.0.113.1/32 }');
  at('add element inet sockpit_egress host6 { fe80::1/128 }');
});

test('a host address update replaces both sets, and leaves out a family with none', () => {
  assert.equal(hostAddressUpdate(['192.0.2.2/32']), 'flush set inet sockpit_egress host4\nflush set inet sockpit_egress host6\nadd element inet sockpit_egress host4 { 192.0.2.2/32 }\n');
});
