// Calls about the daemon's own process: replacing it by another program (so the pid a user started stays the
// daemon's), dying with the process that owns it, holding an exclusive lock for its whole life, and telling its
// supervisor (systemd) how it is doing.
#include "self.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "args.h"
#include "errors.h"

namespace sockpit {
namespace {

const char kExecveUsage[] = "execve(file: string, argv: string[], env: string[])";
const char kDeathUsage[] = "setParentDeathSignal(signal: number)";
const char kLockUsage[] = "lockFile(fd: number)";
const char kNotifyUsage[] = "sdNotify(socketPath: string, state: string)";

std::vector<std::string> StringArray(Napi::Env env, Napi::Value v, const char* name) {
  if (!v.IsArray()) ThrowUsage(env, kExecveUsage, std::string(name) + " must be an array of strings");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<std::string> out;
  for (uint32_t i = 0; i < a.Length(); i++) out.push_back(ArgString(env, kExecveUsage, a.Get(i), name));
  return out;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> p;
  for (auto& s : strings) p.push_back(s.data());
  p.push_back(nullptr);
  return p;
}

}  // namespace

// Replaces this process (every thread of it) by file. Returns only by throwing. Node may have marked the
// standard streams close-on-exec; the new program must keep them, so that is cleared first.
Napi::Value Execve(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgCount(env, kExecveUsage, info, 3, 3);
  std::string file = ArgPath(env, kExecveUsage, info[0], "file");
  std::vector<std::string> argv = StringArray(env, info[1], "argv");
  std::vector<std::string> envp = StringArray(env, info[2], "env");
  for (int fd = 0; fd <= 2; fd++) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0 && (flags & FD_CLOEXEC) != 0 && fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) < 0)
      ThrowErrno(env, "fcntl", errno, "F_SETFD " + std::to_string(fd));
  }
  std::vector<char*> argp = Pointers(argv), envpp = Pointers(envp);
  execve(file.c_str(), argp.data(), envpp.data());
  ThrowErrno(env, "execve", errno, file);
}

// prctl(PR_SET_PDEATHSIG): the kernel sends signal when the parent exits, even by SIGKILL. Returns the parent's
// pid read after it is set: if that is not the expected owner, the owner died before the signal was armed.
Napi::Value SetParentDeathSignal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgCount(env, kDeathUsage, info, 1, 1);
  int sig = static_cast<int>(ArgInt(env, kDeathUsage, info[0], "signal", 1, NSIG - 1));
  if (prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) < 0) ThrowErrno(env, "prctl", errno, "PR_SET_PDEATHSIG");
  return Napi::Number::New(env, static_cast<double>(getppid()));
}

// flock(fd, LOCK_EX | LOCK_NB): true when this process now holds the lock, false when another one holds it.
// The lock lives as long as the open file description, i.e. the daemon's life (the fd is close-on-exec).
Napi::Value LockFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgCount(env, kLockUsage, info, 1, 1);
  int fd = ArgFd(env, kLockUsage, info[0], "fd");
  int rc;
  do rc = flock(fd, LOCK_EX | LOCK_NB);
  while (rc < 0 && errno == EINTR);
  if (rc == 0) return Napi::Boolean::New(env, true);
  if (errno == EWOULDBLOCK) return Napi::Boolean::New(env, false);
  ThrowErrno(env, "flock", errno, "");
}

// sd_notify(3) without libsystemd: one datagram with the state ("READY=1", "STOPPING=1", "STATUS=...") to the
// socket systemd named in NOTIFY_SOCKET ("@name" is an abstract socket). Node has no unix datagram sockets.
Napi::Value SdNotify(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgCount(env, kNotifyUsage, info, 2, 2);
  std::string where = ArgString(env, kNotifyUsage, info[0], "socketPath");
  std::string state = ArgString(env, kNotifyUsage, info[1], "state");
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (where.empty() || where.size() >= sizeof addr.sun_path || (where[0] != '/' && where[0] != '@'))
    ThrowUsage(env, kNotifyUsage, "socketPath must be an absolute path or @abstract name shorter than sun_path");
  where.copy(addr.sun_path, where.size());
  if (where[0] == '@') addr.sun_path[0] = '\0';
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + where.size());
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) ThrowErrno(env, "socket", errno, "AF_UNIX SOCK_DGRAM");
  ssize_t sent;
  do sent = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), len);
  while (sent < 0 && errno == EINTR);
  int err = errno;
  close(fd);
  if (sent < 0) ThrowErrno(env, "sendto", err, where);
  return env.Undefined();
}

}  // namespace sockpit
