import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideProtections, KernelPolicyConfig, KernelProbe, ProtectionState } from './protections';

const HOST_6_18: KernelProbe = { release: '6.18.0', landlockAbi: 7, userns: true, seccomp: true, cgroupFreeze: true, cgroupKill: true, pidfd: true };
const DEBIAN_6_1: KernelProbe = { ...HOST_6_18, release: '6.1.0-28-amd64', landlockAbi: 2 };
const UBUNTU_5_15: KernelProbe = { ...HOST_6_18, release: '5.15.0-126-generic', landlockAbi: 1 };
const NO_LANDLOCK: KernelProbe = { ...HOST_6_18, landlockAbi: 0 };
const NO_USERNS: KernelProbe = { ...HOST_6_18, userns: false };
const CGROUP_V1: KernelProbe = { ...UBUNTU_5_15, cgroupFreeze: false, cgroupKill: false };

const ISOLATED: KernelPolicyConfig = { networkMode: 'isolated', zygotesEnabled: true, assumeLandlockAbi: null };
const HOST: KernelPolicyConfig = { ...ISOLATED, networkMode: 'host' };

type Row = {
  name: string;
  probe: KernelProbe;
  cfg: KernelPolicyConfig;
  states: Record<string, ProtectionState>;
  zygotes: boolean;
  /** a piece of the refusal message, or null when it starts */
  refuse: string | null;
};

const ALL_ACTIVE = {
  'filesystem reads': 'active',
  'abstract unix sockets': 'active',
  signals: 'active',
  'system call filter': 'active',
  'process handles': 'active',
  'cgroup kill': 'active',
  'cgroup freeze': 'active',
} as const;
const SCOPES_COVERED = { ...ALL_ACTIVE, 'abstract unix sockets': 'covered', signals: 'covered' } as const;

const rows: Row[] = [
  { name: '6.18 isolated', probe: HOST_6_18, cfg: ISOLATED, states: ALL_ACTIVE, zygotes: true, refuse: null },
  { name: '6.18 host network', probe: HOST_6_18, cfg: HOST, states: ALL_ACTIVE, zygotes: true, refuse: null },
  { name: '6.1 isolated', probe: DEBIAN_6_1, cfg: ISOLATED, states: SCOPES_COVERED, zygotes: true, refuse: null },
  {
    name: '6.1 host network',
    probe: DEBIAN_6_1,
    cfg: HOST,
    states: { ...SCOPES_COVERED, 'abstract unix sockets': 'missing' },
    zygotes: true,
    refuse: 'Landlock ABI 6 (abstract unix socket scoping), kernel 6.12+',
  },
  { name: '5.15 isolated', probe: UBUNTU_5_15, cfg: ISOLATED, states: SCOPES_COVERED, zygotes: true, refuse: null },
  {
    name: '5.15 host network',
    probe: UBUNTU_5_15,
    cfg: HOST,
    states: { ...SCOPES_COVERED, 'abstract unix sockets': 'missing' },
    zygotes: true,
    refuse: 'network.mode to "isolated"',
  },
  {
    name: '5.15 on cgroup v1',
    probe: CGROUP_V1,
    cfg: ISOLATED,
    states: { ...SCOPES_COVERED, 'cgroup kill': 'covered', 'cgroup freeze': 'covered' },
    zygotes: true,
    refuse: null,
  },
  {
    name: 'no Landlock, isolated',
    probe: NO_LANDLOCK,
    cfg: ISOLATED,
    states: { ...SCOPES_COVERED, 'filesystem reads': 'covered' },
    zygotes: false,
    refuse: null,
  },
  { name: 'no user namespaces', probe: NO_USERNS, cfg: ISOLATED, states: ALL_ACTIVE, zygotes: false, refuse: null },
  { name: 'Zygotes off in config', probe: HOST_6_18, cfg: { ...ISOLATED, zygotesEnabled: false }, states: ALL_ACTIVE, zygotes: false, refuse: null },
  {
    name: 'no seccomp',
    probe: { ...HOST_6_18, seccomp: false },
    cfg: ISOLATED,
    states: { ...ALL_ACTIVE, 'system call filter': 'missing' },
    zygotes: true,
    refuse: 'seccomp',
  },
  {
    name: 'no pidfds',
    probe: { ...HOST_6_18, pidfd: false },
    cfg: ISOLATED,
    states: { ...ALL_ACTIVE, 'process handles': 'missing' },
    zygotes: true,
    refuse: 'pidfd_open',
  },
  {
    name: '6.18 told to assume ABI 2 behaves as 6.1',
    probe: HOST_6_18,
    cfg: { ...ISOLATED, assumeLandlockAbi: 2 },
    states: SCOPES_COVERED,
    zygotes: true,
    refuse: null,
  },
  {
    name: 'assuming a higher ABI than the kernel has refuses',
    probe: DEBIAN_6_1,
    cfg: { ...ISOLATED, assumeLandlockAbi: 6 },
    states: SCOPES_COVERED,
    zygotes: true,
    refuse: 'may only lower it',
  },
];

