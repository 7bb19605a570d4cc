#pragma once

#include <napi.h>

namespace sockpit {

Napi::Value MakeNetns(const Napi::CallbackInfo& info);
// The same on a worker thread: a Promise of the fd.
Napi::Value MakeNetnsAsync(const Napi::CallbackInfo& info);

}  // namespace sockpit
