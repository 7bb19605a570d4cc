"""A Zygote: a Python process that has imported a set of packages and forks new instances (or child Zygotes)
on request, so they start with those imports done.

sockpitd talks to it over fd 3, a stream socket: fork requests come in (with their fds, in the same sendmsg,
so they arrive with the request's first bytes: the kernel never hands out fds with bytes of another message),
and the answers go out, from the Zygote (pid, refused) and from each new process (joined, ready, failed), all
tagged with the request's id. The messages are protocol.py's. At start-up the first Zygote says ready with the
id "start". The new process then speaks on the channel it was given: an instance serves calls (instance.py), a
Zygote serves fork requests (this file).

The fork (docs/ARCHITECTURE.md, "Protocol") is one fork. For an instance the Zygote first unshares its PID namespace
for children, so the instance is born PID 1 of a namespace of its own, and right after the fork joins its own
namespace again through PID_NS_FD, a handle on it the first Zygote was started with and every Zygote inherits (setns
on the active namespace: allowed because every Zygote lives in a PID namespace owned by its user namespace,
whose PID 1 is a Zygote that sockpitd never asks for anything but base Zygotes). The new process joins its cgroups through the passed fds, unshares UTS and IPC, chroots
into the passed root, drops to the unprivileged uid with no_new_privs (an instance), closes every fd it must
not keep, and only then says it is ready. When sockpitd passes a network namespace (one of its pool, owned by
the Zygotes' user namespace), the new process joins it right after its cgroups, while it is still root here:
every Zygote and every instance has a network namespace of its own, with loopback only. Zygotes ignore SIGCHLD, so the kernel reaps what they fork; sockpitd
watches each new process through a pidfd of its own.

A spare is an instance forked ahead of its request, into a sandbox of its own that sockpitd prepared with
no function in it yet: the fork (which grows with the Zygote's memory: 2.7 ms of a pandas Zygote's 4.7 ms
fork path here), the cgroup join, the namespaces, the chroot, the uid, the seccomp filter and a warm-up of
what a first call runs are all done before a call comes. It then waits on its channel like any instance, but
with no environment. For a call, sockpitd mounts the function's code into the spare's sandbox, sets its
limits and writes the function's environment and f.py's bytecode (instance.py, frame "S") and the call into
the channel: a call wakes one process, which has almost nothing left to do. A spare has no parent-death signal (no forked
instance has one: docs/ARCHITECTURE.md "Entering a sandbox"), so it outlives its Zygote: sockpitd kills it with its Zygote.
"""

import base64
import ctypes
import errno
import gc
import os
import resource
import signal
import socket
import sys
import time
import traceback

# What the addon's spawn gave the first Zygote, recorded before anything here changes it: the first Zygote runs
# this right after its execve, and sockpitd spawns it with the umask and rlimits it gives a cold instance
# (service/src/sandbox/entry.ts), from a spawn that reset every signal disposition. So these are exactly what a
# cold instance's interpreter starts with: its signal dispositions (SIGINT caught, SIGPIPE and SIGXFSZ ignored, the
# rest default), its umask and every rlimit. Every instance a Zygote forks gets them back (enter_as_instance),
# whatever the packages its Zygote imported changed. Forks inherit these values; only the first Zygote records them.
_FRESH_SIGNALS = {sig: signal.getsignal(sig) for sig in signal.valid_signals() if sig not in (signal.SIGKILL, signal.SIGSTOP)}
_FRESH_UMASK = os.umask(0o077)
os.umask(_FRESH_UMASK)
_FRESH_RLIMITS = {limit: resource.getrlimit(limit) for limit in {getattr(resource, n) for n in dir(resource) if n.startswith("RLIMIT_")}}

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # /sockpit in a sandbox
import instance  # noqa: E402  imported once here, so no forked instance pays for it
from instance import protocol  # noqa: E402  loaded by instance (it says how)

CONTROL_FD = 3
PID_NS_FD = 4  # every Zygote's handle on the PID namespace they all live in (sockpitd's spawn installs it, forks inherit it)
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SYS_CAPGET, SYS_CAPSET = 125, 126
PR_CAPBSET_DROP = 24
CAP_KILL, CAP_NET_ADMIN, CAP_NET_RAW = 5, 12, 13
LINUX_CAPABILITY_VERSION_3 = 0x20080522
NS_GET_NSTYPE = 0xB703
MAX_FDS = 64

libc = ctypes.CDLL(None, use_errno=True)


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


