// Exit notification and signals through pidfds: no SIGCHLD handler, no pid reuse races.
#include "pidfd.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <fstream>
#include <string>

#include "args.h"
#include "errors.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace sockpit {
namespace {

const char kWatchUsage[] =
    "watchExit(pidfd: number, callback: (status: {pid, code, signal}, error?: Error) => void, options?: {keepAlive?: boolean})";
const char kKillUsage[] = "pidfdKill(pidfd: number, signal: number)";
const char kOpenUsage[] = "pidfdOpen(pid: number)";
const char kSubreaperUsage[] = "setChildSubreaper()";

// One watched process. Lives from watchExit until its poll handle is closed; owns the callback reference.
struct Watch {
  uv_poll_t poll;
  napi_env env;
  int pidfd;
  long pid;
  Napi::FunctionReference callback;
  Napi::AsyncContext* context = nullptr;
  napi_async_cleanup_hook_handle hook = nullptr;
};

void OnClosed(uv_handle_t* handle) {
  Watch* w = static_cast<Watch*>(handle->data);
  // Set only when the environment's teardown closed the handle: that teardown waits for this removal.
  if (w->hook != nullptr) napi_remove_async_cleanup_hook(w->hook);
  delete w->context;
  delete w;
}

// The environment is going away (worker exit, process.exit) while still watching: release without calling back.
void OnEnvCleanup(napi_async_cleanup_hook_handle hook, void* arg) {
  Watch* w = static_cast<Watch*>(arg);
  uv_poll_stop(&w->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), OnClosed);
}

// The pid the kernel shows for a pidfd, or -1 when fd is not a pidfd; -1 also when it was reaped already.
long PidOfPidfd(int fd) {
  std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd));
  std::string key;
  while (in >> key) {
    if (key == "Pid:") {
      long pid = -1;
      in >> pid;
      return pid;
    }
    in.ignore(4096, '\n');
  }
  return -2;
}

void OnReadable(uv_poll_t* handle, int status, int events) {
  Watch* w = static_cast<Watch*>(handle->data);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  int rc;
  do rc = waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(w->pidfd), &si, WEXITED | WNOHANG);
  while (rc < 0 && errno == EINTR);
  int waitErr = rc < 0 ? errno : 0;
  if (rc == 0 && si.si_pid == 0) return;  // readable but not yet reapable: keep watching

  // Stop before JS runs: the callback closes the pidfd, and libuv must not poll a closed fd.
  uv_poll_stop(&w->poll);
  if (w->hook != nullptr) napi_remove_async_cleanup_hook(w->hook);
  w->hook = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), OnClosed);

  Napi::Env env(w->env);
  Napi::HandleScope scope(env);
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, static_cast<double>(rc == 0 ? si.si_pid : w->pid)));
  Napi::Value code = env.Null(), signal = env.Null();
  if (rc == 0 && si.si_code == CLD_EXITED) {
    code = Napi::Number::New(env, si.si_status);
  } else if (rc == 0 && (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED)) {
    const char* abbrev = sigabbrev_np(si.si_status);
    signal = Napi::String::New(env, abbrev != nullptr ? std::string("SIG") + abbrev : "SIG" + std::to_string(si.si_status));
  }
  result.Set("code", code);
  result.Set("signal", signal);

  try {
    if (waitErr != 0)
      w->callback.MakeCallback(env.Global(), {result, ErrnoError(env, "waitid", waitErr, "").Value()}, *w->context);
    else
      w->callback.MakeCallback(env.Global(), {result}, *w->context);
  } catch (const Napi::Error& e) {
    // No JS frame is below a libuv callback: hand the exception to Node as an uncaught one.
    napi_fatal_exception(w->env, e.Value());
  }
  w->callback.Reset();
}

}  // namespace

Napi::Value WatchExit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgCount(env, kWatchUsage, info, 2, 3);
  int pidfd = ArgFd(env, kWatchUsage, info[0], "pidfd");
  if (!info[1].IsFunction()) ThrowUsage(env, kWatchUsage, "callback must be a function");
  Napi::Object options = OptObject(env, kWatchUsage, info.Length() > 2 ? info[2] : env.Undefined(), "options");
  // keepAlive defaults to true: a watch that must not hold the process open (an owner's exit) says so
  bool keepAlive = options.Get("keepAlive").IsUndefined() || OptBool(env, kWatchUsage, options, "keepAlive");
  long pid = PidOfPidfd(pidfd);
  if (pid == -2) ThrowUsage(env, kWatchUsage, "pidfd " + std::to_string(pidfd) + " is not a pidfd");

  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) ThrowErrno(env, "napi_get_uv_event_loop", EINVAL, "");

  Watch* w = new Watch();
  w->env = env;
  w->pidfd = pidfd;
  w->pid = pid;
  w->poll.data = w;
  int rc = uv_poll_init(loop, &w->poll, pidfd);
  if (rc < 0) {
    delete w;
    ThrowErrno(env, "uv_poll_init", -rc, "");
  }
  // From here the handle is registered with the loop: it is freed only through uv_close.
  rc = uv_poll_start(&w->poll, UV_READABLE, OnReadable);
  if (rc < 0) {
    uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), OnClosed);
    ThrowErrno(env, "uv_poll_start", -rc, "");
  }
  if (!keepAlive) uv_unref(reinterpret_cast<uv_handle_t*>(&w->poll));
  w->callback = Napi::Persistent(info[1].As<Napi::Function>());
  w->context = new Napi::AsyncContext(env, "sockpit.watchExit");
  napi_add_async_cleanup_hook(env, OnEnvCleanup, w, &w->hook);
  return env.Undefined();
}

Napi::Value PidfdKill(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgCount(env, kKillUsage, info, 2, 2);
  int pidfd = ArgFd(env, kKillUsage, info[0], "pidfd");
  int sig = static_cast<int>(ArgInt(env, kKillUsage, info[1], "signal", 0, NSIG - 1));

  if (syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0) == 0) return Napi::Boolean::New(env, true);
  // ESRCH: the process has been reaped already. Tolerated on purpose: killing something gone is done.
  if (errno == ESRCH) return Napi::Boolean::New(env, false);
  ThrowErrno(env, "pidfd_send_signal", errno, "");
}

// A pidfd for a process this one did not spawn itself (one forked by a Zygote). Opened right after the process
// reported its pid, while it cannot have exited yet (it waits for its first request), so the pid is its own.
Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgCount(env, kOpenUsage, info, 1, 1);
  pid_t pid = static_cast<pid_t>(ArgInt(env, kOpenUsage, info[0], "pid", 1, INT32_MAX));
  long fd = syscall(SYS_pidfd_open, pid, 0);
  if (fd < 0) ThrowErrno(env, "pidfd_open", errno, "");
  // pidfd_open has no CLOEXEC flag of its own: a pidfd is always close-on-exec
  return Napi::Number::New(env, static_cast<double>(fd));
}

// Orphans below this process (an instance whose Zygote-forked parent exited) are reparented to it, so it can
// reap them through their pidfds instead of leaving zombies to an init that may not reap.
Napi::Value SetChildSubreaper(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgCount(env, kSubreaperUsage, info, 0, 0);
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) ThrowErrno(env, "prctl", errno, "PR_SET_CHILD_SUBREAPER");
  return env.Undefined();
}

}  // namespace sockpit
