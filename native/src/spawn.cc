// Starts one process into a lean container: clone3 (fork semantics, a pidfd, PID/UTS/IPC namespaces as asked),
// then in the child join the cgroups, chroot, install fds, set limits, drop privileges and exec. For an instance
// this is the checklist of docs/ARCHITECTURE.md "Entering a sandbox", which zygote.py child() runs too for a forked one: change them together.
//
// Node is multithreaded, so between clone3 and execve the child may only make raw, async-signal-safe system
// calls: every string, array and struct it needs is built before clone3, and it reports a failure as
// {step, errno} through a close-on-exec pipe. EOF on that pipe means execve succeeded.
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "args.h"
#include "errors.h"
#include "landlock.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace sockpit {
namespace {

const char kUsage[] =
    "spawn({file: string, argv: string[], env: string[], root: string, cwd: string, uid: number, gid: number, "
    "cgroupProcsFds: number[], fds: number[], namespaces: ('pid'|'uts'|'ipc'|'net')[], netns?: number, hostname?: string, "
    "rlimits?: {nofile?, nproc?, core?, fsize?, stack?: number}, umask?: number, clearBoundingSet?: boolean, "
    "dieWithParent?: boolean, "
    "userns?: {uidMap: string, gidMap: string}, seccomp?: Buffer /* struct sock_filter[] */, landlock?: boolean, "
    "landlockAbi?: number /* at most this ABI; default: the kernel's */, "
    "ownPidNamespaceFd?: boolean /* the child's own PID namespace, installed as the fd after fds */})";

// The uapi struct clone_args, spelled out: <linux/sched.h> clashes with glibc's <sched.h> over the CLONE_* macros.
struct CloneArgs {
  uint64_t flags;
  uint64_t pidfd;
  uint64_t child_tid;
  uint64_t parent_tid;
  uint64_t exit_signal;
  uint64_t stack;
  uint64_t stack_size;
  uint64_t tls;
  uint64_t set_tid;
  uint64_t set_tid_size;
  uint64_t cgroup;
};

// The child's steps, in the order it runs them; each names the system call a failure is reported under.
enum Step : int32_t {
  kUsernsWait,
  kCgroupJoin,
  kSetnsNet,
  kSethostname,
  kOpenPidNs,
  kChdirRoot,
  kChroot,
  kChdirCwd,
  kLandlock,
  kDupTemp,
  kDup2,
  kCloseRange,
  kSetrlimit,
  kCapbsetDrop,
  kSetgroups,
  kSetresgid,
  kSetresuid,
  kNoNewPrivs,
  kPdeathsig,
  kSigprocmask,
  kSeccomp,
  kExecve,
};

const char* StepSyscall(int32_t step) {
  switch (step) {
    case kUsernsWait: return "read";
    case kCgroupJoin: return "cgroup.procs";
    case kSetnsNet: return "setns";
    case kSethostname: return "sethostname";
    case kOpenPidNs: return "open";
    case kChdirRoot: return "chdir";
    case kChroot: return "chroot";
    case kChdirCwd: return "chdir";
    case kLandlock: return "landlock_restrict_self";
    case kDupTemp: return "fcntl";
    case kDup2: return "dup2";
    case kCloseRange: return "close_range";
    case kSetrlimit: return "setrlimit";
    case kCapbsetDrop: return "prctl";
    case kSetgroups: return "setgroups";
    case kSetresgid: return "setresgid";
    case kSetresuid: return "setresuid";
    case kNoNewPrivs: return "prctl";
    case kPdeathsig: return "prctl";
    case kSigprocmask: return "sigprocmask";
    case kSeccomp: return "seccomp";
    case kExecve: return "execve";
  }
  return "spawn";
}

struct ChildError {
  int32_t step;
  int32_t err;
  int32_t index;  // which cgroup fd, fd slot or rlimit failed
};

struct Limit {
  const char* name;
  int resource;
  struct rlimit value;
};

const Limit kLimitNames[] = {
    {"nofile", RLIMIT_NOFILE, {}}, {"nproc", RLIMIT_NPROC, {}}, {"core", RLIMIT_CORE, {}},
    {"fsize", RLIMIT_FSIZE, {}},   {"stack", RLIMIT_STACK, {}},
};

// Everything the child touches, built before clone3. The child only reads it, except `temp`, whose storage
// already exists: writing into the child's copy allocates nothing.
struct Plan {
  std::string file, root, cwd, hostname;
  std::vector<std::string> argvStore, envStore;
  std::vector<char*> argv, envp;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<int> cgroupFds;
  // a network namespace to join (an fd of a pooled one), or -1
  int netnsFd = -1;
  std::vector<int> fds;
  // the slot in fds the child fills with its own PID namespace (opened before chroot, while /proc is there); -1: none
  int ownPidNsSlot = -1;
  std::vector<int> temp;
  int tempBase = 0;
  uint64_t cloneFlags = CLONE_PIDFD;
  bool setHostname = false;
  std::vector<Limit> limits;
  // the file mode creation mask, or -1: the parent's
  int fileMask = -1;
  // empty the capability bounding set before the uid change (docs/ARCHITECTURE.md "Entering a sandbox")
  bool clearBoundingSet = false;
  bool dieWithParent = false;
  // A new user namespace: the parent writes these maps, then releases the child through syncRead.
  bool userns = false;
  std::string uidMap, gidMap;
  int syncRead = -1;
  // A seccomp filter, installed last before execve (execve itself must pass it).
  std::vector<struct sock_filter> filter;
  struct sock_fprog fprog = {};
  // A Landlock ruleset made by the parent (landlock.cc), applied right after chroot; -1: none.
  int landlockRuleset = -1;
};

[[noreturn]] void ChildFail(int errfd, int32_t step, int32_t index) noexcept {
  ChildError report = {step, errno, index};
  // Nothing useful can be done if this write fails: the parent then sees EOF and the exit status 127.
  ssize_t ignored = write(errfd, &report, sizeof report);
  (void)ignored;
  _exit(127);
}

// Runs in the child of clone3. Only raw system calls: no allocation, no locks, no exceptions, no stdio.
[[noreturn]] void RunChild(Plan& p, int errfd) noexcept {
  // In a new user namespace nothing works before the maps exist: wait for the parent to write them.
  if (p.userns) {
    char go;
    ssize_t got;
    do got = read(p.syncRead, &go, 1);
    while (got < 0 && errno == EINTR);
    if (got != 1) ChildFail(errfd, kUsernsWait, 0);
  }

  // Join first, so whatever the child allocates from here on is charged to the sandbox.
  for (size_t i = 0; i < p.cgroupFds.size(); i++)
    if (write(p.cgroupFds[i], "0", 1) != 1) ChildFail(errfd, kCgroupJoin, static_cast<int32_t>(i));

  if (p.netnsFd >= 0 && setns(p.netnsFd, CLONE_NEWNET) < 0) ChildFail(errfd, kSetnsNet, 0);

  if (p.setHostname && sethostname(p.hostname.data(), p.hostname.size()) < 0) ChildFail(errfd, kSethostname, 0);

  // A handle on the namespace it is PID 1 of, for a process that forks into new ones and must come back
  // (the first Zygote): /proc/self here is the host's view of this very process. Writing the slot allocates nothing.
  if (p.ownPidNsSlot >= 0 && (p.fds[p.ownPidNsSlot] = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC)) < 0)
    ChildFail(errfd, kOpenPidNs, 0);

