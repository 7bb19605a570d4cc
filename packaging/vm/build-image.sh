#!/usr/bin/env bash
# Builds the Debian 12 guest scripts/vm.sh boots: systemd as PID 1 on a pure cgroup v2 hierarchy, Debian's 6.1
# kernel, and a unit that runs the job the host put in a shared folder, then powers off. Only Debian packages and
# no loop device: mmdebstrap into a folder, `mkfs.ext4 -d` into a raw image.
#   build-image.sh OUT_DIR    writes OUT_DIR/{root.img,vmlinuz,initrd.img}
set -euo pipefail
out=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /var/tmp/sockpit-vm-build.XXXXXX)
trap 'rm -rf "$work"' EXIT

# What the guest needs to boot, and what sockpit's .deb depends on, so `apt install ./sockpit_*.deb` in the guest
# resolves without a network (the guest has none).
packages=(
  systemd systemd-sysv udev dbus kmod linux-image-amd64 initramfs-tools
  python3 python3-pip util-linux procps iproute2 slirp4netns nftables
)
mirror="http://deb.debian.org/debian"

mmdebstrap --variant=minbase --quiet \
  --aptopt='Acquire::Check-Valid-Until "false"' \
  --include="$(IFS=,; echo "${packages[*]}")" \
  --setup-hook='mkdir -p "$1/etc/initramfs-tools/conf.d"' \
  --setup-hook='printf "MODULES=list\n" > "$1/etc/initramfs-tools/conf.d/sockpit-vm"' \
  --setup-hook='printf "virtio_pci\nvirtio_blk\next4\n9p\n9pnet_virtio\n" > "$1/etc/initramfs-tools/modules"' \
  --customize-hook="cp '$here/guest/vm-job' \"\$1/usr/local/sbin/vm-job\" && chmod 0755 \"\$1/usr/local/sbin/vm-job\"" \
  --customize-hook="cp '$here/guest/vm-job.service' \"\$1/etc/systemd/system/vm-job.service\"" \
  --customize-hook='chroot "$1" systemctl enable vm-job.service' \
  --customize-hook='chroot "$1" systemctl mask getty@tty1.service serial-getty@ttyS0.service serial-getty@ttyS1.service systemd-timesyncd.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer man-db.timer 2>/dev/null || true' \
  --customize-hook='echo sockpit-vm > "$1/etc/hostname"' \
  --customize-hook='printf "/dev/vda / ext4 rw,relatime 0 1\n" > "$1/etc/fstab"' \
  --customize-hook='passwd --root "$1" -d root' \
  bookworm "$work/root" \
  "deb $mirror bookworm main" "deb $mirror bookworm-updates main" "deb http://deb.debian.org/debian-security bookworm-security main"

mkdir -p "$out"
cp "$(ls "$work"/root/boot/vmlinuz-* | sort | tail -1)" "$work/vmlinuz"
cp "$(ls "$work"/root/boot/initrd.img-* | sort | tail -1)" "$work/initrd.img"
mkfs.ext4 -q -F -L sockpit-vm -d "$work/root" "$work/root.img" 6G
mv "$work/vmlinuz" "$work/initrd.img" "$work/root.img" "$out/"
