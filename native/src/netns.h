#pragma once

#include <napi.h>

namespace sockpit {

Napi::Value MakeNetns(const Napi::CallbackInfo& info);

}  // namespace sockpit
