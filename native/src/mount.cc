// Bind mounts, tmpfs and unmounts: the only mount operations the daemon needs to build a lean container.
#include "mount.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "args.h"
#include "errors.h"

namespace sockpit {
namespace {

const char kBindUsage[] = "bindMount(source: string, target: string, options?: {recursive?: boolean, readonly?: boolean})";
const char kUmountUsage[] = "umount(target: string, options?: {detach?: boolean})";
const char kTmpfsUsage[] = "mountTmpfs(target: string, options: string)";
const char kRemountUsage[] = "remountTmpfs(target: string, options: string)";

// A bind remount replaces every per-mount flag, so carry over the restrictive ones the mount already has:
// otherwise a read-only bind of a noexec source would quietly become executable.
unsigned long KeptFlags(const std::string& target) {
  struct statvfs st;
  if (statvfs(target.c_str(), &st) < 0) return 0;
  unsigned long flags = 0;
  if (st.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (st.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

// mount_setattr applies to the whole subtree at once; a remount loop over mountinfo would race with new mounts.
int MountSetattrReadonly(const std::string& target) {
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  return static_cast<int>(syscall(SYS_mount_setattr, AT_FDCWD, target.c_str(), AT_RECURSIVE, &attr, sizeof attr));
}

}  // namespace

Napi::Value BindMount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgCount(env, kBindUsage, info, 2, 3);
  std::string source = ArgPath(env, kBindUsage, info[0], "source");
  std::string target = ArgPath(env, kBindUsage, info[1], "target");
  Napi::Object options = OptObject(env, kBindUsage, info[2], "options");
  bool recursive = OptBool(env, kBindUsage, options, "recursive");
  bool readonly = OptBool(env, kBindUsage, options, "readonly");

  unsigned long flags = MS_BIND | (recursive ? MS_REC : 0);
  if (mount(source.c_str(), target.c_str(), nullptr, flags, nullptr) < 0) ThrowErrno(env, "mount", errno, target);
  if (!readonly) return env.Undefined();

  // The bind is already in place: leaving it writable after a failure would be worse than not having it.
  int err = 0;
  const char* step = nullptr;
  if (recursive) {
    if (MountSetattrReadonly(target) < 0) err = errno, step = "mount_setattr";
  } else {
    unsigned long ro = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | KeptFlags(target);
    if (mount(nullptr, target.c_str(), nullptr, ro, nullptr) < 0) err = errno, step = "mount";
  }
  if (step != nullptr) {
    umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
    ThrowErrno(env, step, err, target);
  }
  return env.Undefined();
}

Napi::Value Umount(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgCount(env, kUmountUsage, info, 1, 2);
  std::string target = ArgPath(env, kUmountUsage, info[0], "target");
  Napi::Object options = OptObject(env, kUmountUsage, info[1], "options");
  bool detach = OptBool(env, kUmountUsage, options, "detach");

  // NOFOLLOW: a symlink planted where a mount point was must not redirect the unmount elsewhere.
  int flags = UMOUNT_NOFOLLOW | (detach ? MNT_DETACH : 0);
  if (umount2(target.c_str(), flags) < 0) ThrowErrno(env, "umount2", errno, target);
  return env.Undefined();
}

Napi::Value MountTmpfs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgCount(env, kTmpfsUsage, info, 2, 2);
  std::string target = ArgPath(env, kTmpfsUsage, info[0], "target");
  std::string options = ArgString(env, kTmpfsUsage, info[1], "options");

  if (mount("tmpfs", target.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) < 0)
    ThrowErrno(env, "mount", errno, target);
  return env.Undefined();
}

// Changes a tmpfs's size= / nr_inodes= in place (a spare's scratch, sized before its function was known).
// Shrinking below what is in use fails with EINVAL: the caller then does not use that sandbox.
Napi::Value RemountTmpfs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ArgCount(env, kRemountUsage, info, 2, 2);
  std::string target = ArgPath(env, kRemountUsage, info[0], "target");
  std::string options = ArgString(env, kRemountUsage, info[1], "options");

  if (mount(nullptr, target.c_str(), "tmpfs", MS_REMOUNT | MS_NOSUID | MS_NODEV, options.c_str()) < 0)
    ThrowErrno(env, "mount", errno, target);
  return env.Undefined();
}

}  // namespace sockpit
