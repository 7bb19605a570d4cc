// Seccomp filters for sandboxes, as classic BPF bytes (struct sock_filter[]), built here once and installed by
// the addon (cold instances, Zygotes) or by the Zygote runtime (instances it forks). Pure: unit-tested with a
// small BPF evaluator.
//
// Two profiles. Both refuse, with EPERM, the system calls that reach kernel surface a function never needs or
// that would change the machine: mounts, ptrace, modules, kexec, bpf, perf, keyrings, io_uring, setns, new
// user/mount/network/cgroup/time namespaces, time and host name changes, reboot... The Zygote profile still
// allows what forking into a sandbox needs (chroot; unshare and clone of PID, UTS and IPC namespaces; setns of
// a PID namespace, so a Zygote can return to its own after it forked an instance into a new one, and of a network
// namespace, so what it forks joins the one sockpitd passed for it).
// clone3 answers ENOSYS: its flags sit in memory a filter can't read, and libc falls back to clone.
// Both refuse socket(AF_VSOCK) (the host's hypervisor sockets: Moby's default profile refuses them too) and
// personality() with anything but the default persona (PER_LINUX) or a query (0xffffffff): other personas
// turn off address-space randomisation or change what the kernel reports, and nothing here needs them.
//
// A third, 'zygote-serving', is stacked on the first Zygote once it holds a handle on its own PID namespace
// (zygote.py main), before any package code runs: it refuses pidfd_open. Zygotes are root in the user namespace
// that owns every Zygote-world network namespace, and setns takes a pidfd: with pidfd_open, package code could
// join the network namespace of any process it can name by pid (another function's instance).
// The instance profile refuses pidfd_open as well, so a cold instance and a forked one (which has the Zygotes'
// filters under its own) are held to the same policy.

export type Profile = 'instance' | 'zygote' | 'zygote-serving';

const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;

/** x86_64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl). */
const NR: Record<string, number> = {
  socket: 41,
  clone: 56,
  uselib: 134,
  personality: 135,
  vhangup: 153,
  pivot_root: 155,
  adjtimex: 159,
  chroot: 161,
  acct: 163,
  settimeofday: 164,
  mount: 165,
  umount2: 166,
  swapon: 167,
  swapoff: 168,
  reboot: 169,
  sethostname: 170,
  setdomainname: 171,
  iopl: 172,
  ioperm: 173,
  init_module: 175,
  delete_module: 176,
  quotactl: 179,
  ptrace: 101,
  syslog: 103,
  lookup_dcookie: 212,
  clock_settime: 227,
  kexec_load: 246,
  add_key: 248,
  request_key: 249,
  keyctl: 250,
  unshare: 272,
  perf_event_open: 298,
  fanotify_init: 300,
  name_to_handle_at: 303,
  open_by_handle_at: 304,
  clock_adjtime: 305,
  setns: 308,
  process_vm_readv: 310,
  process_vm_writev: 311,
  kcmp: 312,
  finit_module: 313,
  kexec_file_load: 320,
  bpf: 321,
  userfaultfd: 323,
  io_uring_setup: 425,
  io_uring_enter: 426,
  io_uring_register: 427,
  open_tree: 428,
  move_mount: 429,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  fspick: 433,
  clone3: 435,
  pidfd_open: 434,
  pidfd_getfd: 438,
  mount_setattr: 442,
};

const CLONE_NEWTIME = 0x00000080;
const CLONE_NEWNS = 0x00020000;
const CLONE_NEWCGROUP = 0x02000000;
const CLONE_NEWUTS = 0x04000000;
const CLONE_NEWIPC = 0x08000000;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWPID = 0x20000000;
const CLONE_NEWNET = 0x40000000;
const ALL_NAMESPACES = CLONE_NEWTIME | CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;
/** what a Zygote may still create: the cheap namespaces (docs/ARCHITECTURE.md) */
const ZYGOTE_NAMESPACES = CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;

