#!/usr/bin/env bash
# The two commands of the README, on a fresh Debian/Ubuntu machine with Node.js 20 (run as root):
#   scripts/dev.sh start   installs what is missing, builds, starts sockpitd (as root) + the panel with sample
#                          functions (as the user who ran sudo, else nobody: never root; see scripts/start.js)
#   scripts/dev.sh test    installs what is missing, then runs every test (unit, integration, renderer, e2e, and
#                          the Debian 12 guest: scripts/vm.sh installs QEMU and mmdebstrap itself)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "sockpit: sockpitd makes mounts and cgroups, so this needs root: sudo $0 $*" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# Electron's binary can't be downloaded everywhere; the panel then runs in a browser (web mode).
export ELECTRON_SKIP_BINARY_DOWNLOAD="${ELECTRON_SKIP_BINARY_DOWNLOAD:-1}"

# python3 + pip: the sandboxes' interpreter and the package cache; util-linux: unshare(1) and nsenter(1) (the
# daemon loads egress rules with it); slirp4netns, nftables: the sandboxes' egress path and its deny list;
# iproute2: ip(8), the network tests' stand-in host; g++/make: the native addon;
# bubblewrap, crun: benchmark peers; python3-{requests,flask,numpy,pandas}: the provisioning benchmark's real
# libraries; chromium: the panel's end-to-end tests.
PACKAGES="python3 python3-pip util-linux slirp4netns nftables iproute2 g++ make bubblewrap crun python3-requests python3-flask python3-numpy python3-pandas chromium"
missing=""
for p in $PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "sockpit: installing$missing"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# sockpitd's socket is root:sockpit 0660: members of this group may use the API without being root (the panel
# that `start` runs as a user has it as its group)
getent group sockpit >/dev/null || groupadd --system sockpit

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

case "${1:-}" in
  start) shift; exec npm start -- "$@" ;;
  test) exec npm test ;;
  *) echo "usage: $0 start|test" >&2; exit 2 ;;
esac
