#pragma once

#include <string>

namespace sockpit {

// A Landlock ruleset for a sandbox whose root is `root` (a path in the caller's mount namespace): reads,
// directory listings and execution only beneath that root, and (ABI 6+) signals and abstract unix sockets
// scoped to the sandbox's own domain. Returns the ruleset fd (close-on-exec), -1 when the kernel has no
// Landlock (nothing to apply), or -errno. Made in the parent; the child only calls RestrictSelf.
int MakeSandboxRuleset(const std::string& root);

// landlock_restrict_self(ruleset, 0): async-signal-safe, for the child between clone and execve.
int RestrictSelf(int ruleset) noexcept;

}  // namespace sockpit