const ALWAYS_DENIED = [
  'uselib', 'vhangup', 'pivot_root', 'adjtimex', 'acct', 'settimeofday', 'mount', 'umount2', 'swapon', 'swapoff',
  'reboot', 'setdomainname', 'iopl', 'ioperm', 'init_module', 'delete_module', 'quotactl', 'ptrace', 'syslog',
  'lookup_dcookie', 'clock_settime', 'kexec_load', 'add_key', 'request_key', 'keyctl', 'perf_event_open',
  'fanotify_init', 'name_to_handle_at', 'open_by_handle_at', 'clock_adjtime', 'setns', 'process_vm_readv',
  'process_vm_writev', 'kcmp', 'finit_module', 'kexec_file_load', 'bpf', 'userfaultfd', 'io_uring_setup',
  'io_uring_enter', 'io_uring_register', 'open_tree', 'move_mount', 'fsopen', 'fsconfig', 'fsmount', 'fspick',
  'pidfd_getfd', 'mount_setattr',
];

export interface Rules {
  /** refused with EPERM whatever their arguments */
  deny: string[];
  /** refused with EPERM when their first argument has any of these bits (clone and unshare flags) */
  denyFlags: Record<string, number>;
  /** refused with EPERM unless their second argument is exactly one of these values (setns's namespace type) */
  onlyArg1?: Record<string, number[]>;
  /** refused with EPERM when their first argument (its low 32 bits: an int) is one of these */
  denyArg0?: Record<string, number[]>;
  /** refused with EPERM unless their first argument (its low 32 bits) is one of these */
  onlyArg0?: Record<string, number[]>;
  /** answered ENOSYS, so libc falls back to an older call the filter can inspect */
  enosys: string[];
}

const AF_VSOCK = 40;
const PER_LINUX = 0;
const PERSONALITY_QUERY = 0xffffffff;
const ALWAYS_ARG0 = { denyArg0: { socket: [AF_VSOCK] }, onlyArg0: { personality: [PER_LINUX, PERSONALITY_QUERY] } };

export function rulesFor(profile: Profile): Rules {
  if (profile === 'zygote-serving') return { deny: ['pidfd_open'], denyFlags: {}, enosys: [] };
  if (profile === 'instance') {
    return {
      // pidfd_open: a forked instance has it refused by the Zygotes' filters stacked under its own; a cold one
      // must be refused it too, so both paths enforce one policy (docs/ARCHITECTURE.md "Entering a sandbox")
      deny: [...ALWAYS_DENIED, 'chroot', 'unshare', 'sethostname', 'pidfd_open'],
      denyFlags: { clone: ALL_NAMESPACES },
      enosys: ['clone3'],
      ...ALWAYS_ARG0,
    };
  }
  return {
    deny: ALWAYS_DENIED.filter((name) => name !== 'setns'),
    denyFlags: { clone: ALL_NAMESPACES & ~ZYGOTE_NAMESPACES, unshare: ALL_NAMESPACES & ~ZYGOTE_NAMESPACES },
    onlyArg1: { setns: [CLONE_NEWPID, CLONE_NEWNET] },
    enosys: ['clone3'],
    ...ALWAYS_ARG0,
  };
}

// classic BPF
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;
const RET_ALLOW = 0x7fff0000;
const RET_KILL_PROCESS = 0x80000000;
const RET_ERRNO = 0x00050000;
const EPERM = 1;
const ENOSYS = 38;
const OFF_NR = 0;
const OFF_ARCH = 4;
const OFF_ARG0 = 16;
const OFF_ARG1 = 24;

type Label = 'eperm' | 'enosys' | 'kill';
interface Insn {
  code: number;
  k: number;
  /** jump targets: a return label, or how many instructions to skip (0: the next one) */
  jt?: Label | number;
  jf?: Label | number;
}

/** The filter for a profile, as the bytes of a struct sock_filter array (x86_64 only). */
export function buildFilter(profile: Profile): Buffer {
  return assemble(program(rulesFor(profile)));
}

