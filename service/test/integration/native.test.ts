// Integration tests of the native addon against the real kernel (root). Every mount is made in a private
// mount namespace: the file re-runs itself under `unshare --mount --propagation private`, so a crash
// cannot leave a mount in the host's namespace; each test still unmounts and removes what it made.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';

if (process.env.SOCKPIT_TEST_MOUNTNS === undefined) {
  // The inner run writes the test report to the same stdout, so the runner counts its tests as this file's.
  const inner = spawnSync(
    'unshare',
    ['--mount', '--propagation', 'private', process.execPath, ...process.execArgv, __filename],
    { stdio: 'inherit', env: { ...process.env, SOCKPIT_TEST_MOUNTNS: '1' } },
  );
  if (inner.error) throw inner.error;
  process.exitCode = inner.status ?? 1;
} else {
  defineTests();
}

function defineTests(): void {
  // Loaded only in the inner run: the outer one must not need the addon.
  const native = require('../../../native/index') as typeof import('../../../native/index');
  type NativeError = import('../../../native/index').NativeError;

  const PYTHON = '/usr/bin/python3';
  const NOBODY = 65534;

  // --- helpers -----------------------------------------------------------------------------------------

  function mountPoints(): string[] {
    return fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split(' ')[4]);
  }

  function mountOptions(target: string): string[] {
    const line = fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.split(' ')[4] === target)
      .pop();
    assert.ok(line, `${target} is not a mount point`);
    return line.split(' ')[5].split(',');
  }

  /** A temp dir whose cleanup unmounts whatever is below it before removing it (never rm through a mount). */
  function tempDir(t: { after: (fn: () => void) => void }): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sockpit-nativetest-'));
    t.after(() => {
      const inside = () => mountPoints().filter((m) => m === dir || m.startsWith(dir + '/'));
      for (const m of inside().sort((a, b) => b.length - a.length)) native.umount(m, { detach: true });
      assert.deepEqual(inside(), [], 'mounts left below the temp dir');
      fs.rmSync(dir, { recursive: true, force: true });
    });
    return dir;
  }

  function closeAll(...fds: number[]): void {
    for (const fd of fds) fs.closeSync(fd);
  }

  function readAll(fd: number): string {
    const chunks: Buffer[] = [];
    const buf = Buffer.alloc(65536);
    for (let n; (n = fs.readSync(fd, buf)) > 0; ) chunks.push(Buffer.from(buf.subarray(0, n)));
    return Buffer.concat(chunks).toString();
  }

  function isNativeError(err: unknown, code: string, syscall: string): boolean {
    const e = err as NativeError;
    assert.ok(e instanceof Error, 'expected an Error');
    assert.equal(e.code, code, e.message);
    assert.equal(e.syscall, syscall, e.message);
    assert.equal(e.errno, -(os.constants.errno as Record<string, number>)[code]);
    assert.match(e.message, new RegExp(`^${syscall.replace('.', '\\.')}: ${code} \\(`));
    return true;
  }

  function writeErrno(file: string): string | undefined {
    try {
      fs.writeFileSync(file, 'x');
      return undefined;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code;
    }
  }

  /** A tiny root: /usr bound read-only, the merged-/usr symlinks, and the whole tree bound read-only again. */
  function tinyRoot(t: { after: (fn: () => void) => void }): string {
    const dir = tempDir(t);
    const base = path.join(dir, 'base');
    const root = path.join(dir, 'root');
    fs.mkdirSync(path.join(base, 'usr'), { recursive: true });
    fs.mkdirSync(path.join(base, 'tmp'));
    fs.mkdirSync(root);
    for (const link of ['bin', 'lib', 'lib64', 'sbin']) fs.symlinkSync(`usr/${link}`, path.join(base, link));
    native.bindMount('/usr', path.join(base, 'usr'), { readonly: true });
    native.bindMount(base, root, { recursive: true, readonly: true });
    fs.chmodSync(base, 0o755); // the dropped uid must be able to walk the root
    return root;
  }

  interface Sandboxed {
    pid: number;
    status: import('../../../native/index').ExitStatus;
    stdout: string;
  }

  /** Spawns python3 -S -c <code> with stdout on a pipe; resolves when it exited, with what it printed. */
  async function runPython(code: string, options: Partial<import('../../../native/index').SpawnOptions>): Promise<Sandboxed> {
    const [r, w] = native.pipe();
    const devnull = fs.openSync('/dev/null', 'r');
    let child;
    try {
      child = native.spawn({
        file: PYTHON,
        argv: ['python3', '-S', '-c', code],
        env: ['PATH=/usr/bin', 'LANG=C.UTF-8'],
        root: '/',
        cwd: '/',
        uid: NOBODY,
        gid: NOBODY,
        cgroupProcsFds: [],
        fds: [devnull, w, w],
        namespaces: [],
        ...options,
      });
    } finally {
      closeAll(w, devnull);
    }
    try {
      const status = await native.waitExit(child.pidfd);
      return { pid: child.pid, status, stdout: readAll(r) };
    } finally {
      closeAll(r, child.pidfd);
    }
  }

  // --- mounts --------------------------------------------------------------------------------------------

  describe('mounts', () => {
    test('bindMount readonly: writes through the bind get EROFS, nosuid and nodev are set', (t) => {
      const dir = tempDir(t);
      const src = path.join(dir, 'src');
      const dst = path.join(dir, 'dst');
      fs.mkdirSync(src);
      fs.mkdirSync(dst);
      fs.writeFileSync(path.join(src, 'file'), 'hello');

      native.bindMount(src, dst, { readonly: true });
      assert.equal(fs.readFileSync(path.join(dst, 'file'), 'utf8'), 'hello');
      assert.equal(writeErrno(path.join(dst, 'new')), 'EROFS');
      assert.equal(writeErrno(path.join(dst, 'file')), 'EROFS');
      for (const opt of ['ro', 'nosuid', 'nodev']) assert.ok(mountOptions(dst).includes(opt), `${opt} missing`);
      assert.equal(writeErrno(path.join(src, 'new')), undefined, 'the source must stay writable');
      native.umount(dst);
    });

    test('bindMount writable without readonly', (t) => {
      const dir = tempDir(t);
      const src = path.join(dir, 'src');
      const dst = path.join(dir, 'dst');
      fs.mkdirSync(src);
      fs.mkdirSync(dst);
      native.bindMount(src, dst);
      fs.writeFileSync(path.join(dst, 'file'), 'x');
      assert.equal(fs.readFileSync(path.join(src, 'file'), 'utf8'), 'x');
      assert.ok(mountOptions(dst).includes('rw'));
    });

    test('bindMount recursive readonly covers submounts; without recursive they are not carried over', (t) => {
      const dir = tempDir(t);
      const src = path.join(dir, 'src');
      const dst = path.join(dir, 'dst');
      const flat = path.join(dir, 'flat');
      for (const d of [src, dst, flat]) fs.mkdirSync(d);
      fs.mkdirSync(path.join(src, 'sub'));
      native.mountTmpfs(path.join(src, 'sub'), 'size=1m,mode=0755');
      for (const opt of ['nosuid', 'nodev']) assert.ok(mountOptions(path.join(src, 'sub')).includes(opt));
      fs.writeFileSync(path.join(src, 'sub', 'file'), 'in tmpfs');

      native.bindMount(src, dst, { recursive: true, readonly: true });
      assert.equal(fs.readFileSync(path.join(dst, 'sub', 'file'), 'utf8'), 'in tmpfs');
      assert.equal(writeErrno(path.join(dst, 'x')), 'EROFS');
      assert.equal(writeErrno(path.join(dst, 'sub', 'x')), 'EROFS');
      for (const opt of ['ro', 'nosuid', 'nodev']) assert.ok(mountOptions(path.join(dst, 'sub')).includes(opt));
      assert.equal(writeErrno(path.join(src, 'sub', 'x')), undefined, 'the source submount must stay writable');

      native.bindMount(src, flat, { readonly: true });
      assert.deepEqual(fs.readdirSync(path.join(flat, 'sub')), [], 'a non-recursive bind does not carry submounts');
    });

    test('bindMount readonly keeps the source mount noexec', (t) => {
      const dir = tempDir(t);
      const src = path.join(dir, 'src');
      const dst = path.join(dir, 'dst');
      fs.mkdirSync(src);
      fs.mkdirSync(dst);
      native.mountTmpfs(src, 'size=1m');
      spawnSync('mount', ['-o', 'remount,noexec', src]);
      assert.ok(mountOptions(src).includes('noexec'));
      native.bindMount(src, dst, { readonly: true });
      assert.ok(mountOptions(dst).includes('noexec'), 'the read-only remount dropped noexec');
    });

    test('umount: busy without detach, gone with detach while a file stays open', (t) => {
      const dir = tempDir(t);
      const src = path.join(dir, 'src');
      const dst = path.join(dir, 'dst');
      fs.mkdirSync(src);
      fs.mkdirSync(dst);
      fs.writeFileSync(path.join(src, 'file'), 'still here');
      native.bindMount(src, dst);
      const fd = fs.openSync(path.join(dst, 'file'), 'r');
      try {
        assert.throws(() => native.umount(dst), (err) => isNativeError(err, 'EBUSY', 'umount2'));
        native.umount(dst, { detach: true });
        assert.ok(!mountPoints().includes(dst));
        assert.equal(fs.readFileSync(fd, 'utf8'), 'still here');
      } finally {
        fs.closeSync(fd);
      }
      assert.throws(
        () => native.umount(dst),
        (err) => isNativeError(err, 'EINVAL', 'umount2') && (err as NativeError).path === dst,
      );
    });

    test('mount errors carry code, errno, syscall and path', (t) => {
      const dir = tempDir(t);
      const missing = path.join(dir, 'missing');
      assert.throws(
        () => native.bindMount(dir, missing),
        (err) => isNativeError(err, 'ENOENT', 'mount') && (err as NativeError).path === missing,
      );
      assert.match((() => {
        try {
          native.bindMount(dir, missing);
        } catch (err) {
          return (err as Error).message;
        }
        return '';
      })(), /^mount: ENOENT \(No such file or directory\) \/.*\/missing$/);
    });
  });

  // --- spawn -----------------------------------------------------------------------------------------------

  describe('spawn', () => {
    test('makeNetns makes a network namespace with loopback up and nothing else; a spawned child joins it', async () => {
      const fd = native.makeNetns();
      try {
        const made = fs.readlinkSync(`/proc/self/fd/${fd}`);
        assert.notEqual(made, fs.readlinkSync('/proc/self/ns/net'));
        const code = [
          'import json, os, socket',
          's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)',
          'socket.create_connection(s.getsockname()).close()',
          'print(json.dumps({"ifs": sorted(n for _, n in socket.if_nameindex()), "ns": os.readlink("/proc/self/ns/net")}))',
        ].join('\n');
        const { status, stdout } = await runPython(code, { netns: fd });
        assert.equal(status.code, 0, stdout);
        const out = JSON.parse(stdout) as { ifs: string[]; ns: string };
        assert.deepEqual(out.ifs, ['lo']);
        assert.equal(out.ns, made);
      } finally {
        fs.closeSync(fd);
      }
    });

    test('makeNetnsAsync makes one on a worker thread; with a user namespace fd, one owned by it', async () => {
      const fd = await native.makeNetnsAsync();
      const userns = fs.openSync('/proc/self/ns/user', 'r');
      try {
        assert.match(fs.readlinkSync(`/proc/self/fd/${fd}`), /^net:\[\d+\]$/);
        assert.notEqual(fs.readlinkSync(`/proc/self/fd/${fd}`), fs.readlinkSync('/proc/self/ns/net'));
        // our own user namespace: setns into the one we are in is refused (EINVAL), as the kernel says
        await assert.rejects(native.makeNetnsAsync(userns), (err: NodeJS.ErrnoException) => err.code === 'EINVAL' && err.syscall === 'setns');
      } finally {
        closeAll(fd, userns);
      }
    });

    test('into a chroot of a tiny root: PID 1, dropped uid, own hostname, read-only /, limits, clean fds', { timeout: 20000 }, async (t) => {
      const root = tinyRoot(t);
      const code = [
        'import os, json, errno, resource, signal',
        'try:',
        '    open("/x", "w"); w = None',
        'except OSError as e:',
        '    w = errno.errorcode[e.errno]',
        'def isopen(fd):',
        '    try:',
        '        os.fstat(fd); return True',
        '    except OSError:',
        '        return False',
        'print(json.dumps({"pid": os.getpid(), "uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(),',
        '  "host": os.uname().nodename, "write": w, "cwd": os.getcwd(), "env": dict(os.environ),',
        '  "nofile": resource.getrlimit(resource.RLIMIT_NOFILE), "fd3": isopen(3), "fd2": isopen(2),',
        '  "mask": sorted(int(s) for s in signal.pthread_sigmask(signal.SIG_BLOCK, [])),',
        '  "root": sorted(os.listdir("/"))}))',
      ].join('\n');
      const { pid, status, stdout } = await runPython(code, {
        root,
        cwd: '/tmp',
        namespaces: ['pid', 'uts', 'ipc'],
        hostname: 'sockpit-test',
        rlimits: { nofile: 64, core: 0 },
        dieWithParent: true,
      });
      assert.deepEqual(status, { pid, code: 0, signal: null }, stdout);
      const seen = JSON.parse(stdout);
      assert.equal(seen.pid, 1);
      assert.equal(seen.uid, NOBODY);
      assert.equal(seen.gid, NOBODY);
      assert.deepEqual(seen.groups, []);
      assert.equal(seen.host, 'sockpit-test');
      assert.notEqual(os.hostname(), 'sockpit-test');
      assert.equal(seen.write, 'EROFS');
      assert.equal(seen.cwd, '/tmp');
      assert.deepEqual(seen.env, { PATH: '/usr/bin', LANG: 'C.UTF-8' });
      assert.deepEqual(seen.nofile, [64, 64]);
      assert.equal(seen.fd2, true);
      assert.equal(seen.fd3, false, 'fds beyond the list must be closed');
      assert.deepEqual(seen.mask, []);
      assert.deepEqual(seen.root, ['bin', 'lib', 'lib64', 'sbin', 'tmp', 'usr']);
    });

    test('fds are installed in order, even when sources overlap the targets', { timeout: 20000 }, async () => {
      const [r1, w1] = native.pipe();
      const [r2, w2] = native.pipe();
      const devnull = fs.openSync('/dev/null', 'r');
      let child;
      try {
        // w2 goes to fd 1 and w1 to fd 2, crossing each other; fd 3 is w2 again.
        child = native.spawn({
          file: PYTHON,
          argv: ['python3', '-S', '-c', 'import os; os.write(1, b"one"); os.write(2, b"two"); os.write(3, b"three")'],
          env: [],
          root: '/',
          cwd: '/',
          uid: NOBODY,
          gid: NOBODY,
          cgroupProcsFds: [],
          fds: [devnull, w2, w1, w2],
          namespaces: [],
        });
      } finally {
        closeAll(w1, w2, devnull);
      }
      const status = await native.waitExit(child.pidfd);
      fs.closeSync(child.pidfd);
      assert.equal(status.code, 0);
      assert.equal(readAll(r1), 'two');
      assert.equal(readAll(r2), 'onethree');
      closeAll(r1, r2);
    });

    test('failures before exec throw with the failed step as syscall and reap the child', () => {
      const base = {
        file: PYTHON,
        argv: ['python3'],
        env: [],
        root: '/',
        cwd: '/',
        uid: NOBODY,
        gid: NOBODY,
        cgroupProcsFds: [],
        fds: [],
        namespaces: [] as ('pid' | 'uts' | 'ipc')[],
      };
      const zombies = () => spawnSync('ps', ['--ppid', String(process.pid), '-o', 'stat=']).stdout.toString();
      assert.throws(
        () => native.spawn({ ...base, file: '/nonexistent/python' }),
        (err) => isNativeError(err, 'ENOENT', 'execve') && (err as NativeError).path === '/nonexistent/python',
      );
      assert.throws(
        () => native.spawn({ ...base, root: '/nonexistent-root' }),
        (err) => isNativeError(err, 'ENOENT', 'chdir') && (err as NativeError).path === '/nonexistent-root',
      );
      assert.throws(
        () => native.spawn({ ...base, cwd: '/nonexistent-cwd' }),
        (err) => isNativeError(err, 'ENOENT', 'chdir') && (err as NativeError).path === '/nonexistent-cwd',
      );
      assert.throws(
        () => native.spawn({ ...base, file: '/usr' }),
        (err) => isNativeError(err, 'EACCES', 'execve'),
      );
      const devnull = fs.openSync('/dev/null', 'r');
      try {
        assert.throws(
          () => native.spawn({ ...base, cgroupProcsFds: [devnull] }),
          (err) => isNativeError(err, 'EBADF', 'cgroup.procs') && (err as NativeError).path === '/dev/null',
        );
      } finally {
        fs.closeSync(devnull);
      }
      assert.doesNotMatch(zombies(), /Z/, 'a failed spawn left a zombie');
    });

    test('joins the cgroup through the cgroup.procs fd before exec', { timeout: 20000 }, async (t) => {
      const own = fs.readFileSync('/proc/self/cgroup', 'utf8').match(/^0::(.*)$/m)?.[1];
      const mountpoint = fs.existsSync('/sys/fs/cgroup/unified/cgroup.procs') ? '/sys/fs/cgroup/unified' : '/sys/fs/cgroup';
      if (own === undefined || !fs.existsSync(path.join(mountpoint, 'cgroup.procs'))) {
        t.skip('no cgroup v2 hierarchy');
        return;
      }
      const name = `sockpit-nativetest-${process.pid}`;
      const dir = path.join(mountpoint, own, name);
      fs.mkdirSync(dir);
      t.after(() => fs.rmdirSync(dir));
      const procs = fs.openSync(path.join(dir, 'cgroup.procs'), 'w');
      const [r, w] = native.pipe();
      const [inR, inW] = native.pipe();
      let child;
      try {
        child = native.spawn({
          file: PYTHON,
          argv: ['python3', '-S', '-c', 'import sys; print("up", flush=True); sys.stdin.read()'],
          env: [],
          root: '/',
          cwd: '/',
          uid: NOBODY,
          gid: NOBODY,
          cgroupProcsFds: [procs],
          fds: [inR, w, w],
          namespaces: ['pid'],
        });
      } finally {
        closeAll(procs, w, inR);
      }
      try {
        const exited = native.waitExit(child.pidfd);
        const memberOf = fs.readFileSync(`/proc/${child.pid}/cgroup`, 'utf8').match(/^0::(.*)$/m)?.[1];
        assert.equal(memberOf, path.posix.join(own, name));
        assert.deepEqual(fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim().split('\n'), [String(child.pid)]);
        fs.closeSync(inW); // EOF on stdin: the child exits
        const status = await exited;
        assert.equal(status.code, 0);
        assert.equal(readAll(r), 'up\n');
        assert.equal(fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8'), '');
      } finally {
        closeAll(r, child.pidfd);
      }
    });
  });

  // --- Landlock --------------------------------------------------------------------------------------------

  describe('landlock', () => {
    // a root listener on the host's abstract namespace; the dialer prints "connected" or the errno. Node binds an
    // abstract name with the whole sun_path (108 bytes, NUL-padded), so the dialer pads it the same way.
    const dial = (name: string) =>
      `import socket\ntry:\n    socket.socket(socket.AF_UNIX).connect("\\0${name}".ljust(108, "\\0"))\n    print("connected")\nexcept OSError as e:\n    print(e.errno)\n`;
    async function withListener(run: (name: string) => Promise<void>): Promise<void> {
      const name = `sockpit-native-${process.pid}-${Date.now()}`;
      const server = net.createServer((c) => c.end());
      await new Promise<void>((r) => server.listen(`\0${name}`, r));
      try {
        await run(name);
      } finally {
        await new Promise((r) => server.close(r));
      }
    }

    test('landlockAbi() is the kernel\'s; spawn scopes abstract sockets on ABI 6+, and not when told a lower ABI', { timeout: 20000 }, async (t) => {
      const abi = native.landlockAbi();
      assert.ok(Number.isInteger(abi) && abi >= 0);
      if (abi < 6) return t.skip(`this kernel has Landlock ABI ${abi}`);
      await withListener(async (name) => {
        const full = await runPython(dial(name), { landlock: true });
        assert.equal(full.stdout.trim(), String(os.constants.errno.EPERM));
        const lowered = await runPython(dial(name), { landlock: true, landlockAbi: 5 });
        assert.equal(lowered.stdout.trim(), 'connected', 'ABI 5 has no scoping: the host listener is reachable here (no netns)');
        const none = await runPython(dial(name), { landlock: true, landlockAbi: 0 });
        assert.equal(none.stdout.trim(), 'connected');
      });
    });

    test("zygote.py's Landlock uses the kernel's ABI, or SOCKPIT_LANDLOCK_MAX_ABI when lower", { timeout: 20000 }, async (t) => {
      if (native.landlockAbi() < 6) return t.skip('needs Landlock ABI 6');
      const runtime = path.resolve(__dirname, '../../runtime');
      const code = (name: string) => `import sys\nsys.path.insert(0, ${JSON.stringify(runtime)})\nimport zygote\nprint(zygote.landlock())\n${dial(name)}`;
      await withListener(async (name) => {
        const run = (env: Record<string, string>) =>
          promisify(execFile)(PYTHON, ['-S', '-c', code(name)], { env: { PATH: '/usr/bin', ...env } }).then((r) => r.stdout.trim().split('\n'));
        assert.deepEqual(await run({}), [String(native.landlockAbi()), String(os.constants.errno.EPERM)]);
        assert.deepEqual(await run({ SOCKPIT_LANDLOCK_MAX_ABI: '5' }), ['5', 'connected']);
      });
    });
  });

  // --- pidfds ----------------------------------------------------------------------------------------------

  describe('pidfd', () => {
    test('watchExit reports the exit code', { timeout: 20000 }, async () => {
      const { pid, status } = await runPython('import sys; sys.exit(3)', { namespaces: ['pid'] });
      assert.deepEqual(status, { pid, code: 3, signal: null });
    });

    test('pidfdKill SIGKILL is reported as signal SIGKILL; killing a reaped process answers false', { timeout: 20000 }, async () => {
      const devnull = fs.openSync('/dev/null', 'r+');
      const child = native.spawn({
        file: PYTHON,
        argv: ['python3', '-S', '-c', 'import time; time.sleep(60)'],
        env: [],
        root: '/',
        cwd: '/',
        uid: NOBODY,
        gid: NOBODY,
        cgroupProcsFds: [],
        fds: [devnull, devnull, devnull],
        namespaces: ['pid'],
      });
      fs.closeSync(devnull);
      try {
        const exited = native.waitExit(child.pidfd);
        assert.equal(native.pidfdKill(child.pidfd, 'SIGKILL'), true);
        assert.deepEqual(await exited, { pid: child.pid, code: null, signal: 'SIGKILL' });
        assert.equal(native.pidfdKill(child.pidfd, os.constants.signals.SIGTERM), false);
      } finally {
        fs.closeSync(child.pidfd);
      }
    });
  });

  // --- fd passing ------------------------------------------------------------------------------------------

  describe('fd passing', () => {
    function cloexec(fd: number): boolean {
      const flags = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').match(/^flags:\s+([0-7]+)$/m)?.[1];
      return (parseInt(flags ?? '0', 8) & 0o2000000) !== 0;
    }

    test('sendFds/recvFds pass a pipe end that works on the other side', () => {
      const [a, b] = native.socketpair();
      const [r, w] = native.pipe();
      assert.ok([a, b, r, w].every(cloexec), 'socketpair and pipe must be close-on-exec');
      try {
        assert.equal(native.sendFds(a, Buffer.from('hello'), [w]), 5);
        const got = native.recvFds(b, 64, 4);
        assert.equal(got.data.toString(), 'hello');
        assert.equal(got.fds.length, 1);
        const [passed] = got.fds;
        assert.notEqual(passed, w);
        assert.ok(cloexec(passed), 'received fds must be close-on-exec');
        fs.writeSync(passed, 'through the passed fd');
        fs.closeSync(passed);
        fs.closeSync(w);
        assert.equal(readAll(r), 'through the passed fd');

        assert.throws(() => native.recvFds(b, 64, 4), (err) => isNativeError(err, 'EAGAIN', 'recvmsg'));

        native.sendFds(a, Buffer.from('plain'), []);
        assert.deepEqual(native.recvFds(b, 64, 0), { data: Buffer.from('plain'), fds: [] });
      } finally {
        closeAll(a, b, r);
      }
    });

    test('more fds than maxFds: EMSGSIZE and none of them leak', () => {
      const [a, b] = native.socketpair();
      const [r, w] = native.pipe();
      try {
        const before = fs.readdirSync('/proc/self/fd').length;
        native.sendFds(a, Buffer.from('x'), [r, w, r]);
        assert.throws(() => native.recvFds(b, 64, 1), (err) => isNativeError(err, 'EMSGSIZE', 'recvmsg'));
        assert.equal(fs.readdirSync('/proc/self/fd').length, before);
      } finally {
        closeAll(a, b, r, w);
      }
    });

    test('sending on a closed peer is EPIPE, not SIGPIPE', () => {
      const [a, b] = native.socketpair();
      fs.closeSync(b);
      try {
        assert.throws(() => native.sendFds(a, Buffer.from('x'), []), (err) => isNativeError(err, 'EPIPE', 'sendmsg'));
      } finally {
        fs.closeSync(a);
      }
    });
  });

  describe('peer credentials', () => {
    test('peerCredentials of a socketpair end is this process; of a pipe it is ENOTSOCK', () => {
      const [a, b] = native.socketpair();
      const [r, w] = native.pipe();
      try {
        assert.deepEqual(native.peerCredentials(a), { pid: process.pid, uid: process.getuid!(), gid: process.getgid!() });
        assert.throws(() => native.peerCredentials(r), (err) => isNativeError(err, 'ENOTSOCK', 'getsockopt'));
      } finally {
        closeAll(a, b, r, w);
      }
    });

    test('peerCredentials of an accepted unix connection names the connecting process and its uid/gid', { timeout: 20000 }, async (t) => {
      const dir = tempDir(t);
      fs.chmodSync(dir, 0o755);
      const sock = path.join(dir, 'peer.sock');
      const net = await import('node:net');
      const { spawn } = await import('node:child_process');
      let listening!: () => void;
      const ready = new Promise<void>((r) => (listening = r));
      const seen = new Promise<{ pid: number; uid: number; gid: number }>((resolve, reject) => {
        const server = net.createServer((conn) => {
          try {
            resolve(native.peerCredentials((conn as unknown as { _handle: { fd: number } })._handle.fd));
          } catch (err) {
            reject(err);
          } finally {
            conn.end();
            server.close();
          }
        });
        server.listen(sock, () => {
          fs.chmodSync(sock, 0o666);
          listening();
        });
      });
      await ready;
      const child = spawn('setpriv', ['--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups', process.execPath, '-e',
        `const c = require('net').connect(${JSON.stringify(sock)}); c.on('data', () => {}); c.on('end', () => process.exit(0)); setTimeout(() => process.exit(3), 10000);`], { stdio: 'ignore' });
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      const cred = await seen;
      assert.equal(cred.pid, child.pid);
      assert.equal(cred.uid, NOBODY);
      assert.equal(cred.gid, NOBODY);
      assert.equal(await exited, 0);
    });
  });

  // --- argument checks -------------------------------------------------------------------------------------

  describe('argument checks', () => {
    test('bad arguments throw TypeError with a usage line', () => {
      const raw = require('../../../native/build/Release/sockpit_native.node');
      const spawnBase = {
        file: PYTHON, argv: ['python3'], env: [], root: '/', cwd: '/', uid: NOBODY, gid: NOBODY,
        cgroupProcsFds: [], fds: [], namespaces: [],
      };
      const cases: [string, () => unknown, RegExp][] = [
        ['relative path', () => native.bindMount('relative', '/tmp'), /^bindMount\(source: string.*source must be an absolute path/],
        ['no target', () => raw.bindMount('/tmp'), /expected 2-3 arguments/],
        ['bad option', () => native.bindMount('/tmp', '/tmp', { readonly: 'yes' as unknown as boolean }), /readonly must be a boolean/],
        ['tmpfs options', () => raw.mountTmpfs('/tmp'), /^mountTmpfs/],
        ['umount', () => raw.umount(42), /^umount\(target: string.*target must be a string/],
        ['spawn no object', () => raw.spawn('x'), /^spawn\(\{file.*options must be an object/],
        ['spawn missing file', () => raw.spawn({ ...spawnBase, file: undefined }), /file must be a string/],
        ['spawn NUL', () => native.spawn({ ...spawnBase, argv: ['a\0b'] }), /must not contain NUL/],
        ['spawn empty argv', () => native.spawn({ ...spawnBase, argv: [] }), /argv must hold at least argv\[0\]/],
        ['spawn env', () => native.spawn({ ...spawnBase, env: ['NOEQUALS'] }), /K=V/],
        ['spawn uid', () => native.spawn({ ...spawnBase, uid: -1 }), /uid must be an integer/],
        ['spawn fd', () => native.spawn({ ...spawnBase, fds: [1.5] }), /fds\[0\] must be an integer/],
        ['spawn ns', () => raw.spawn({ ...spawnBase, namespaces: ['mnt'] }), /namespaces may only hold/],
        ['spawn netns and net', () => native.spawn({ ...spawnBase, namespaces: ['net'], netns: 0 }), /netns and the 'net' namespace exclude each other/],
        ['makeNetns', () => raw.makeNetns('x'), /^makeNetns\(usernsFd\?: number.*usernsFd must be a number/],
        ['hostname without uts', () => native.spawn({ ...spawnBase, hostname: 'x' }), /hostname needs the 'uts' namespace/],
        ['rlimit', () => raw.spawn({ ...spawnBase, rlimits: { cpu: 1 } }), /unknown rlimit 'cpu'/],
        ['watchExit cb', () => raw.watchExit(0, 'nope'), /callback must be a function/],
        ['watchExit not a pidfd', () => native.watchExit(0, () => {}), /is not a pidfd/],
        ['pidfdKill', () => raw.pidfdKill('x', 9), /^pidfdKill\(pidfd: number, signal: number\)/],
        ['pidfdKill name', () => native.pidfdKill(0, 'SIGNOPE' as NodeJS.Signals), /unknown signal/],
        ['sendFds data', () => raw.sendFds(0, 'str', []), /data must be a Buffer/],
        ['sendFds empty', () => native.sendFds(0, Buffer.alloc(0), []), /data must not be empty/],
        ['recvFds', () => native.recvFds(0, 0, 0), /maxBytes must be an integer/],
        ['pipe args', () => raw.pipe(1), /^pipe\(\)/],
        ['peerCredentials', () => raw.peerCredentials('x'), /^peerCredentials\(fd: number\).*fd must be a number/],
      ];
      for (const [name, fn, message] of cases) {
        assert.throws(fn, (err) => err instanceof TypeError && message.test(err.message), name);
      }
    });
  });
}
