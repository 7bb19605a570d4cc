// File descriptors across unix sockets (SCM_RIGHTS) and the pipes/socketpairs that carry them.
// Both directions use MSG_DONTWAIT: they run on the JS thread, which must never sleep in the kernel;
// EAGAIN comes back as an errno error and the caller waits for readiness itself.
#include "fdpass.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

#include "args.h"
#include "errors.h"

namespace sockpit {
namespace {

const char kSocketpairUsage[] = "socketpair()";
const char kPipeUsage[] = "pipe()";
const char kSendUsage[] = "sendFds(sockfd: number, data: Buffer, fds: number[])";
const char kRecvUsage[] = "recvFds(sockfd: number, maxBytes: number, maxFds: number)";
const char kPeerUsage[] = "peerCredentials(fd: number)";

// The kernel's limit on fds in one SCM_RIGHTS message (SCM_MAX_FD).
const int kMaxFds = 253;

Napi::Array FdPair(Napi::Env env, const int fds[2]) {
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, fds[0]));
  out.Set(1u, Napi::Number::New(env, fds[1]));
  return out;
}

}  // namespace

Napi::Value Socketpair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgCount(env, kSocketpairUsage, info, 0, 0);
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) ThrowErrno(env, "socketpair", errno, "");
  return FdPair(env, fds);
}

Napi::Value Pipe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgCount(env, kPipeUsage, info, 0, 0);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) ThrowErrno(env, "pipe2", errno, "");
  return FdPair(env, fds);
}

Napi::Value SendFds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgCount(env, kSendUsage, info, 3, 3);
  int sockfd = ArgFd(env, kSendUsage, info[0], "sockfd");
  if (!info[1].IsBuffer()) ThrowUsage(env, kSendUsage, "data must be a Buffer");
  Napi::Buffer<char> data = info[1].As<Napi::Buffer<char>>();
  // SCM_RIGHTS travels with the first byte: an empty message would drop the fds on a stream socket.
  if (data.Length() == 0) ThrowUsage(env, kSendUsage, "data must not be empty");
  if (!info[2].IsArray()) ThrowUsage(env, kSendUsage, "fds must be an array of fds");
  Napi::Array list = info[2].As<Napi::Array>();
  if (list.Length() > kMaxFds) ThrowUsage(env, kSendUsage, "at most 253 fds fit in one message");
  std::vector<int> fds;
  for (uint32_t i = 0; i < list.Length(); i++) fds.push_back(ArgFd(env, kSendUsage, list.Get(i), "fds[i]"));

  struct iovec iov = {data.Data(), data.Length()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  std::vector<char> control;
  if (!fds.empty()) {
    control.assign(CMSG_SPACE(fds.size() * sizeof(int)), 0);
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
    memcpy(CMSG_DATA(cmsg), fds.data(), fds.size() * sizeof(int));
  }

  ssize_t sent;
  do sent = sendmsg(sockfd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  while (sent < 0 && errno == EINTR);
  if (sent < 0) ThrowErrno(env, "sendmsg", errno, "");
  return Napi::Number::New(env, static_cast<double>(sent));
}

Napi::Value RecvFds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgCount(env, kRecvUsage, info, 3, 3);
  int sockfd = ArgFd(env, kRecvUsage, info[0], "sockfd");
  size_t maxBytes = static_cast<size_t>(ArgInt(env, kRecvUsage, info[1], "maxBytes", 1, 64 << 20));
  int maxFds = static_cast<int>(ArgInt(env, kRecvUsage, info[2], "maxFds", 0, kMaxFds));

  std::vector<char> data(maxBytes);
  std::vector<char> control(CMSG_SPACE(static_cast<size_t>(maxFds) * sizeof(int)));
  struct iovec iov = {data.data(), data.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (maxFds > 0) {
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
  }

  ssize_t got;
  do got = recvmsg(sockfd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  while (got < 0 && errno == EINTR);
  if (got < 0) ThrowErrno(env, "recvmsg", errno, "");

  // Collect every fd that arrived before judging the message, so that none leaks on the error path.
  std::vector<int> fds;
  for (struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const unsigned char* p = CMSG_DATA(cmsg);
    for (size_t i = 0; i < count; i++) {
      int fd;
      memcpy(&fd, p + i * sizeof(int), sizeof fd);
      fds.push_back(fd);
    }
  }
  if (msg.msg_flags & MSG_CTRUNC) {
    // More fds were sent than maxFds allows: the kernel closed the excess, a partial set is useless.
    for (int fd : fds) close(fd);
    ThrowErrno(env, "recvmsg", EMSGSIZE, "");
  }

  Napi::Array out = Napi::Array::New(env, fds.size());
  for (size_t i = 0; i < fds.size(); i++) out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, fds[i]));
  Napi::Object result = Napi::Object::New(env);
  result.Set("data", Napi::Buffer<char>::Copy(env, data.data(), static_cast<size_t>(got)));
  result.Set("fds", out);
  return result;
}

// The credentials of the process at the other end of a connected unix socket, as the kernel recorded them
// when it connected (SO_PEERCRED): who is talking to the daemon, whatever it claims.
Napi::Value PeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgCount(env, kPeerUsage, info, 1, 1);
  int fd = ArgFd(env, kPeerUsage, info[0], "fd");
  struct ucred cred = {};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) ThrowErrno(env, "getsockopt", errno, "");
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, cred.pid));
  out.Set("uid", Napi::Number::New(env, cred.uid));
  out.Set("gid", Napi::Number::New(env, cred.gid));
  return out;
}

}  // namespace sockpit
