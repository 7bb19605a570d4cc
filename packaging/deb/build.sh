#!/usr/bin/env bash
# `npm run package:deb`: the Debian package of sockpitd, the `sockpit` CLI and the web panel it serves, with the Node
# runtime this machine builds with (Debian 12's nodejs is 18; sockpit needs 20). Plain dpkg-deb, no debhelper.
# Run after `npm run build`. Writes dist/deb/sockpit_<version>_amd64.deb and prints its path.
# (The Electron app's own package is electron-builder's: electron-builder.yml.)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
version=$(node -p 'require("./package.json").version')
stage=$(mktemp -d /var/tmp/sockpit-deb.XXXXXX)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
lib=$root/usr/lib/sockpit

# the program, laid out as in the repository (service/src/paths.ts finds its files from package.json)
install -d "$lib/bin" "$lib/node/bin" "$lib/native/build/Release" "$lib/service/src/packages" "$lib/dist"
install -m 0644 package.json "$lib/"
install -m 0755 bin/sockpit.js "$lib/bin/"
cp -a dist/api dist/service dist/native dist/main dist/renderer "$lib/dist/"
find "$lib/dist" -name '*.map' -delete
install -m 0644 native/build/Release/sockpit_native.node "$lib/native/build/Release/"
cp -a service/runtime "$lib/service/"
install -m 0644 service/src/packages/pep508.py "$lib/service/src/packages/"
# production dependencies only, as the lock file resolved them (top-level folders carry their nested ones)
npm ls --omit=dev --all --parseable 2>/dev/null | sed -n "s|^$repo/node_modules/|node_modules/|p" |
  awk -F/ '{ print ($2 ~ /^@/) ? $1"/"$2"/"$3 : $1"/"$2 }' | sort -u |
  while read -r dep; do mkdir -p "$lib/$(dirname "$dep")" && cp -a "$dep" "$lib/$dep"; done
install -m 0755 "$(command -v node)" "$lib/node/bin/node"

install -d "$root/usr/bin"
cat > "$root/usr/bin/sockpit" <<'SH'
#!/bin/sh
# sockpit's CLI (and `sockpit daemon`, the service), on the Node runtime shipped with it
exec /usr/lib/sockpit/node/bin/node /usr/lib/sockpit/bin/sockpit.js "$@"
SH
chmod 0755 "$root/usr/bin/sockpit"

install -D -m 0644 packaging/systemd/sockpitd.service "$root/lib/systemd/system/sockpitd.service"
install -D -m 0644 packaging/systemd/sockpit.sysusers "$root/usr/lib/sysusers.d/sockpit.conf"
install -D -m 0644 packaging/systemd/sockpit.tmpfiles "$root/usr/lib/tmpfiles.d/sockpit.conf"
install -D -m 0644 packaging/deb/sockpitd.yaml "$root/etc/sockpit/sockpitd.yaml"
install -D -m 0644 README.md "$root/usr/share/doc/sockpit/README.md"
install -D -m 0644 packaging/deb/copyright "$root/usr/share/doc/sockpit/copyright"

install -d "$root/DEBIAN"
for script in postinst prerm postrm; do install -m 0755 "packaging/deb/$script" "$root/DEBIAN/$script"; done
echo /etc/sockpit/sockpitd.yaml > "$root/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@SIZE@/$size/" packaging/deb/control > "$root/DEBIAN/control"

mkdir -p dist/deb
out="dist/deb/sockpit_${version}_amd64.deb"
dpkg-deb --root-owner-group -Zxz -z1 --build "$root" "$out" >/dev/null
echo "$repo/$out"
