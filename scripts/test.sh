#!/usr/bin/env bash
# The README's test command: install what is missing, run the format, lint
# and type checks once, then every test (unit, CLI, and integration against
# the real Nix on isolated stores) once per Nix version.
#
#   FPROF_TEST_NIX=2.8|2.26|newest|all (default all; a comma list works too)
#
# Tests see every Nix at hand in FPROF_TEST_NIX_BINS (label=bin,…), and the
# remote-host tests need OpenSSH's server, which scripts/ensure-sshd.sh
# installs when it is missing.
#
# Each version is Debian's nix-bin of one suite, unpacked under .tools/nix/
# by scripts/install-nix.sh and put first on PATH for its run, so that fprof,
# the tests and the daemon sandboxes all use it. A version that cannot be
# installed fails the run: none is skipped silently.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PATH="$(bash "$here/scripts/ensure-tools.sh"):$PATH"
export PATH
cd "$here"

wanted=${FPROF_TEST_NIX:-all}
[ "$wanted" = all ] && wanted=2.8,2.26,newest
IFS=, read -r -a labels <<<"$wanted"
for label in "${labels[@]}"; do
  case "$label" in
    2.8 | 2.26 | newest) ;;
    *)
      echo "test: error: FPROF_TEST_NIX takes 2.8, 2.26, newest or all (got '$label')" >&2
      exit 2
      ;;
  esac
done

# Each run uses a copy of the cached Nix in a directory every user can
# reach: the daemon and single-user tests run Nix as an unprivileged user,
# who may not enter this checkout (a clone under a 0700 home, say).
log=$(mktemp)
copies=$(mktemp -d -p /tmp fprof-test-nix.XXXXXX)
chmod 755 "$copies"
trap 'rm -f "$log"; rm -rf "$copies"' EXIT
declare -A nix_bin
for label in "${labels[@]}"; do
  nix_bin[$label]=$(bash "$here/scripts/install-nix.sh" "$label" --copy-to "$copies/$label")
done
# A test may give a remote host another Nix than the one under test
# (tests/helpers/nix_version.ts otherTestNix()): every version at hand, the
# ones not under test too when they are already cached.
all_bins=""
for label in 2.8 2.26 newest; do
  if [ -z "${nix_bin[$label]:-}" ] && [ -x "$here/.tools/nix/$label/bin/nix" ]; then
    nix_bin[$label]=$(bash "$here/scripts/install-nix.sh" "$label" --copy-to "$copies/$label")
  fi
  [ -z "${nix_bin[$label]:-}" ] || all_bins="$all_bins${all_bins:+,}$label=${nix_bin[$label]}"
done
export FPROF_TEST_NIX_BINS=$all_bins

# The remote-host tests start their own sshd on loopback. Without root they
# are skipped, and say so; as root, a missing sshd that cannot be installed
# fails the run.
if ! bash "$here/scripts/ensure-sshd.sh"; then
  [ "$(id -u)" != 0 ] || exit 1
  echo "test: the remote-host tests will be skipped" >&2
fi

deno task check

total_passed=0 total_failed=0 total_skipped=0 status=0 lines=()
for label in "${labels[@]}"; do
  bin=${nix_bin[$label]}
  version=$("$bin/nix" --version | awk '{ print $NF }')
  echo "test: running the suite on Nix $version ($label)" >&2
  set +e
  PATH="$bin:$PATH" deno task test 2>&1 | tee "$log"
  code=${PIPESTATUS[0]}
  set -e
  # Deno's closing line is "ok | N passed | M failed (…)".
  summary=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -aE '^(ok|FAILED) \| [0-9]+ passed' | tail -n 1 || true)
  passed=$(sed -nE 's/.*\| ([0-9]+) passed.*/\1/p' <<<"$summary")
  failed=$(sed -nE 's/.*\| ([0-9]+) failed.*/\1/p' <<<"$summary")
  skipped=$(sed -nE 's/.*\| ([0-9]+) ignored.*/\1/p' <<<"$summary")
  passed=${passed:-0} failed=${failed:-0} skipped=${skipped:-0}
  # A run that died before its summary failed, whatever it counted.
  if [ "$code" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi
  [ "$code" = 0 ] || status=1
  lines+=("nix $version: $passed passed, $failed failed, $skipped skipped")
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  total_skipped=$((total_skipped + skipped))
done
printf '%s\n' "${lines[@]}"
echo "tests: $total_passed passed, $total_failed failed, $total_skipped skipped"
exit "$status"