# sockpitd builds the seccomp filter of instances (struct sock_filter[]); it is installed in each one forked
_INSTANCE_FILTER = base64.b64decode(os.environ.get("SOCKPIT_INSTANCE_SECCOMP", ""))
_INSTANCE_FILTER_BUF = ctypes.create_string_buffer(_INSTANCE_FILTER, len(_INSTANCE_FILTER))
# and the one the first Zygote stacks on itself (and so on every Zygote) before any package code runs
_SERVING_FILTER = base64.b64decode(os.environ.get("SOCKPIT_ZYGOTE_SECCOMP", ""))
_SERVING_FILTER_BUF = ctypes.create_string_buffer(_SERVING_FILTER, len(_SERVING_FILTER))


def install_filter(code, buf):
    if not code:
        return
    prog = SockFprog(len(code) // 8, ctypes.cast(buf, ctypes.c_void_p))
    check(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0), "prctl(PR_SET_SECCOMP)")


def install_for_instancefilter():
    install_filter(_INSTANCE_FILTER, _INSTANCE_FILTER_BUF)


class CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_capabilities():
    """Takes CAP_NET_ADMIN, CAP_NET_RAW and CAP_KILL from this process for good (bounding set, then the sets it
    holds). Root here owns every Zygote-world network namespace: with CAP_NET_ADMIN, package code could make a
    veth pair and move its other end into the namespace of any process it can name by pid (RTM_NEWLINK with
    IFLA_NET_NS_PID needs no handle), joining two sandboxes' networks. Without CAP_KILL, package code cannot
    signal an instance (it runs as another uid): on kernels whose Landlock cannot scope signals (ABI < 6) that is
    what keeps instances out of a Zygote's reach. Nothing a Zygote does needs any of them."""
    for cap in (CAP_NET_ADMIN, CAP_NET_RAW, CAP_KILL):
        check(libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), "prctl(PR_CAPBSET_DROP)")
    header = CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
    data = (CapData * 2)()
    check(libc.syscall(SYS_CAPGET, ctypes.byref(header), data), "capget")
    keep = ~((1 << CAP_NET_ADMIN) | (1 << CAP_NET_RAW) | (1 << CAP_KILL)) & 0xFFFFFFFF
    data[0].effective &= keep
    data[0].permitted &= keep
    data[0].inheritable &= keep
    check(libc.syscall(SYS_CAPSET, ctypes.byref(header), data), "capset")


def enter_as_instance(uid, gid):
    """The end of docs/ARCHITECTURE.md "Entering a sandbox" for a forked instance or spare, in the checklist's order (the addon's
    RunChild does the same for a cold one): a fork inherits whatever its Zygote's package code changed, so each
    item is set here, never inherited. Runs after chroot, Landlock and the fds; as root of the Zygotes' user
    namespace until the uid change."""
    os.umask(_FRESH_UMASK)
    for limit, values in _FRESH_RLIMITS.items():
        try:
            resource.setrlimit(limit, values)
        except (ValueError, OSError) as exc:  # a hard limit package code lowered cannot be raised again
            raise OSError(errno.EPERM, f"setrlimit({limit}, {values}): {exc}") from None
    clear_bounding_set()
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)")
    # No PR_SET_PDEATHSIG, on purpose: the parent here is a Zygote, which sockpitd may retire before this instance
    # ends. A forked instance dies with sockpitd all the same: the first Zygote has PDEATHSIG, and it is PID 1 of the
    # PID namespace every Zygote and every instance below them lives in, so its death kills them all.
    for sig, handler in _FRESH_SIGNALS.items():
        signal.signal(sig, signal.SIG_DFL if handler is None else handler)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    install_for_instancefilter()


def clear_bounding_set():
    """Empties the capability bounding set (needs CAP_SETPCAP: before the uid change). The kernel answers EINVAL
    past its last capability, which ends the loop."""
    cap = 0
    while libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0:
        cap += 1
    if ctypes.get_errno() != errno.EINVAL or cap == 0:
        check(-1, f"prctl(PR_CAPBSET_DROP, {cap})")


def check_own_pid_namespace():
    """PID_NS_FD is the Zygotes' PID namespace, which every Zygote returns to after forking an instance into a
    new one: sockpitd's spawn opened it in this process before the chroot (sandbox.ts startZygote), so no pidfd
    is needed for it on any kernel, and pidfd_open is refused from the start (install_filter)."""
    kind = libc.ioctl(PID_NS_FD, NS_GET_NSTYPE, 0)
    check(kind, "ioctl(NS_GET_NSTYPE) of PID_NS_FD")
    if kind != CLONE_NEWPID:
        raise OSError(errno.EINVAL, f"fd {PID_NS_FD} is not a PID namespace")


