#!/usr/bin/env bash
# The README's test command: install what is missing, then run every test
# (unit, CLI, and integration against the real Nix on isolated stores), and
# the format, lint and type checks.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PATH="$(bash "$here/scripts/ensure-tools.sh"):$PATH"
export PATH
cd "$here"
deno task check
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
deno task test 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# Deno's closing line is "ok | N passed | M failed (…)": restate it plainly.
summary=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -aE '^(ok|FAILED) \| [0-9]+ passed' | tail -n 1 || true)
passed=$(sed -nE 's/.*\| ([0-9]+) passed.*/\1/p' <<<"$summary")
failed=$(sed -nE 's/.*\| ([0-9]+) failed.*/\1/p' <<<"$summary")
ignored=$(sed -nE 's/.*\| ([0-9]+) ignored.*/\1/p' <<<"$summary")
echo "tests: ${passed:-0} passed, ${failed:-0} failed, ${ignored:-0} skipped"
exit "$status"
