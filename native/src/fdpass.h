#pragma once

#include <napi.h>

namespace sockpit {

Napi::Value Socketpair(const Napi::CallbackInfo& info);
Napi::Value Pipe(const Napi::CallbackInfo& info);
Napi::Value SendFds(const Napi::CallbackInfo& info);
Napi::Value RecvFds(const Napi::CallbackInfo& info);
Napi::Value PeerCredentials(const Napi::CallbackInfo& info);

}  // namespace sockpit
