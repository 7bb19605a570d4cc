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

const char kUsage[] = "makeNetns(usernsFd?: number /* owner of the new namespace; default: ours */)";

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
  return "makeNetns";
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

}  // namespace

Napi::Value MakeNetns(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgCount(env, kUsage, info, 0, 1);
  int usernsFd = info.Length() == 1 && !info[0].IsUndefined() ? ArgFd(env, kUsage, info[0], "usernsFd") : -1;

  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) ThrowErrno(env, "pipe2", errno, "");

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
    ThrowErrno(env, "clone3", cloneErr, "");
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
  if (got != sizeof r) ThrowErrno(env, "read", got < 0 ? errno : EPROTO, "makeNetns report pipe");
  if (r.step != kOk) ThrowErrno(env, StepSyscall(r.step), r.err, usernsFd >= 0 ? "network namespace for a user namespace" : "network namespace");
  return Napi::Number::New(env, r.fd);
}

}  // namespace sockpit
