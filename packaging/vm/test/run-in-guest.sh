#!/bin/bash
# The job of `scripts/vm.sh test`, run as root in a fresh Debian 12 guest (systemd, pure cgroup v2, kernel 6.1):
# install the .deb as a user would, use the service as a member of the sockpit group, then run the v2 suite and the
# adversarial suite. The repository is at /src (read-only); the job folder (with the .deb) is the working directory.
set -euo pipefail
step() { printf '\n== %s\n' "$*"; }
# what the suites may take under software emulation, against the host's timeouts (harness.ts reads it)
export SOCKPIT_TEST_TIME_SCALE=${SOCKPIT_TEST_TIME_SCALE:-8}
node=/usr/lib/sockpit/node/bin/node
tsx=(/usr/lib/sockpit/node/bin/node /src/node_modules/tsx/dist/cli.mjs)

step "kernel $(uname -r); cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
step "apt install ./$(ls sockpit_*.deb)"
apt-get install -y -q --no-install-recommends "./$(ls sockpit_*.deb)" 2>&1 | grep -v -E '^(Reading|Building|Get:|Selecting)' || true
systemctl --no-pager --lines=5 status sockpitd
systemctl is-active --quiet sockpitd

step "a user in the sockpit group"
useradd --create-home --groups sockpit alice
su alice -c 'sockpit status'
su alice -c 'cp -r /src/examples/hello ~/hello && sockpit deploy ~/hello && sockpit run hello "{\"name\": \"guest\"}"'

# both suites run whatever the first one says; the job fails if either does
failed=""
step "v2 suite (packaging/vm/test/v2.test.ts) against the installed service"
"${tsx[@]}" --test --test-concurrency=1 /src/packaging/vm/test/v2.test.ts || failed="$failed v2"

step "adversarial suite (service/test/integration/adversarial.test.ts) on kernel $(uname -r)"
# it starts daemons of its own from the repository (each in a delegated scope: harness.ts)
systemctl stop sockpitd
"${tsx[@]}" --test --test-concurrency=1 /src/service/test/integration/adversarial.test.ts || failed="$failed adversarial"

if [ -n "$failed" ]; then step "failed:$failed"; exit 1; fi
step "passed: the package, the service, the v2 suite and the adversarial suite"
