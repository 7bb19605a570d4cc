#include "errors.h"

#include <errno.h>
#include <string.h>

namespace sockpit {

std::string ErrnoName(int err) {
  // glibc 2.32+ knows every name; the fallback keeps unknown values readable.
  const char* name = strerrorname_np(err);
  return name != nullptr ? std::string(name) : "E" + std::to_string(err);
}

Napi::Error ErrnoError(Napi::Env env, const std::string& syscall, int err, const std::string& context) {
  std::string code = ErrnoName(err);
  std::string message = syscall + ": " + code + " (" + strerror(err) + ")";
  if (!context.empty()) message += " " + context;
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", Napi::String::New(env, syscall));
  if (!context.empty()) error.Set("path", Napi::String::New(env, context));
  return error;
}

void ThrowErrno(Napi::Env env, const std::string& syscall, int err, const std::string& context) {
  throw ErrnoError(env, syscall, err, context);
}

void ThrowUsage(Napi::Env env, const char* usage, const std::string& what) {
  throw Napi::TypeError::New(env, std::string(usage) + ": " + what);
}

}  // namespace sockpit
