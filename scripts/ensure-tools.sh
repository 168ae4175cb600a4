#!/usr/bin/env bash
# Installs what fprof's demo and tests need on a fresh Debian machine with
# Node: Deno from npm (into .tools/, pinned), and zsh and fish for the
# completion tests. Nix comes from scripts/install-nix.sh. Prints the PATH
# addition to use; idempotent.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
deno_version=2.9.6

# zsh and fish only serve the completion tests, which skip without them: a
# failed install is not an error.
if ! command -v zsh >/dev/null 2>&1 || ! command -v fish >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] || command -v sudo >/dev/null 2>&1; then
    echo "ensure-tools: installing zsh and fish for the completion tests" >&2
    sudo_cmd=""
    if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo -n"; fi
    { $sudo_cmd apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends zsh fish; } >&2 ||
      echo "ensure-tools: could not install zsh and fish; their completion tests will be skipped" >&2
  fi
fi

deno_bin="$here/.tools/node_modules/.bin/deno"
if ! "$deno_bin" --version 2>/dev/null | grep -q "^deno $deno_version "; then
  echo "ensure-tools: installing Deno $deno_version from npm" >&2
  mkdir -p "$here/.tools"
  npm install --silent --no-audit --no-fund --prefix "$here/.tools" "deno@$deno_version" >&2
fi
echo "$here/.tools/node_modules/.bin"