for (const row of rows) {
  test(`protections: ${row.name}`, () => {
    const policy = decideProtections(row.probe, row.cfg);
    assert.deepEqual(Object.fromEntries(policy.protections.map((p) => [p.name, p.state])), row.states);
    assert.equal(policy.zygotes.run, row.zygotes, JSON.stringify(policy.zygotes));
    if (row.refuse === null) assert.equal(policy.refuse, null);
    else assert.ok(policy.refuse?.includes(row.refuse), `refusal ${JSON.stringify(policy.refuse)} should say ${row.refuse}`);
    // the invariant daemon.ts relies on: it starts only when nothing is missing
    assert.equal(policy.refuse === null || row.refuse === 'may only lower it', policy.protections.every((p) => p.state !== 'missing'));
    for (const p of policy.protections) {
      assert.equal(p.state === 'covered', p.coveredBy !== undefined, `${p.name}: coveredBy is set exactly when covered`);
      assert.ok(p.detail.length > 0);
    }
  });
}

test('the ABI used is the kernel\'s, or the lower one assumed', () => {
  assert.equal(decideProtections(HOST_6_18, ISOLATED).landlockAbi, 7);
  assert.equal(decideProtections(HOST_6_18, { ...ISOLATED, assumeLandlockAbi: 0 }).landlockAbi, 0);
  assert.equal(decideProtections(DEBIAN_6_1, { ...ISOLATED, assumeLandlockAbi: 6 }).landlockAbi, 2);
});

test('why the Zygotes are off names what is missing', () => {
  const reason = (probe: KernelProbe) => {
    const z = decideProtections(probe, ISOLATED).zygotes;
    return z.run ? '' : z.reason;
  };
  assert.match(reason(NO_USERNS), /user namespaces/);
  assert.match(reason(NO_LANDLOCK), /no Landlock/);
  // below ABI 6 they run: instances are out of their reach (PID namespaces, no CAP_KILL); the status says what is left
  assert.equal(reason(DEBIAN_6_1), '');
  const signals = decideProtections(DEBIAN_6_1, ISOLATED).protections.find((p) => p.name === 'signals')!;
  assert.match(signals.detail, /left open: package code in one Zygote can signal another Zygote/);
});

test('the cgroup features never decide a refusal (daemon.ts decides it before its cgroups exist)', () => {
  for (const probe of [HOST_6_18, DEBIAN_6_1, UBUNTU_5_15, NO_LANDLOCK, { ...HOST_6_18, seccomp: false }]) {
    for (const cfg of [ISOLATED, HOST]) {
      const refuse = decideProtections(probe, cfg).refuse;
      for (const cgroups of [{ cgroupFreeze: false, cgroupKill: false }, { cgroupFreeze: true, cgroupKill: true }]) {
        assert.equal(decideProtections({ ...probe, ...cgroups }, cfg).refuse, refuse);
      }
    }
  }
});
