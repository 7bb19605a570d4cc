// The one way native code reports a failed system call: a JS Error in Node's own shape.
#pragma once

#include <napi.h>

#include <string>

namespace sockpit {

// Error("<syscall>: <CODE> (<strerror>) <context>") with code ('EPERM'), errno (negative, like Node), syscall
// and, when context is not empty, path. For the few places that hand an error to a callback instead of throwing.
Napi::Error ErrnoError(Napi::Env env, const std::string& syscall, int err, const std::string& context);

// Throws ErrnoError(...): the way every failed system call reaches JS. Never returns.
[[noreturn]] void ThrowErrno(Napi::Env env, const std::string& syscall, int err, const std::string& context);

// Throws TypeError("<usage>: <what>") for a bad argument. Never returns.
[[noreturn]] void ThrowUsage(Napi::Env env, const char* usage, const std::string& what);

// The errno name ("EPERM"), or "E<number>" for one this table does not know.
std::string ErrnoName(int err);

}  // namespace sockpit
