#pragma once

#include <napi.h>

namespace sockpit {

Napi::Value BindMount(const Napi::CallbackInfo& info);
Napi::Value Umount(const Napi::CallbackInfo& info);
Napi::Value MountTmpfs(const Napi::CallbackInfo& info);
Napi::Value RemountTmpfs(const Napi::CallbackInfo& info);

}  // namespace sockpit
