#pragma once

#include <napi.h>

namespace sockpit {

Napi::Value Execve(const Napi::CallbackInfo& info);
Napi::Value SetParentDeathSignal(const Napi::CallbackInfo& info);
Napi::Value LockFile(const Napi::CallbackInfo& info);
Napi::Value SdNotify(const Napi::CallbackInfo& info);

}  // namespace sockpit
