#pragma once

#include <napi.h>

namespace sockpit {

Napi::Value WatchExit(const Napi::CallbackInfo& info);
Napi::Value PidfdKill(const Napi::CallbackInfo& info);
Napi::Value PidfdOpen(const Napi::CallbackInfo& info);
Napi::Value SetChildSubreaper(const Napi::CallbackInfo& info);

}  // namespace sockpit