def check(result, what):
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def import_all(modules):
    for name in modules:
        __import__(name)


class Request:
    """A fork request (protocol.py's message): for an instance, a Zygote or a spare, with the fds it came with.
    The fields sockpitd leaves out take their defaults here."""

    def __init__(self, header, fds):
        self.header = header
        self.id = header["id"]
        self.kind = header["kind"]
        netns = header.get("netns", 0)
        need = 3 + netns + header.get("cgroups", 0)
        if len(fds) != need:
            raise protocol.ProtocolError(f"a {self.kind} fork needs {need} fds, got {len(fds)}", self.id)
        self.fds = fds
        self.channel, self.output, self.root = fds[0], fds[1], fds[2]
        self.netns = fds[3] if netns else None
        self.cgroups = fds[3 + netns:]


def child(req):
    """The new process: joins its cgroups, unshares UTS and IPC, chroots, drops privileges (an instance or a
    spare), says it is ready, then serves: as an instance, a Zygote, or a spare waiting for its instance.
    An instance or a spare runs the checklist of docs/ARCHITECTURE.md "Entering a sandbox" in its order, as the addon's spawn does for a
    cold one: change a step here and there together."""
    report = os.dup(CONTROL_FD)  # the Zygote's socket, kept above the fds set up below until ready is said
    try:
        for fd in req.cgroups:
            os.write(fd, b"0")  # v1 tasks: a single-threaded process moves itself without the global lock
        write_all(report, protocol.encode_answer({"type": "joined", "id": req.id}))
        if req.netns is not None:
            check(libc.setns(req.netns, CLONE_NEWNET), "setns(CLONE_NEWNET)")
        check(libc.unshare(CLONE_NEWUTS | CLONE_NEWIPC), "unshare")
        hostname = req.header.get("hostname", "sockpit").encode()
        check(libc.sethostname(hostname, len(hostname)), "sethostname")
        os.fchdir(req.root)
        os.chroot(".")
        os.chdir("/" if req.kind == "zygote" else "/tmp")
        # a Landlock domain of its own, nested in its Zygote's: reads beneath its own root, and abstract unix
        # sockets and signals scoped to it, so no other sandbox (nor any Zygote) is reachable that way
        try:
            landlock()
        except OSError as exc:
            # Landlock stacks at most 16 layers: a Zygote that deep keeps its parent's (the same reads)
            if req.kind != "zygote" or exc.errno != errno.E2BIG:
                raise
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in req.header.get("env", {}).items()})  # a spare's comes later
        for path in reversed(req.header.get("paths", [])):
            if path not in sys.path:
                sys.path.insert(1, path)
        null = os.open("/dev/null", os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(req.output, 1)
        os.dup2(req.output, 2)
        os.dup2(req.channel, CONTROL_FD)
        # a Zygote keeps PID_NS_FD (its fork path); an instance or a spare has no use for it
        os.closerange(PID_NS_FD + 1 if req.kind == "zygote" else CONTROL_FD + 1, report)
        os.closerange(report + 1, 65536)
        ready = {"type": "ready", "id": req.id}
        if req.kind == "zygote":
            started = time.perf_counter()
            import_all(req.header.get("imports", []))
            ready["import_ms"] = (time.perf_counter() - started) * 1000
        else:
            # SIGCHLD back to default with the rest (a Zygote ignores it): a function waits for its own children
            enter_as_instance(int(req.header["uid"]), int(req.header["gid"]))
            if req.kind == "spare":
                instance.warm_up()
        write_all(report, protocol.encode_answer(ready))
        os.close(report)
    except BaseException as exc:
        try:
            detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
            write_all(report, protocol.encode_answer({"type": "failed", "id": req.id, "error": detail}))
        finally:
            os._exit(1)
    if req.kind == "zygote":
        serve()
    else:
        instance.serve(spare=req.kind == "spare")
    os._exit(0)


def fork(own_pid_ns, new_pid_ns, become):
    """Forks a process that runs become() and never returns from here; returns its pid in this namespace.
    new_pid_ns: the process is PID 1 of a new PID namespace (an instance)."""
    if new_pid_ns:
        check(libc.unshare(CLONE_NEWPID), "unshare(CLONE_NEWPID)")
    try:
        pid = os.fork()
        if pid == 0:
            try:
                become()
            finally:
                os._exit(1)
        return pid
    finally:
        # back to our own namespace for what we fork next; a Zygote that can't is broken: it exits
        if new_pid_ns and libc.setns(own_pid_ns, CLONE_NEWPID) < 0:
            os._exit(2)


def read_request(sock):
    """One framed message and the fds that came with its first bytes: (body, fds), or None at EOF."""
    head, fds, _flags, _addr = socket.recv_fds(sock, 4, MAX_FDS)
    size = int.from_bytes(head, "big") if len(head) == 4 else 0
    body = read_exact(sock, size) if size <= protocol.MAX_FORK_REQUEST else None
    if len(head) < 4 or body is None:
        for fd in fds:
            os.close(fd)
        return None
    return body, fds


def read_exact(sock, size):
    chunks = []
    while size > 0:
        chunk = sock.recv(min(size, 1 << 16))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def serve():
    """The fork loop on fd 3: one request at a time."""
    # What is imported by now is shared with every fork: the collector must not visit it (and so write to,
    # and copy, each page of it) in a forked process.
    gc.freeze()
    control = socket.socket(fileno=CONTROL_FD)
    own_pid_ns = PID_NS_FD  # shared by every Zygote: they all live in the first Zygote's PID namespace
    while True:
        message = read_request(control)
        if message is None:
            return  # sockpitd closed the socket (or broke the framing): this Zygote is done
        body, fds = message
        try:
            req = Request(protocol.decode_fork_request(body), fds)
        except protocol.ProtocolError as exc:
            for fd in fds:
                os.close(fd)
            write_all(CONTROL_FD, protocol.encode_answer({"type": "refused", "id": exc.request_id, "error": str(exc)}))
            continue
        try:
            answer = {"type": "pid", "id": req.id, "pid": fork(own_pid_ns, req.kind != "zygote", lambda: child(req))}
        except OSError as exc:
            answer = {"type": "failed", "id": req.id, "error": f"fork: {exc}"}
        for fd in req.fds:
            os.close(fd)
        write_all(CONTROL_FD, protocol.encode_answer(answer))


# Landlock (docs/ARCHITECTURE.md "Entering a sandbox"): what a Zygote, and everything forked from it, may read. Root inside the
# Zygote's user namespace may chroot, so code imported here could leave its chroot; Landlock rules are tied to
# inodes, not paths, so wherever it lands it can still only read beneath the base image, on which everything a
# sandbox sees is mounted. Writes are left to the file modes: the scratch a sandbox writes to is a bind mount,
# and Landlock never looks at the mount point a bind mount covers, so no rule made here could allow it.
# Signals and abstract unix sockets stay inside the domain (ABI 6). Each forked process adds a layer of its
# own (child()), so sibling sandboxes are in different domains; cold instances get the same from the addon.
# sockpitd may tell it to use a lower ABI than the kernel's (config kernel.assumeLandlockAbi, read here once,
# before os.environ is cleared): it can only lower what is used, never raise it.
LANDLOCK_CREATE_RULESET, LANDLOCK_ADD_RULE, LANDLOCK_RESTRICT_SELF = 444, 445, 446
LANDLOCK_MAX_ABI = int(os.environ.get("SOCKPIT_LANDLOCK_MAX_ABI", "") or 1 << 30)
FS_EXECUTE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 2, 1 << 3
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1


class RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("fd", ctypes.c_int32)]