  if (chdir(p.root.c_str()) < 0) ChildFail(errfd, kChdirRoot, 0);
  if (chroot(".") < 0) ChildFail(errfd, kChroot, 0);
  if (chdir(p.cwd.c_str()) < 0) ChildFail(errfd, kChdirCwd, 0);
  // Still root here (CAP_SYS_ADMIN, so no_new_privs is not needed yet), and before close_range closes the fd.
  if (p.landlockRuleset >= 0 && RestrictSelf(p.landlockRuleset) < 0) ChildFail(errfd, kLandlock, 0);

  // Move every source fd (and the error pipe) above the target range first, so that installing fd i cannot
  // overwrite a source still needed for a later slot.
  const int n = static_cast<int>(p.fds.size());
  for (int i = 0; i < n; i++)
    if ((p.temp[i] = fcntl(p.fds[i], F_DUPFD, p.tempBase)) < 0) ChildFail(errfd, kDupTemp, i);
  int errTemp = fcntl(errfd, F_DUPFD_CLOEXEC, p.tempBase);
  if (errTemp < 0) ChildFail(errfd, kDupTemp, n);
  errfd = errTemp;
  for (int i = 0; i < n; i++)
    if (dup2(p.temp[i], i) < 0) ChildFail(errfd, kDup2, i);  // dup2 leaves the new fd without FD_CLOEXEC
  if (dup3(errTemp, n, O_CLOEXEC) < 0) ChildFail(errfd, kDup2, n);
  errfd = n;
  if (syscall(SYS_close_range, n + 1, ~0U, 0) < 0) ChildFail(errfd, kCloseRange, 0);

