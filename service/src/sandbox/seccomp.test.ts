import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildFilter } from './seccomp';

const ARCH_X86_64 = 0xc000003e;
const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;
const ENOSYS = 0x00050026;
const KILL = 0x80000000;

/** Runs a classic BPF seccomp filter over one seccomp_data, as the kernel would (the opcodes we emit). */
function run(filter: Buffer, nr: number, arg0 = 0, arch = ARCH_X86_64, arg1 = 0): number {
  const data = Buffer.alloc(64);
  data.writeUInt32LE(nr, 0);
  data.writeUInt32LE(arch, 4);
  data.writeUInt32LE(arg0 >>> 0, 16);
  data.writeUInt32LE(arg1 >>> 0, 24);
  let a = 0;
  for (let pc = 0; pc < filter.length / 8; ) {
    const code = filter.readUInt16LE(pc * 8);
    const jt = filter.readUInt8(pc * 8 + 2);
    const jf = filter.readUInt8(pc * 8 + 3);
    const k = filter.readUInt32LE(pc * 8 + 4);
    switch (code) {
      case 0x20:
        a = data.readUInt32LE(k);
        pc++;
        break;
      case 0x15:
        pc += 1 + (a === k ? jt : jf);
        break;
      case 0x35:
        pc += 1 + (a >= k ? jt : jf);
        break;
      case 0x45:
        pc += 1 + ((a & k) !== 0 ? jt : jf);
        break;
      case 0x06:
        return k;
      default:
        throw new Error(`unknown opcode ${code}`);
    }
  }
  throw new Error('fell off the end of the filter');
}

const SYS = { read: 0, write: 1, clone: 56, fork: 57, execve: 59, chroot: 161, mount: 165, ptrace: 101, unshare: 272, setns: 308, clone3: 435, bpf: 321 };
const NEWUTS = 0x04000000;
const NEWNS = 0x00020000;
const NEWPID = 0x20000000;
const NEWUSER = 0x10000000;
const NEWNET = 0x40000000;

test('instances: ordinary calls pass; mount, ptrace, bpf, chroot and unshare are refused', () => {
  const f = buildFilter('instance');
  for (const nr of [SYS.read, SYS.write, SYS.execve, SYS.fork]) assert.equal(run(f, nr), ALLOW, `nr ${nr}`);
  for (const nr of [SYS.mount, SYS.ptrace, SYS.bpf, SYS.chroot, SYS.unshare]) assert.equal(run(f, nr), EPERM, `nr ${nr}`);
});

test('clone: a plain fork passes, any namespace flag is refused; clone3 falls back with ENOSYS', () => {
  const f = buildFilter('instance');
  assert.equal(run(f, SYS.clone, 0x01200011), ALLOW, 'glibc fork flags');
  assert.equal(run(f, SYS.clone, NEWPID), EPERM);
  assert.equal(run(f, SYS.clone, NEWUSER | 0x11), EPERM);
  assert.equal(run(f, SYS.clone3), ENOSYS);
});

test('Zygotes may chroot and make PID, UTS and IPC namespaces, never user or network ones', () => {
  const f = buildFilter('zygote');
  assert.equal(run(f, SYS.chroot), ALLOW);
  assert.equal(run(f, SYS.unshare, NEWPID | 0x04000000 | 0x08000000), ALLOW);
  assert.equal(run(f, SYS.unshare, NEWUSER), EPERM);
  assert.equal(run(f, SYS.unshare, NEWPID | NEWNET), EPERM);
  assert.equal(run(f, SYS.clone, NEWUSER), EPERM);
  assert.equal(run(f, SYS.mount), EPERM);
  // the checks after an argument test still see the system call number
  assert.equal(run(f, SYS.read), ALLOW);
  assert.equal(run(f, SYS.bpf), EPERM);
});

test('setns: a Zygote may join a PID namespace (its own, after forking an instance) or a network namespace (passed for what it forks), nothing else', () => {
  const z = buildFilter('zygote');
  const fd = 7;
  assert.equal(run(z, SYS.setns, fd, ARCH_X86_64, NEWPID), ALLOW);
  assert.equal(run(z, SYS.setns, fd, ARCH_X86_64, NEWNET), ALLOW);
  for (const type of [0, NEWUSER, NEWNS, NEWUTS, NEWPID | NEWNET]) assert.equal(run(z, SYS.setns, fd, ARCH_X86_64, type), EPERM, `type ${type}`);
  assert.equal(run(z, SYS.read), ALLOW, 'the checks after it still see the system call number');
  assert.equal(run(buildFilter('instance'), SYS.setns, fd, ARCH_X86_64, NEWPID), EPERM, 'instances: never');
});

test("zygote-serving: stacked on the Zygotes once they hold their PID namespace, it refuses pidfd_open and nothing else", () => {
  const z = buildFilter('zygote-serving');
  assert.equal(run(z, 434, 1), EPERM, 'pidfd_open');
  for (const nr of [SYS.read, SYS.setns, SYS.clone, SYS.unshare]) assert.equal(run(z, nr), ALLOW, `syscall ${nr}`);
});

test('instances refuse pidfd_open too: a forked instance has it refused by its Zygotes\' filter, so a cold one must (docs/ARCHITECTURE.md "Entering a sandbox")', () => {
  assert.equal(run(buildFilter('instance'), 434, 1), EPERM, 'pidfd_open');
});

test('another architecture, or the x32 ABI, never gets through', () => {
  const f = buildFilter('instance');
  assert.equal(run(f, SYS.read, 0, 0x40000003), KILL, 'i386');
  assert.equal(run(f, 0x40000000 + SYS.mount), ENOSYS, 'x32 numbers');
});

test('socket(AF_VSOCK) is refused in both profiles; other families pass', () => {
  for (const profile of ['instance', 'zygote'] as const) {
    const f = buildFilter(profile);
    assert.equal(run(f, 41, 40), EPERM, `${profile}: AF_VSOCK`);
    for (const family of [1, 2, 10, 16]) assert.equal(run(f, 41, family), ALLOW, `${profile}: family ${family}`);
    assert.equal(run(f, SYS.read, 40), ALLOW, `${profile}: arg0 40 of another call`);
  }
});

test('personality() takes only the default persona or a query, in both profiles', () => {
  for (const profile of ['instance', 'zygote'] as const) {
    const f = buildFilter(profile);
    assert.equal(run(f, 135, 0), ALLOW);
    assert.equal(run(f, 135, 0xffffffff), ALLOW);
    for (const persona of [0x0040000 /* ADDR_NO_RANDOMIZE */, 0x0400000 /* READ_IMPLIES_EXEC */, 0x0008 /* UNAME26 */, 1]) {
      assert.equal(run(f, 135, persona), EPERM, `${profile}: persona ${persona}`);
    }
    assert.equal(run(f, SYS.write, 0x0040000), ALLOW, 'the value matters for personality only');
  }
});
