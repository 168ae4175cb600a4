#!/usr/bin/env bash
# Makes sure OpenSSH's server is installed, for the remote-host tests
# (tests/helpers/remote_host.ts starts its own sshd per test host, on
# loopback, and stops it by PID). Installs Debian's openssh-server with apt
# only when /usr/sbin/sshd is missing and we are root; it starts no system
# sshd (the tests run their own). Prints nothing when all is well.
#
#   scripts/ensure-sshd.sh
#
# Without root, or without apt, it says why in one line and exits 1; the
# remote-host tests then report themselves as skipped.
set -euo pipefail

sshd=/usr/sbin/sshd
[ -x "$sshd" ] && exit 0

die() {
  echo "ensure-sshd: error: $*" >&2
  exit 1
}

[ "$(id -u)" = 0 ] || die "$sshd is missing and only root can install openssh-server"
command -v apt-get >/dev/null || die "$sshd is missing and there is no apt-get to install openssh-server"

log=$(mktemp)
# Debian's policy-rc.d: exit 101 forbids the package's scripts to start a
# system sshd, where an init system would let them. Only ours, only now.
policy=/usr/sbin/policy-rc.d
made_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  made_policy=1
fi
trap 'rm -f "$log"; [ -z "$made_policy" ] || rm -f "$policy"' EXIT
install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    openssh-server >>"$log" 2>&1
}
# A fresh machine may have no package lists yet: update only when needed.
if ! install; then
  apt-get update -qq >>"$log" 2>&1 && install ||
    die "cannot install openssh-server with apt: $(grep -E '^E:' "$log" | tail -n 1 || tail -n 1 "$log")"
fi
[ -x "$sshd" ] || die "openssh-server is installed but $sshd is missing"
