// Makes a network namespace with loopback up and nothing else, and returns an fd that holds it (the pool in
// service/src/network keeps these). Optionally the namespace is owned by a given user namespace, so that root
// inside that user namespace (the Zygotes) may setns into it: the kernel lets a process join a network
// namespace only with CAP_SYS_ADMIN in the user namespace that owns it.
//
// Node is multithreaded and setns(CLONE_NEWUSER) needs a single-threaded caller, so the work runs in a child of
// clone3 that shares our fd table (CLONE_FILES): the namespace fd it opens is ours. Between clone3 and _exit it
// makes raw system calls only, and reports {step, errno} through a pipe.
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "args.h"
#include "errors.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace sockpit {
namespace {

const char kUsage[] = "makeNetns(usernsFd?: number /* owner of the new namespace; default: ours */) (or makeNetnsAsync)";

struct CloneArgs {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

enum Step : int32_t { kOk, kSetnsUser, kUnshare, kSocket, kGetFlags, kSetFlags, kOpen };

const char* StepSyscall(int32_t step) {
  switch (step) {
    case kSetnsUser: return "setns";
    case kUnshare: return "unshare";
    case kSocket: return "socket";
    case kGetFlags: return "ioctl(SIOCGIFFLAGS)";
    case kSetFlags: return "ioctl(SIOCSIFFLAGS)";
    case kOpen: return "open";
  }
  return "makeNetns";  // our own pipe2, clone3, waitid or read
}

struct Report {
  int32_t step;
  int32_t err;
  int32_t fd;
};

[[noreturn]] void Finish(int pipefd, int32_t step, int fd) noexcept {
  Report r = {step, step == kOk ? 0 : errno, fd};
  ssize_t ignored = write(pipefd, &r, sizeof r);
  (void)ignored;
  _exit(step == kOk ? 0 : 1);
}

[[noreturn]] void RunChild(int usernsFd, int pipefd) noexcept {
  if (usernsFd >= 0 && setns(usernsFd, CLONE_NEWUSER) < 0) Finish(pipefd, kSetnsUser, -1);
  if (unshare(CLONE_NEWNET) < 0) Finish(pipefd, kUnshare, -1);
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) Finish(pipefd, kSocket, -1);
  struct ifreq ifr = {};
  memcpy(ifr.ifr_name, "lo", 3);
  if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) Finish(pipefd, kGetFlags, -1);
  ifr.ifr_flags |= IFF_UP;
  if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) Finish(pipefd, kSetFlags, -1);
  close(sock);
  int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (fd < 0) Finish(pipefd, kOpen, -1);
  Finish(pipefd, kOk, fd);
}

// A failure of our own pipe2, clone3, waitid or read (the step reported as "makeNetns").
Report Failed(int err) { return {-1, err, -1}; }

// Makes one namespace; any thread may call it. Returns {kOk, 0, fd}, or the failed step and its errno.
Report Make(int usernsFd) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) return Failed(errno);

  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int pidfd = -1;
  CloneArgs args = {};
  args.flags = CLONE_PIDFD | CLONE_FILES;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0) RunChild(usernsFd, pipefd[1]);
  int cloneErr = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (pid < 0) {
    close(pipefd[0]);
    close(pipefd[1]);
    return Failed(cloneErr);
  }

  // The child exits right after its report: reap it, then read the report it left in the pipe.
  siginfo_t si;
  while (waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &si, WEXITED) < 0 && errno == EINTR) {
  }
  close(pidfd);
  close(pipefd[1]);
  Report r = {};
  ssize_t got;
  do got = read(pipefd[0], &r, sizeof r);
  while (got < 0 && errno == EINTR);
  close(pipefd[0]);
  if (got != sizeof r) return Failed(got < 0 ? errno : EPROTO);
  return r;
}

int UsernsArg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgCount(env, kUsage, info, 0, 1);
  return info.Length() == 1 && !info[0].IsUndefined() ? ArgFd(env, kUsage, info[0], "usernsFd") : -1;
}

Napi::Error ReportError(Napi::Env env, const Report& r, int usernsFd) {
  return ErrnoError(env, StepSyscall(r.step), r.err, usernsFd >= 0 ? "network namespace for a user namespace" : "network namespace");
}

// The same off the JS thread: the child's unshare(CLONE_NEWNET) takes milliseconds.
class MakeWorker : public Napi::AsyncWorker {
 public:
  MakeWorker(Napi::Env env, int usernsFd) : Napi::AsyncWorker(env), usernsFd_(usernsFd), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override { report_ = Make(usernsFd_); }
  void OnOK() override {
    Napi::Env env = Env();
    if (report_.step == kOk) deferred_.Resolve(Napi::Number::New(env, report_.fd));
    else deferred_.Reject(ReportError(env, report_, usernsFd_).Value());
  }

 private:
  int usernsFd_;
  Report report_ = {};
  Napi::Promise::Deferred deferred_;
};

}  // namespace

Napi::Value MakeNetns(const Napi::CallbackInfo& info) {
  int usernsFd = UsernsArg(info);
  Report r = Make(usernsFd);
  if (r.step != kOk) throw ReportError(info.Env(), r, usernsFd);
  return Napi::Number::New(info.Env(), r.fd);
}

Napi::Value MakeNetnsAsync(const Napi::CallbackInfo& info) {
  int usernsFd = UsernsArg(info);
  MakeWorker* worker = new MakeWorker(info.Env(), usernsFd);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace sockpit
