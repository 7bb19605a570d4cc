// The v2 suite: sockpit installed from its .deb and run by systemd (sockpitd.service) on a pure cgroup v2 host,
// checked from outside the way the hybrid host's integration tests check it. Runs in the Debian 12 guest of
// `scripts/vm.sh test` (packaging/vm/test/run-in-guest.sh), as root, against /run/sockpit/sockpitd.sock; on any
// other machine it refuses to start rather than touch that machine's service.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SockpitClient, type RunResult } from '../../../service/src/client';
import { alive, uidOf } from '../../../service/src/bench/leaks';

const SOCKET = '/run/sockpit/sockpitd.sock';
const UNIT = 'sockpitd.service';
const CGROUP_ROOT = '/sys/fs/cgroup';
/** software emulation runs code 10-15x slower than the host; waits scale with it */
const SCALE = Number(process.env.SOCKPIT_TEST_TIME_SCALE ?? 1);

function systemctl(...args: string[]): string {
  return execFileSync('systemctl', args, { encoding: 'utf8' }).trim();
}

function unitProperty(name: string): string {
  return systemctl('show', '--property', name, '--value', UNIT);
}

async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms * SCALE;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const read = (dir: string, file: string): string => fs.readFileSync(path.join(dir, file), 'utf8').trim();
const procsOf = (dir: string): number[] => read(dir, 'cgroup.procs').split('\n').filter(Boolean).map(Number);

/** The unit's cgroup directory, and the daemon's tag directory in it (sockpit-<hash of the state directory>). */
function unitDirs(): { unit: string; tag: string } {
  const unit = path.join(CGROUP_ROOT, unitProperty('ControlGroup'));
  const tags = fs.readdirSync(unit).filter((n) => n.startsWith('sockpit-'));
  assert.equal(tags.length, 1, `one tag directory under ${unit}: ${tags.join(', ')}`);
  return { unit, tag: path.join(unit, tags[0]) };
}

const poolSlots = (tag: string): string[] =>
  fs.readdirSync(tag).filter((n) => n.startsWith('pool-')).map((n) => path.join(tag, n));

/** pool cgroups with processes in them whose limits are `memoryMb` (the sandbox of a call with those limits) */
function slotsWithMemory(tag: string, memoryMb: number): string[] {
  return poolSlots(tag).filter((s) => procsOf(s).length > 0 && read(s, 'memory.max') === String(memoryMb * 2 ** 20));
}