  // The daemon's umask is whatever it was started with: a sandbox gets a known one (umask cannot fail).
  if (p.fileMask >= 0) umask(static_cast<mode_t>(p.fileMask));

  // Limits go before the uid change: raising a hard limit needs CAP_SYS_RESOURCE. And after the fd moves,
  // so a low nofile cannot make the F_DUPFD above fail.
  for (size_t i = 0; i < p.limits.size(); i++)
    if (setrlimit(static_cast<__rlimit_resource>(p.limits[i].resource), &p.limits[i].value) < 0)
      ChildFail(errfd, kSetrlimit, static_cast<int32_t>(i));

  // Nothing left for an execve to hand out, whatever no_new_privs and the uid allow. Needs CAP_SETPCAP, so before
  // the uid change; the kernel answers EINVAL past its last capability, which ends the loop.
  if (p.clearBoundingSet)
    for (int cap = 0;; cap++)
      if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
        if (errno == EINVAL && cap > 0) break;
        ChildFail(errfd, kCapbsetDrop, cap);
      }

  // Raw syscalls: glibc's setgroups/setres[ug]id broadcast the change to every thread it knows of, and in this
  // child those threads are the parent's.
  if (syscall(SYS_setgroups, 0, nullptr) < 0) ChildFail(errfd, kSetgroups, 0);
  if (syscall(SYS_setresgid, p.gid, p.gid, p.gid) < 0) ChildFail(errfd, kSetresgid, 0);
  if (syscall(SYS_setresuid, p.uid, p.uid, p.uid) < 0) ChildFail(errfd, kSetresuid, 0);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) ChildFail(errfd, kNoNewPrivs, 0);
  // After the uid change, which clears it. getppid() is 0 in a new PID namespace, so the "parent already
  // gone" race cannot be checked here; the daemon owns the pidfd and reaps or kills the child itself.
  if (p.dieWithParent && prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) ChildFail(errfd, kPdeathsig, 0);

  // Handlers are reset by execve anyway, but ignored signals (Node ignores SIGPIPE) would be inherited.
  // sigaction fails for SIGKILL, SIGSTOP and glibc's internal signals: those failures are expected.
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &dfl, nullptr);
  sigset_t none;
  sigemptyset(&none);
  if (sigprocmask(SIG_SETMASK, &none, nullptr) < 0) ChildFail(errfd, kSigprocmask, 0);

  if (!p.filter.empty() && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p.fprog, 0, 0) < 0) ChildFail(errfd, kSeccomp, 0);

  execve(p.file.c_str(), p.argv.data(), p.envp.data());
  ChildFail(errfd, kExecve, 0);
}

std::vector<std::string> ArgStrings(Napi::Env env, Napi::Value v, const char* name) {
  if (!v.IsArray()) ThrowUsage(env, kUsage, std::string(name) + " must be an array of strings");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<std::string> out;
  for (uint32_t i = 0; i < a.Length(); i++)
    out.push_back(ArgString(env, kUsage, a.Get(i), (std::string(name) + "[" + std::to_string(i) + "]").c_str()));
  return out;
}

