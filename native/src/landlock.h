#pragma once

#include <napi.h>

#include <string>

namespace sockpit {

// The kernel's Landlock ABI version, 0 when it has no Landlock (not built in, or not enabled at boot).
int LandlockAbi() noexcept;

// landlockAbi(): LandlockAbi() for the daemon's start-up probe (daemon/kernel-probe.ts).
Napi::Value GetLandlockAbi(const Napi::CallbackInfo& info);

// A Landlock ruleset for a sandbox whose root is `root` (a path in the caller's mount namespace): reads,
// directory listings and execution only beneath that root, and (ABI 6+) signals and abstract unix sockets
// scoped to the sandbox's own domain. Uses the kernel's ABI, but at most maxAbi (the daemon may be told to use
// a lower one: config kernel.assumeLandlockAbi). Returns the ruleset fd (close-on-exec), -1 when there is no
// Landlock to apply (none in the kernel, or maxAbi 0), or -errno. Made in the parent; the child only calls
// RestrictSelf.
int MakeSandboxRuleset(const std::string& root, int maxAbi);

// landlock_restrict_self(ruleset, 0): async-signal-safe, for the child between clone and execve.
int RestrictSelf(int ruleset) noexcept;

}  // namespace sockpit
