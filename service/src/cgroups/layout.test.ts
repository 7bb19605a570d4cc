import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { SockpitError } from '../errors';
import { detectLayout, parseMountinfo, unifiedOwnDir, withoutUnified } from './layout';

// This development machine (hybrid), verbatim.
const HYBRID_CGROUP = `9:name=systemd:/
8:pids:/
7:blkio:/
6:freezer:/
5:devices:/
4:memory:/process_api/c6f3bc70d6ed1f9b434f8a95b73a5757
3:cpuset:/
2:cpuacct:/
1:cpu:/
0::/
`;
const HYBRID_MOUNTINFO = `23 1 253:1 / / rw,relatime - ext4 /dev/vda rw
24 23 0:5 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

// A systemd desktop (pure v2), daemon started with systemd-run --scope -p Delegate=yes.
const V2_CGROUP = '0::/system.slice/run-r1234.scope\n';
const V2_MOUNTINFO = `22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro
25 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
26 25 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
27 22 0:24 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
`;

// An old distribution on pure v1 (co-mounted cpu,cpuacct, systemd's named hierarchy, no cgroup2 at all).
const V1_CGROUP = `11:pids:/system.slice/sockpitd.service
10:freezer:/
9:memory:/system.slice/sockpitd.service
8:cpu,cpuacct:/system.slice/sockpitd.service
7:blkio:/system.slice/sockpitd.service
6:devices:/system.slice/sockpitd.service
1:name=systemd:/system.slice/sockpitd.service
`;
const V1_MOUNTINFO = `18 0 8:1 / / rw,relatime - ext4 /dev/sda1 rw
24 18 0:20 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:4 - tmpfs tmpfs ro,mode=755
25 24 0:21 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:5 - cgroup cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd
28 24 0:24 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
29 24 0:25 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,memory
30 24 0:26 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,freezer
31 24 0:27 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,pids
`;

test('hybrid: controllers on v1, own memory cgroup kept, unified hierarchy for freeze/kill', () => {
  const l = detectLayout(HYBRID_CGROUP, HYBRID_MOUNTINFO, 'hugetlb\n');
  assert.equal(l.mode, 'hybrid');
  assert.deepEqual(l.controllers.memory, {
    version: 1,
    mountpoint: '/sys/fs/cgroup/memory',
    own: '/process_api/c6f3bc70d6ed1f9b434f8a95b73a5757',
    dir: '/sys/fs/cgroup/memory/process_api/c6f3bc70d6ed1f9b434f8a95b73a5757',
  });
  assert.deepEqual(l.controllers.pids, { version: 1, mountpoint: '/sys/fs/cgroup/pids', own: '/', dir: '/sys/fs/cgroup/pids' });
  assert.equal(l.controllers.cpu.mountpoint, '/sys/fs/cgroup/cpu'); // not cpuacct nor cpuset
  assert.equal(l.controllers.freezer.version, 1);
  assert.deepEqual(l.unified, { mountpoint: '/sys/fs/cgroup/unified', own: '/', dir: '/sys/fs/cgroup/unified' });
});

test('pure v2: every controller on the unified hierarchy, freezer without a listing', () => {
  const l = detectLayout(V2_CGROUP, V2_MOUNTINFO, 'cpuset cpu io memory pids\n');
  assert.equal(l.mode, 'v2');
  for (const c of ['memory', 'pids', 'cpu', 'freezer'] as const) {
    assert.deepEqual(l.controllers[c], {
      version: 2,
      mountpoint: '/sys/fs/cgroup',
      own: '/system.slice/run-r1234.scope',
      dir: '/sys/fs/cgroup/system.slice/run-r1234.scope',
    });
  }
  assert.equal(l.unified?.dir, '/sys/fs/cgroup/system.slice/run-r1234.scope');
});

test('pure v1: co-mounted cpu,cpuacct, no unified hierarchy', () => {
  const l = detectLayout(V1_CGROUP, V1_MOUNTINFO);
  assert.equal(l.mode, 'v1');
  assert.equal(l.unified, undefined);
  assert.equal(l.controllers.cpu.dir, '/sys/fs/cgroup/cpu,cpuacct/system.slice/sockpitd.service');
  assert.equal(l.controllers.memory.dir, '/sys/fs/cgroup/memory/system.slice/sockpitd.service');
  assert.equal(l.controllers.freezer.dir, '/sys/fs/cgroup/freezer');
  assert.equal(l.controllers.pids.version, 1);
});

test('missing controllers are an error naming them', () => {
  // pure v2 where the delegation gave us only memory
  assert.throws(
    () => detectLayout(V2_CGROUP, V2_MOUNTINFO, 'memory'),
    (err: unknown) => err instanceof SockpitError && /not available: pids, cpu$/.test(err.message),
  );
  // v1 without a pids hierarchy and no unified one
  const noPids = V1_MOUNTINFO.split('\n').filter((l) => !l.includes('cgroup/pids')).join('\n');
  assert.throws(() => detectLayout(V1_CGROUP, noPids), /not available: pids/);
});

test('a cgroup namespace or bind mount whose root is our own cgroup maps to the mountpoint', () => {
  const cg = '0::/docker/abc\n';
  const mi = '26 25 0:23 /docker/abc /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw\n';
  const l = detectLayout(cg, mi, 'memory pids cpu');
  assert.equal(l.controllers.memory.dir, '/sys/fs/cgroup');
  assert.equal(l.controllers.memory.own, '/docker/abc');
  // a mount that does not show our cgroup is not used
  assert.throws(() => detectLayout('0::/elsewhere\n', mi, 'memory pids cpu'), /not available/);
});

test('mountinfo escapes and unifiedOwnDir', () => {
  const m = parseMountinfo('40 31 0:37 / /sys/fs/with\\040space rw - cgroup2 cgroup2 rw\n');
  assert.equal(m[0].mountpoint, '/sys/fs/with space');
  assert.equal(unifiedOwnDir(V2_CGROUP, V2_MOUNTINFO), '/sys/fs/cgroup/system.slice/run-r1234.scope');
  assert.equal(unifiedOwnDir(V1_CGROUP, V1_MOUNTINFO), undefined);
});

test('withoutUnified turns the hybrid layout into the v1 one, and refuses on v2', () => {
  const l = withoutUnified(detectLayout(HYBRID_CGROUP, HYBRID_MOUNTINFO, ''));
  assert.equal(l.mode, 'v1');
  assert.equal(l.unified, undefined);
  assert.throws(() => withoutUnified(detectLayout(V2_CGROUP, V2_MOUNTINFO, 'memory pids cpu')));
});