std::vector<int> ArgFds(Napi::Env env, Napi::Value v, const char* name) {
  if (!v.IsArray()) ThrowUsage(env, kUsage, std::string(name) + " must be an array of fds");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<int> out;
  for (uint32_t i = 0; i < a.Length(); i++)
    out.push_back(ArgFd(env, kUsage, a.Get(i), (std::string(name) + "[" + std::to_string(i) + "]").c_str()));
  return out;
}

void ReadPlan(Napi::Env env, Napi::Object o, Plan& p) {
  p.file = ArgPath(env, kUsage, o.Get("file"), "file");
  p.root = ArgPath(env, kUsage, o.Get("root"), "root");
  p.cwd = ArgPath(env, kUsage, o.Get("cwd"), "cwd");
  p.uid = static_cast<uid_t>(ArgInt(env, kUsage, o.Get("uid"), "uid", 0, UINT32_MAX - 1));
  p.gid = static_cast<gid_t>(ArgInt(env, kUsage, o.Get("gid"), "gid", 0, UINT32_MAX - 1));

  p.argvStore = ArgStrings(env, o.Get("argv"), "argv");
  if (p.argvStore.empty()) ThrowUsage(env, kUsage, "argv must hold at least argv[0]");
  p.envStore = ArgStrings(env, o.Get("env"), "env");
  for (const std::string& e : p.envStore)
    if (e.find('=') == std::string::npos) ThrowUsage(env, kUsage, "env entries must look like K=V, got " + e);
  for (std::string& s : p.argvStore) p.argv.push_back(s.data());
  p.argv.push_back(nullptr);
  for (std::string& s : p.envStore) p.envp.push_back(s.data());
  p.envp.push_back(nullptr);

  p.cgroupFds = ArgFds(env, o.Get("cgroupProcsFds"), "cgroupProcsFds");
  p.fds = ArgFds(env, o.Get("fds"), "fds");
  p.temp.assign(p.fds.size(), -1);

  for (const std::string& ns : ArgStrings(env, o.Get("namespaces"), "namespaces")) {
    if (ns == "pid") p.cloneFlags |= CLONE_NEWPID;
    else if (ns == "uts") p.cloneFlags |= CLONE_NEWUTS;
    else if (ns == "ipc") p.cloneFlags |= CLONE_NEWIPC;
    else if (ns == "net") p.cloneFlags |= CLONE_NEWNET;
    else ThrowUsage(env, kUsage, "namespaces may only hold 'pid', 'uts', 'ipc' and 'net', got '" + ns + "'");
  }
  if (OptBool(env, kUsage, o, "ownPidNamespaceFd")) {
    // without a new one, the handle would be on the daemon's own PID namespace
    if (!(p.cloneFlags & CLONE_NEWPID)) ThrowUsage(env, kUsage, "ownPidNamespaceFd needs the 'pid' namespace");
    p.ownPidNsSlot = static_cast<int>(p.fds.size());
    p.fds.push_back(-1);
    p.temp.push_back(-1);
  }
  Napi::Value netns = o.Get("netns");
  if (!netns.IsUndefined()) {
    if (p.cloneFlags & CLONE_NEWNET) ThrowUsage(env, kUsage, "netns and the 'net' namespace exclude each other");
    p.netnsFd = ArgFd(env, kUsage, netns, "netns");
  }

  Napi::Value hostname = o.Get("hostname");
  if (!hostname.IsUndefined()) {
    // Without a new UTS namespace this would rename the host.
    if (!(p.cloneFlags & CLONE_NEWUTS)) ThrowUsage(env, kUsage, "hostname needs the 'uts' namespace");
    p.hostname = ArgString(env, kUsage, hostname, "hostname");
    if (p.hostname.size() > HOST_NAME_MAX) ThrowUsage(env, kUsage, "hostname is longer than HOST_NAME_MAX");
    p.setHostname = true;
  }

  Napi::Object rlimits = OptObject(env, kUsage, o.Get("rlimits"), "rlimits");
  Napi::Array keys = rlimits.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); i++) {
    std::string key = keys.Get(i).As<Napi::String>().Utf8Value();
    const Limit* known = nullptr;
    for (const Limit& l : kLimitNames)
      if (key == l.name) known = &l;
    if (known == nullptr) ThrowUsage(env, kUsage, "unknown rlimit '" + key + "'");
    Napi::Value v = rlimits.Get(key);
    if (v.IsUndefined()) continue;
    Limit limit = *known;
    bool infinite = v.IsNumber() && v.As<Napi::Number>().DoubleValue() == INFINITY;
    rlim_t value = infinite ? RLIM_INFINITY
                            : static_cast<rlim_t>(ArgInt(env, kUsage, v, ("rlimits." + key).c_str(), 0, INT64_MAX));
    limit.value = {value, value};
    p.limits.push_back(limit);
  }

  Napi::Value mask = o.Get("umask");
  if (!mask.IsUndefined()) p.fileMask = static_cast<int>(ArgInt(env, kUsage, mask, "umask", 0, 0777));
  p.clearBoundingSet = OptBool(env, kUsage, o, "clearBoundingSet");
  p.dieWithParent = OptBool(env, kUsage, o, "dieWithParent");

  Napi::Value seccomp = o.Get("seccomp");
  if (!seccomp.IsUndefined()) {
    if (!seccomp.IsBuffer()) ThrowUsage(env, kUsage, "seccomp must be a Buffer of struct sock_filter");
    Napi::Buffer<uint8_t> bytes = seccomp.As<Napi::Buffer<uint8_t>>();
    if (bytes.Length() == 0 || bytes.Length() % sizeof(struct sock_filter) != 0 || bytes.Length() / sizeof(struct sock_filter) > BPF_MAXINSNS)
      ThrowUsage(env, kUsage, "seccomp must hold 1 to 4096 struct sock_filter of 8 bytes");
    p.filter.resize(bytes.Length() / sizeof(struct sock_filter));
    memcpy(p.filter.data(), bytes.Data(), bytes.Length());
    p.fprog.len = static_cast<unsigned short>(p.filter.size());
    p.fprog.filter = p.filter.data();
  }

  Napi::Value userns = o.Get("userns");
  if (!userns.IsUndefined()) {
    Napi::Object maps = OptObject(env, kUsage, userns, "userns");
    p.uidMap = ArgString(env, kUsage, maps.Get("uidMap"), "userns.uidMap");
    p.gidMap = ArgString(env, kUsage, maps.Get("gidMap"), "userns.gidMap");
    p.userns = true;
    p.cloneFlags |= CLONE_NEWUSER;
  }

  int highest = static_cast<int>(p.fds.size()) + 3;
  for (int fd : p.fds) highest = std::max(highest, fd + 1);
  p.tempBase = highest;
}