function writeFunction(dir: string, files: Record<string, string>): string {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

const limitsYaml = (l: { memory_mb?: number; pids?: number; cpus?: number; timeout_ms?: number }): string =>
  `limits:\n${Object.entries(l).map(([k, v]) => `  ${k}: ${v}\n`).join('')}`;

describe('sockpitd.service on pure cgroup v2 under systemd', { concurrency: false }, () => {
  let client: SockpitClient;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'sockpit-v2-'));
  const deploy = (name: string, files: Record<string, string>) => client.deploy(name, writeFunction(path.join(work, name), files));

  before(async () => {
    assert.ok(fs.existsSync('/run/systemd/system'), 'systemd is PID 1');
    assert.ok(!fs.existsSync(path.join(CGROUP_ROOT, 'memory')), 'a pure cgroup v2 host (no v1 memory hierarchy)');
    assert.equal(unitProperty('ActiveState'), 'active', 'the package started the service');
    client = new SockpitClient(SOCKET);
  });

  after(async () => {
    await client.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('the daemon is the unit\'s main process, in a leaf of its delegated subtree, with the pool beside it', async () => {
    const status = await client.status();
    assert.equal(status.pid, Number(unitProperty('MainPID')), 'Type=notify: the pid systemd started is the daemon');
    assert.equal(unitProperty('SubState'), 'running');
    assert.equal(status.cgroupMode, 'v2');
    assert.equal(status.cgroups.memory, 'v2');
    assert.equal(status.cgroups.freezer, 'v2');
    assert.equal(status.cgroups.killer, 'cgroup.kill');
    const { unit, tag } = unitDirs();
    assert.equal(fs.readFileSync(`/proc/${status.pid}/cgroup`, 'utf8').trim(), `0::${path.relative(CGROUP_ROOT, tag).replace(/^/, '/')}/daemon`);
    assert.deepEqual(procsOf(unit), [], 'no process in an inner cgroup (the unit\'s own)');
    for (const dir of [unit, tag]) {
      const enabled = read(dir, 'cgroup.subtree_control').split(' ');
      for (const c of ['memory', 'pids', 'cpu']) assert.ok(enabled.includes(c), `${c} enabled below ${dir}: ${enabled}`);
    }
    assert.equal(poolSlots(tag).length, status.pool.size, 'the pool\'s cgroups are under the unit\'s subtree');
    assert.equal(unitProperty('Delegate'), 'yes');
  });

  test('memory, pids and cpu limits are written to the v2 files of the call\'s cgroup', async () => {
    await deploy('limited', {
      'f.py': 'import time\ndef f(e):\n    time.sleep(e["seconds"])\n    return "slept"\n',
      'ol.yaml': limitsYaml({ memory_mb: 96, pids: 24, cpus: 0.5, timeout_ms: 600_000 }),
    });
    const { tag } = unitDirs();
    const call = client.run('limited', { seconds: 4 * SCALE });
    let slot = '';
    await eventually(() => ([slot] = slotsWithMemory(tag, 96)).length > 0 && slot !== undefined, 'the call\'s cgroup');
    assert.equal(read(slot, 'pids.max'), '24');
    assert.equal(read(slot, 'cpu.max'), '50000 100000');
    const r = await call;
    assert.equal(r.status, 200, JSON.stringify(r.error));
    assert.equal(r.result, 'slept');
  });

  test('an idle instance is frozen with cgroup.freeze, and thawed for its next call', async () => {
    const { tag } = unitDirs();
    let slot = '';
    // after its call the instance is kept warm, frozen: its cgroup says so (cgroup.events "frozen 1")
    await eventually(() => {
      [slot] = slotsWithMemory(tag, 96);
      return slot !== undefined && read(slot, 'cgroup.freeze') === '1' && read(slot, 'cgroup.events').includes('frozen 1');
    }, 'the warm instance frozen');
    const r = await client.run('limited', { seconds: 0 });
    assert.equal(r.status, 200, JSON.stringify(r.error));
    assert.equal(r.tier, 'warm');
  });

  test('a fresh function is served by the Zygote tier', async () => {
    const status = await client.status();
    assert.equal(status.zygotes.enabled, true, 'Zygotes are on (Landlock and user namespaces are there on 6.1)');
    await deploy('fresh', { 'f.py': 'import os\ndef f(e):\n    return os.getuid()\n' });
    const r = await client.run('fresh', null);
    assert.equal(r.status, 200, JSON.stringify(r.error));
    assert.equal(r.tier, 'zygote');
    assert.equal(r.result, 65534, 'function code runs as the sandbox user');
  });

  test('running out of memory is a 507, read from memory.events, and the daemon serves on', async () => {
    await deploy('hungry', {
      'f.py': 'def f(e):\n    chunks = []\n    while True:\n        chunks.append(bytearray(8 << 20))\n',
      'ol.yaml': limitsYaml({ memory_mb: 64, timeout_ms: 600_000 }),
    });
    const r: RunResult = await client.run('hungry', null);
    assert.equal(r.status, 507, JSON.stringify(r));
    assert.equal((await client.run('fresh', null)).status, 200);
  });

  test('a fork bomb is stopped at the pids limit and its cgroup emptied by cgroup.kill', async () => {
    await deploy('bomb', {
      'f.py': 'import os, time\ndef f(e):\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            time.sleep(0.01)\n',
      'ol.yaml': limitsYaml({ memory_mb: 80, pids: 16, timeout_ms: 3000 * SCALE }),
    });
    const { tag } = unitDirs();
    const r = await client.run('bomb', null);
    assert.equal(r.status, 504, JSON.stringify(r));
    await eventually(() => slotsWithMemory(tag, 80).length === 0, 'the fork bomb\'s cgroup emptied');
    assert.equal((await client.run('fresh', null)).status, 200);
  });

  test('a crashed daemon is restarted by systemd, and the new one reclaims everything', async () => {
    const before = await client.status();
    const restarts = Number(unitProperty('NRestarts'));
    // every process of the old daemon's sandboxes and Zygotes, to check they are gone after
    const { tag } = unitDirs();
    const oldProcs = poolSlots(tag).flatMap(procsOf);
    assert.ok(oldProcs.length > 0, 'the old daemon had sandboxes');
    await client.close();
    systemctl('kill', '--kill-who=main', '--signal=SIGKILL', UNIT);
    await eventually(() => Number(unitProperty('NRestarts')) === restarts + 1 && unitProperty('ActiveState') === 'active', 'systemd\'s restart', 60_000);
    client = new SockpitClient(SOCKET);
    const now = await client.status();
    assert.notEqual(now.pid, before.pid);
    assert.deepEqual(oldProcs.filter(alive), [], 'no process of the crashed daemon\'s sandboxes is left');
    assert.ok((await client.listFunctions()).some((f) => f.name === 'limited'), 'deployed functions survive the crash');
    const r = await client.run('limited', { seconds: 0 });
    assert.equal(r.status, 200, JSON.stringify(r.error));
    assert.deepEqual(procsOf(unitDirs().unit), []);
  });

  test('systemctl stop leaves no cgroup, process, mount, network helper or socket behind', async () => {
    await client.run('fresh', null); // something running to take down
    await client.close();
    const unitCgroup = path.join(CGROUP_ROOT, unitProperty('ControlGroup'));
    systemctl('stop', UNIT);
    assert.equal(unitProperty('ActiveState'), 'inactive');
    assert.equal(unitProperty('Result'), 'success', 'the daemon stopped cleanly (exit 0), not killed by systemd');
    assert.ok(!fs.existsSync(unitCgroup), `${unitCgroup} is removed`);
    assert.ok(!fs.existsSync(SOCKET), 'the socket is removed');
    const leftovers: string[] = [];
    for (const entry of fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
      const pid = Number(entry);
      const uid = uidOf(pid);
      let cmd = '';
      try {
        cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      } catch {
        continue;
      }
      if (uid === 65534 || (uid !== null && uid >= 400_000) || /slirp4netns|sockpit/.test(cmd)) leftovers.push(`${pid} (uid ${uid}) ${cmd}`);
      try {
        if (/\/var\/lib\/sockpit\//.test(fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8'))) leftovers.push(`${pid}: mounts under /var/lib/sockpit`);
      } catch {
        // gone
      }
    }
    assert.deepEqual(leftovers.filter((l) => !l.includes('v2.test')), []);
    systemctl('start', UNIT);
    assert.equal(unitProperty('ActiveState'), 'active', 'and it starts again');
    client = new SockpitClient(SOCKET);
    assert.equal((await client.status()).pid, Number(unitProperty('MainPID')));
  });
});
