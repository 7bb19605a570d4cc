// Registers the exports of sockpit_native; every export lives in the file of its concern.
#include <napi.h>

#include "fdpass.h"
#include "landlock.h"
#include "mount.h"
#include "netns.h"
#include "pidfd.h"
#include "self.h"
#include "spawn.h"

namespace sockpit {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("bindMount", Napi::Function::New(env, BindMount, "bindMount"));
  exports.Set("umount", Napi::Function::New(env, Umount, "umount"));
  exports.Set("mountTmpfs", Napi::Function::New(env, MountTmpfs, "mountTmpfs"));
  exports.Set("makeNetns", Napi::Function::New(env, MakeNetns, "makeNetns"));
  exports.Set("makeNetnsAsync", Napi::Function::New(env, MakeNetnsAsync, "makeNetnsAsync"));
  exports.Set("remountTmpfs", Napi::Function::New(env, RemountTmpfs, "remountTmpfs"));
  exports.Set("spawn", Napi::Function::New(env, Spawn, "spawn"));
  exports.Set("watchExit", Napi::Function::New(env, WatchExit, "watchExit"));
  exports.Set("pidfdKill", Napi::Function::New(env, PidfdKill, "pidfdKill"));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen, "pidfdOpen"));
  exports.Set("setChildSubreaper", Napi::Function::New(env, SetChildSubreaper, "setChildSubreaper"));
  exports.Set("socketpair", Napi::Function::New(env, Socketpair, "socketpair"));
  exports.Set("pipe", Napi::Function::New(env, Pipe, "pipe"));
  exports.Set("sendFds", Napi::Function::New(env, SendFds, "sendFds"));
  exports.Set("recvFds", Napi::Function::New(env, RecvFds, "recvFds"));
  exports.Set("execve", Napi::Function::New(env, Execve, "execve"));
  exports.Set("setParentDeathSignal", Napi::Function::New(env, SetParentDeathSignal, "setParentDeathSignal"));
  exports.Set("lockFile", Napi::Function::New(env, LockFile, "lockFile"));
  exports.Set("sdNotify", Napi::Function::New(env, SdNotify, "sdNotify"));
  exports.Set("peerCredentials", Napi::Function::New(env, PeerCredentials, "peerCredentials"));
  exports.Set("landlockAbi", Napi::Function::New(env, GetLandlockAbi, "landlockAbi"));
  return exports;
}

}  // namespace sockpit

// The macro pastes its argument into an identifier, so it needs an unqualified name.
static Napi::Object InitSockpit(Napi::Env env, Napi::Object exports) { return sockpit::Init(env, exports); }

NODE_API_MODULE(sockpit_native, InitSockpit)
