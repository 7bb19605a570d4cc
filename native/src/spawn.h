#pragma once

#include <napi.h>

namespace sockpit {

Napi::Value Spawn(const Napi::CallbackInfo& info);

}  // namespace sockpit