function program(rules: Rules): Insn[] {
  const p: Insn[] = [
    { code: LD_W_ABS, k: OFF_ARCH },
    { code: JEQ_K, k: AUDIT_ARCH_X86_64, jt: 0, jf: 'kill' },
    { code: LD_W_ABS, k: OFF_NR },
    { code: JGE_K, k: X32_SYSCALL_BIT, jt: 'enosys', jf: 0 },
  ];
  for (const name of rules.deny) p.push({ code: JEQ_K, k: nr(name), jt: 'eperm', jf: 0 });
  for (const name of rules.enosys) p.push({ code: JEQ_K, k: nr(name), jt: 'enosys', jf: 0 });
  for (const [name, mask] of Object.entries(rules.denyFlags)) {
    // when nr matches: load arg0, test the flags, and reload nr for the checks after this one
    p.push(
      { code: JEQ_K, k: nr(name), jt: 0, jf: 3 },
      { code: LD_W_ABS, k: OFF_ARG0 },
      { code: JSET_K, k: mask, jt: 'eperm', jf: 0 },
      { code: LD_W_ABS, k: OFF_NR },
    );
  }
  for (const [name, values] of Object.entries(rules.onlyArg1 ?? {})) {
    // an int argument: the kernel reads its low 32 bits only, so they are all a filter must check. Each value
    // that matches skips to the reload of nr; the last one that does not is refused.
    const checks: Insn[] = values.map((value, i) =>
      i < values.length - 1 ? { code: JEQ_K, k: value, jt: values.length - 1 - i, jf: 0 } : { code: JEQ_K, k: value, jt: 0, jf: 'eperm' },
    );
    p.push({ code: JEQ_K, k: nr(name), jt: 0, jf: checks.length + 2 }, { code: LD_W_ABS, k: OFF_ARG1 }, ...checks, { code: LD_W_ABS, k: OFF_NR });
  }
  for (const [name, values] of Object.entries(rules.denyArg0 ?? {})) {
    // when nr matches: load arg0, compare with each value, and reload nr for the checks after this one
    p.push({ code: JEQ_K, k: nr(name), jt: 0, jf: values.length + 1 }, { code: LD_W_ABS, k: OFF_ARG0 });
    for (const v of values) p.push({ code: JEQ_K, k: v, jt: 'eperm', jf: 0 });
    p.push({ code: LD_W_ABS, k: OFF_NR });
  }
  for (const [name, values] of Object.entries(rules.onlyArg0 ?? {})) {
    // a match jumps to the reload of nr; the last value not matching is a refusal
    p.push({ code: JEQ_K, k: nr(name), jt: 0, jf: values.length + 1 }, { code: LD_W_ABS, k: OFF_ARG0 });
    values.forEach((v, j) => p.push({ code: JEQ_K, k: v, jt: values.length - j - 1, jf: j === values.length - 1 ? 'eperm' : 0 }));
    p.push({ code: LD_W_ABS, k: OFF_NR });
  }
  p.push({ code: RET_K, k: RET_ALLOW });
  return p;
}

function nr(name: string): number {
  const n = NR[name];
  if (n === undefined) throw new Error(`no x86_64 number for system call ${name}`);
  return n;
}

function assemble(program: Insn[]): Buffer {
  const returns: Record<Label, number> = { eperm: RET_ERRNO | EPERM, enosys: RET_ERRNO | ENOSYS, kill: RET_KILL_PROCESS };
  const labels = Object.keys(returns) as Label[];
  const at: Record<Label, number> = { eperm: program.length, enosys: program.length + 1, kill: program.length + 2 };
  const out = Buffer.alloc((program.length + labels.length) * 8);
  const offset = (from: number, target: Label | number | undefined): number => {
    if (target === undefined) return 0;
    if (typeof target === 'number') return target;
    const distance = at[target] - from - 1;
    if (distance > 255) throw new Error('seccomp filter too long for an 8-bit jump');
    return distance;
  };
  program.forEach((insn, i) => {
    out.writeUInt16LE(insn.code, i * 8);
    out.writeUInt8(offset(i, insn.jt), i * 8 + 2);
    out.writeUInt8(offset(i, insn.jf), i * 8 + 3);
    out.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
  });
  labels.forEach((label, j) => {
    const i = program.length + j;
    out.writeUInt16LE(RET_K, i * 8);
    out.writeUInt32LE(returns[label] >>> 0, i * 8 + 4);
  });
  return out;
}

/** Whether this machine's architecture is one the filters are written for. */
export function filtersSupported(): boolean {
  return process.arch === 'x64';
}
