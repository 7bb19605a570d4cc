// Landlock for processes the addon starts (cold instances): the same scope zygote.py gives the Zygotes and
// the instances they fork, so every sandbox path has it. Without it a cold instance could read any
// world-readable host file it reached by a chroot escape, and connect to abstract unix sockets of processes
// outside its sandbox (another instance's, or a root listener's on the host).
#include "landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "args.h"

namespace sockpit {
namespace {

// The uapi structs, spelled out: the installed headers may predate the `scoped` field (ABI 6).
struct RulesetAttr {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};

struct __attribute__((packed)) PathBeneathAttr {
  uint64_t allowed_access;
  int32_t parent_fd;
};

constexpr uint32_t kCreateRulesetVersion = 1U << 0;
constexpr int kRulePathBeneath = 1;
constexpr uint64_t kAccessExecute = 1ULL << 0;
constexpr uint64_t kAccessReadFile = 1ULL << 2;
constexpr uint64_t kAccessReadDir = 1ULL << 3;
constexpr uint64_t kScopeAbstractUnixSocket = 1ULL << 0;
constexpr uint64_t kScopeSignal = 1ULL << 1;

const char kAbiUsage[] = "landlockAbi()";

}  // namespace

int LandlockAbi() noexcept {
  long abi = syscall(SYS_landlock_create_ruleset, nullptr, 0, kCreateRulesetVersion);
  // ENOSYS (not built in) and EOPNOTSUPP (built in, not enabled at boot): both mean none
  return abi < 1 ? 0 : static_cast<int>(abi);
}

int MakeSandboxRuleset(const std::string& root, int maxAbi) {
  long abi = LandlockAbi();
  if (abi > maxAbi) abi = maxAbi;
  if (abi < 1) return -1;
  const uint64_t read = kAccessExecute | kAccessReadFile | kAccessReadDir;
  RulesetAttr attr = {read, 0, abi >= 6 ? kScopeAbstractUnixSocket | kScopeSignal : 0};
  // the size tells the kernel which fields this caller knows
  size_t size = abi < 4 ? sizeof(uint64_t) : abi < 6 ? 2 * sizeof(uint64_t) : sizeof attr;
  int ruleset = static_cast<int>(syscall(SYS_landlock_create_ruleset, &attr, size, 0));
  if (ruleset < 0) return -errno;
  int dir = open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    int err = errno;
    close(ruleset);
    return -err;
  }
  PathBeneathAttr rule = {read, dir};
  long added = syscall(SYS_landlock_add_rule, ruleset, kRulePathBeneath, &rule, 0);
  int err = errno;
  close(dir);
  if (added < 0) {
    close(ruleset);
    return -err;
  }
  return ruleset;
}

Napi::Value GetLandlockAbi(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgCount(env, kAbiUsage, info, 0, 0);
  return Napi::Number::New(env, LandlockAbi());
}

int RestrictSelf(int ruleset) noexcept {
  return static_cast<int>(syscall(SYS_landlock_restrict_self, ruleset, 0));
}

}  // namespace sockpit
