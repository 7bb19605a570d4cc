#!/usr/bin/env bash
# A Debian 12 guest under QEMU (systemd 252 as PID 1, pure cgroup v2, Debian's 6.1 kernel with Landlock ABI 2):
# the host users have, which this project's hybrid 6.18 machines are not. Software emulation (TCG) is enough.
#   scripts/vm.sh image            builds the guest image when it is missing (cached outside the repository)
#   scripts/vm.sh run -- CMD...    runs CMD as root in a fresh guest: this repository at /src (read-only), the host's
#                                  node on PATH, the job folder as working directory; prints the output and exits
#                                  with CMD's status
#   scripts/vm.sh test             builds the .deb, installs it in a fresh guest as a user would (apt, systemd) and
#                                  runs the v2 suite (packaging/vm/test) against the installed service
# Environment: SOCKPIT_VM_CACHE (default /var/cache/sockpit-vm), SOCKPIT_VM_TIMEOUT (seconds a guest may run,
# default 2400: the test job takes 10-20 minutes), SOCKPIT_VM_MEMORY (MiB, default 3072).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cache=${SOCKPIT_VM_CACHE:-/var/cache/sockpit-vm}
timeout_s=${SOCKPIT_VM_TIMEOUT:-2400}
memory=${SOCKPIT_VM_MEMORY:-3072}

# What a run leaves is removed however it ends (a CI job stopped, Ctrl-C): the guest is stopped, its folder removed.
job="" qemu=""
cleanup() {
  [ -n "$qemu" ] && kill "$qemu" 2>/dev/null
  [ -n "$job" ] && rm -rf "$job"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

need() {
  local missing=""
  for p in qemu-system-x86 qemu-utils mmdebstrap e2fsprogs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    [ "$(id -u)" -eq 0 ] || { echo "vm.sh: needs root to install$missing" >&2; exit 1; }
    echo "vm.sh: installing$missing" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
}

# The image is named after the files that make it: a change to them builds a new one.
image_dir() {
  local key
  key=$(cat "$repo/packaging/vm/build-image.sh" "$repo"/packaging/vm/guest/* | sha256sum | cut -c1-12)
  echo "$cache/debian12-$key"
}

image() {
  need
  local dir
  dir=$(image_dir)
  [ -f "$dir/root.img" ] && { echo "$dir"; return; }
  mkdir -p "$cache"
  echo "vm.sh: building the guest image in $dir (once; a few minutes)" >&2
  local started=$SECONDS
  "$repo/packaging/vm/build-image.sh" "$dir.partial" >&2
  mv "$dir.partial" "$dir"
  echo "vm.sh: image built in $((SECONDS - started)) s" >&2
  echo "$dir"
}

# boot JOB_DIR SRC_DIR: boots a fresh guest (the image is never written: snapshot=on) that runs JOB_DIR/command,
# with SRC_DIR at /src and the repository's node_modules at /src/node_modules
boot() {
  local job=$1 src=$2 dir
  dir=$(image)
  local node_dir="$cache/host-node"
  mkdir -p "$node_dir"
  # the host's node, hard-linked when it can be (same file system), so the guest runs the very binary the host does
  if ! cmp -s "$(command -v node)" "$node_dir/node"; then
    ln -f "$(command -v node)" "$node_dir/node" 2>/dev/null || cp "$(command -v node)" "$node_dir/node"
  fi
  printf 'src /src ro\nmodules /src/node_modules ro\nnode /opt/host-node ro\n' > "$job/shares"
  : > "$job/stream"
  local started=$SECONDS
  # A CPU model without AVX: QEMU 7.2 is the first whose software emulation has AVX/AVX2, which glibc and V8 use
  # wherever the CPU offers it; with `-cpu max` a test process died once of SIGSEGV in one guest run of four.
  # Nehalem (SSE4.2, POPCNT) is what Node, Python and the kernel need, emulated by older, well-worn code.
  timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 \
    -accel tcg -cpu Nehalem -smp 2 -m "$memory" -nodefaults -no-user-config -display none -no-reboot \
    -kernel "$dir/vmlinuz" -initrd "$dir/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 quiet loglevel=3 systemd.show_status=0 panic=-1" \
    -drive "file=$dir/root.img,if=virtio,format=raw,snapshot=on" \
    -virtfs "local,path=$job,mount_tag=job,security_model=passthrough,id=job" \
    -virtfs "local,path=$src,mount_tag=src,security_model=none,readonly=on,id=src" \
    -virtfs "local,path=$repo/node_modules,mount_tag=modules,security_model=none,readonly=on,id=modules" \
    -virtfs "local,path=$node_dir,mount_tag=node,security_model=none,readonly=on,id=node" \
    -serial "file:$job/console.log" -serial "file:$job/stream" &
  qemu=$!
  tail -f -n +1 --pid="$qemu" "$job/stream" &
  local tailer=$!
  local rc=0
  wait "$qemu" || rc=$?
  qemu=""
  wait "$tailer" || true
  if [ ! -f "$job/status" ]; then
    echo "vm.sh: the guest stopped without finishing its job (qemu status $rc, after $((SECONDS - started)) s); its console:" >&2
    tail -n 40 "$job/console.log" >&2 || true
    return 125
  fi
  echo "vm.sh: guest ran for $((SECONDS - started)) s" >&2
  return "$(cat "$job/status")"
}

new_job() {
  local job
  job=$(mktemp -d /var/tmp/sockpit-vm-job.XXXXXX)
  echo "$job"
}

run() {
  [ "${1:-}" = "--" ] && shift
  [ $# -gt 0 ] || { echo "usage: scripts/vm.sh run -- CMD..." >&2; exit 2; }
  local rc=0
  job=$(new_job)
  printf '%q ' "$@" > "$job/command"
  boot "$job" "$repo" || rc=$?
  return $rc
}

suite() {
  need
  local deb rc=0
  (cd "$repo" && npm run --silent package:deb) >&2
  deb=$(ls -t "$repo"/dist/deb/sockpit_*.deb | head -1)
  job=$(new_job)
  cp "$deb" "$job/"
  cp "$repo/packaging/vm/test/run-in-guest.sh" "$job/command"
  # the suites read the repository for many minutes: they get a copy of it as built now, so work on the
  # repository meanwhile cannot change what they run (node_modules is shared as it is: only npm ci changes it)
  mkdir "$job/src"
  tar -C "$repo" --exclude=./node_modules --exclude=./.git --exclude=./dist/deb -cf - . | tar -C "$job/src" -xf -
  mkdir -p "$job/src/node_modules"
  boot "$job" "$job/src" || rc=$?
  return $rc
}

case "${1:-}" in
  image) image ;;
  run) shift; run "$@" ;;
  test) suite ;;
  *) echo "usage: scripts/vm.sh image | run -- CMD... | test" >&2; exit 2 ;;
esac
