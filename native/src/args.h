// Argument checks shared by every export: each failure is a TypeError that starts with the export's usage line.
#pragma once

#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "errors.h"

namespace sockpit {

// A string without NUL bytes: the kernel would silently cut it at the first one.
inline std::string ArgString(Napi::Env env, const char* usage, Napi::Value v, const char* name) {
  if (!v.IsString()) ThrowUsage(env, usage, std::string(name) + " must be a string");
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.find('\0') != std::string::npos) ThrowUsage(env, usage, std::string(name) + " must not contain NUL bytes");
  return s;
}

inline std::string ArgPath(Napi::Env env, const char* usage, Napi::Value v, const char* name) {
  std::string s = ArgString(env, usage, v, name);
  if (s.empty() || s[0] != '/') ThrowUsage(env, usage, std::string(name) + " must be an absolute path");
  return s;
}

// An integer in [min, max]; JS numbers are doubles, so reject fractions and NaN instead of truncating.
inline int64_t ArgInt(Napi::Env env, const char* usage, Napi::Value v, const char* name, int64_t min, int64_t max) {
  if (!v.IsNumber()) ThrowUsage(env, usage, std::string(name) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d || d < static_cast<double>(min) || d > static_cast<double>(max))
    ThrowUsage(env, usage, std::string(name) + " must be an integer in [" + std::to_string(min) + ", " +
                               std::to_string(max) + "]");
  return static_cast<int64_t>(d);
}

inline int ArgFd(Napi::Env env, const char* usage, Napi::Value v, const char* name) {
  return static_cast<int>(ArgInt(env, usage, v, name, 0, INT32_MAX));
}

// An optional boolean field of an options object (undefined -> false).
inline bool OptBool(Napi::Env env, const char* usage, Napi::Object o, const char* name) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined()) return false;
  if (!v.IsBoolean()) ThrowUsage(env, usage, std::string(name) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

// An optional options object (undefined -> empty object).
inline Napi::Object OptObject(Napi::Env env, const char* usage, Napi::Value v, const char* name) {
  if (v.IsUndefined()) return Napi::Object::New(env);
  if (!v.IsObject() || v.IsArray()) ThrowUsage(env, usage, std::string(name) + " must be an object");
  return v.As<Napi::Object>();
}

inline void ArgCount(Napi::Env env, const char* usage, const Napi::CallbackInfo& info, size_t min, size_t max) {
  if (info.Length() < min || info.Length() > max)
    ThrowUsage(env, usage, "expected " + std::to_string(min) + (min == max ? "" : "-" + std::to_string(max)) +
                               " arguments, got " + std::to_string(info.Length()));
}

}  // namespace sockpit