def landlock():
    """Restricts this process and its descendants; returns the ABI used, or 0 where the kernel has none."""
    syscall = libc.syscall
    syscall.restype = ctypes.c_long
    abi = min(syscall(LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1)), LANDLOCK_MAX_ABI)
    if abi < 1:
        return 0
    read = FS_READ_FILE | FS_READ_DIR | FS_EXECUTE
    attr = RulesetAttr(read, 0, SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = syscall(LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    check(ruleset, "landlock_create_ruleset")
    root = os.open("/", os.O_PATH)
    rule = PathBeneath(read, root)
    check(syscall(LANDLOCK_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(1), ctypes.byref(rule), ctypes.c_uint32(0)), "landlock_add_rule")
    os.close(root)
    check(syscall(LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)), "landlock_restrict_self")
    os.close(ruleset)
    return abi


def main():
    """The first Zygote: sockpitd's own, PID 1 of the Zygotes' namespace. It imports nothing and forks only
    base Zygotes, so no package code ever runs in the process whose death would end every Zygote."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps what a Zygote forks (and orphans, as PID 1)
    check_own_pid_namespace()
    drop_capabilities()
    install_filter(_SERVING_FILTER, _SERVING_FILTER_BUF)
    landlock()
    write_all(CONTROL_FD, protocol.encode_answer({"type": "ready", "id": "start"}))
    serve()


if __name__ == "__main__":
    main()