// A failed step's context: the path it acted on, or the object it names.
std::string StepContext(const Plan& p, const ChildError& e) {
  switch (e.step) {
    case kCgroupJoin: {
      if (e.index < 0 || static_cast<size_t>(e.index) >= p.cgroupFds.size()) return "";
      std::string link = "/proc/self/fd/" + std::to_string(p.cgroupFds[e.index]);
      char buf[PATH_MAX];
      ssize_t len = readlink(link.c_str(), buf, sizeof buf - 1);
      return len > 0 ? std::string(buf, len) : "fd " + std::to_string(p.cgroupFds[e.index]);
    }
    case kSethostname: return p.hostname;
    case kChdirRoot:
    case kChroot: return p.root;
    case kChdirCwd: return p.cwd;
    case kSetrlimit:
      return e.index >= 0 && static_cast<size_t>(e.index) < p.limits.size() ? p.limits[e.index].name : "";
    case kExecve: return p.file;
    default: return "";
  }
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

// Writes /proc/<pid>/<file>; returns 0 or the errno. The parent is an ordinary multithreaded process here.
int WriteProcFile(long pid, const char* file, const std::string& text) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  ssize_t wrote = write(fd, text.data(), text.size());
  int err = wrote < 0 ? errno : static_cast<size_t>(wrote) != text.size() ? EIO : 0;
  close(fd);
  return err;
}

}  // namespace

Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgCount(env, kUsage, info, 1, 1);
  if (!info[0].IsObject() || info[0].IsArray()) ThrowUsage(env, kUsage, "options must be an object");
  Plan plan;
  ReadPlan(env, info[0].As<Napi::Object>(), plan);

  Fd landlock;
  if (OptBool(env, kUsage, info[0].As<Napi::Object>(), "landlock")) {
    Napi::Value cap = info[0].As<Napi::Object>().Get("landlockAbi");
    int maxAbi = cap.IsUndefined() ? INT32_MAX : static_cast<int>(ArgInt(env, kUsage, cap, "landlockAbi", 0, INT32_MAX));
    int ruleset = MakeSandboxRuleset(plan.root, maxAbi);
    if (ruleset < -1) ThrowErrno(env, "landlock_create_ruleset", -ruleset, plan.root);
    landlock.fd = plan.landlockRuleset = ruleset;
  }

  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) ThrowErrno(env, "pipe2", errno, "");
  Fd errRead{pipefd[0]}, errWrite{pipefd[1]};
  plan.tempBase = std::max(plan.tempBase, errWrite.fd + 1);
  Fd syncRead, syncWrite;
  if (plan.userns) {
    int syncfd[2];
    if (pipe2(syncfd, O_CLOEXEC) < 0) ThrowErrno(env, "pipe2", errno, "");
    syncRead.fd = syncfd[0];
    syncWrite.fd = syncfd[1];
    plan.syncRead = syncRead.fd;
    plan.tempBase = std::max(plan.tempBase, syncWrite.fd + 1);
  }

  // Block every signal across clone3 so the child cannot run one of Node's handlers before it resets them.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);

  int pidfd = -1;
  CloneArgs args = {};
  args.flags = plan.cloneFlags;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) RunChild(plan, errWrite.fd);
  int cloneErr = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) ThrowErrno(env, "clone3", cloneErr, "");

  Fd child{pidfd};
  close(errWrite.fd);
  errWrite.fd = -1;

  if (plan.userns) {
    // uid_map before gid_map, then release the child; a child left waiting is killed and reaped below.
    int mapErr = WriteProcFile(pid, "uid_map", plan.uidMap);
    const char* which = "uid_map";
    if (mapErr == 0) {
      mapErr = WriteProcFile(pid, "gid_map", plan.gidMap);
      which = "gid_map";
    }
    if (mapErr == 0 && write(syncWrite.fd, "1", 1) != 1) {
      mapErr = errno;
      which = "user namespace sync pipe";
    }
    if (mapErr != 0) {
      syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
      siginfo_t si;
      while (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &si, WEXITED) < 0 && errno == EINTR) {
      }
      ThrowErrno(env, "write", mapErr, std::string("/proc/") + std::to_string(pid) + "/" + which);
    }
  }

  ChildError report = {};
  ssize_t got;
  do got = read(errRead.fd, &report, sizeof report);
  while (got < 0 && errno == EINTR);
  int readErr = got < 0 ? errno : got != sizeof report ? EPROTO : 0;

  if (got == 0) {
    Napi::Object result = Napi::Object::New(env);
    result.Set("pid", Napi::Number::New(env, static_cast<double>(pid)));
    result.Set("pidfd", Napi::Number::New(env, pidfd));
    child.fd = -1;  // handed to the caller
    return result;
  }

  // A broken report leaves the child's state unknown: kill it rather than wait on something that may have exec'd.
  if (readErr != 0) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
  // The child failed before exec and exits: reap it so no zombie is left behind.
  siginfo_t si;
  while (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &si, WEXITED) < 0 && errno == EINTR) {
  }
  if (readErr != 0) ThrowErrno(env, "read", readErr, "spawn error pipe");
  ThrowErrno(env, StepSyscall(report.step), report.err, StepContext(plan, report));
}

}  // namespace sockpit
