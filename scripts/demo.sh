#!/usr/bin/env bash
# The README's demo: a real `fprof switch`, `list` and `rollback` on a
# throwaway Nix store, with a small offline flake (no nixpkgs needed).
# Nothing outside a temporary directory is touched.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PATH="$(bash "$here/scripts/ensure-tools.sh"):$PATH"
# The Nix on PATH, or else the newest from Debian's archive, unpacked under
# .tools/ (FPROF_DEMO_NIX=2.8|2.26|newest picks one).
if [ -n "${FPROF_DEMO_NIX:-}" ] || ! command -v nix >/dev/null 2>&1; then
  PATH="$(bash "$here/scripts/install-nix.sh" "${FPROF_DEMO_NIX:-newest}"):$PATH"
fi
export PATH

demo=$(mktemp -d)
cleanup() { chmod -R u+w "$demo" 2>/dev/null || true; rm -rf "$demo"; }
trap cleanup EXIT

# Deno keeps its module cache where it was, not in the throwaway home.
export DENO_DIR=${DENO_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/deno}
# An isolated Nix: its own store, state, config and home.
export NIX_STORE_DIR=$demo/nix/store NIX_STATE_DIR=$demo/nix/var NIX_LOG_DIR=$demo/nix/log
export NIX_CONF_DIR=$demo/etc HOME=$demo/home XDG_CONFIG_HOME=$demo/home/.config
export XDG_STATE_HOME=$demo/home/.local/state XDG_CACHE_HOME=$demo/home/.cache XDG_DATA_HOME=$demo/home/.local/share
unset NIX_REMOTE NIX_PATH
mkdir -p "$NIX_CONF_DIR" "$HOME" "$NIX_STATE_DIR/profiles/per-user/$(id -un)"
echo '{"version":2,"flakes":[]}' >"$demo/registry.json"
cat >"$NIX_CONF_DIR/nix.conf" <<CONF
experimental-features = nix-command flakes
sandbox = false
substituters =
flake-registry = $demo/registry.json
warn-dirty = false
build-users-group =
CONF
# An unpacked Nix 2.8 (scripts/install-nix.sh) starts its build hook from the
# compiled-in /usr/libexec/nix/build-remote unless told where its own is.
nix_real=$(readlink -f "$(command -v nix)")
case "$nix_real" in
  */usr/bin/nix) [ ! -e "${nix_real%/bin/nix}/libexec/nix/build-remote" ] ||
    echo "build-hook = ${nix_real%/bin/nix}/libexec/nix/build-remote" >>"$NIX_CONF_DIR/nix.conf" ;;
esac

# A profile flake with two tiny packages, built with the host's /bin/sh.
mkdir -p "$demo/profile"
write_flake() {
  cat >"$demo/profile/flake.nix" <<NIX
{
  outputs = { self }: let
    system = "$(nix --extra-experimental-features nix-command eval --impure --raw --expr builtins.currentSystem)";
    tool = name: version: derivation {
      inherit system; name = "\${name}-\${version}"; builder = "/bin/sh";
      args = [ "-c" "/bin/mkdir -p \$out/bin; printf '#!/bin/sh\\\\necho %s %s\\\\n' \${name} \${version} > \$out/bin/\${name}; /bin/chmod +x \$out/bin/\${name}" ];
    };
    env = paths: derivation {
      inherit system; name = "profile"; builder = "/bin/sh"; inherit paths;
      args = [ "-c" "/bin/mkdir -p \$out/bin; for p in \$paths; do /bin/ln -s \$p/bin/* \$out/bin/; done" ];
    };
  in { packages.\${system}.profile = env [ $1 ]; };
}
NIX
}
fprof() { echo "\$ fprof $*" >&2; deno run -A --quiet "$here/main.ts" "$@"; }

write_flake '(tool "hello" "2.12") (tool "cowsay" "3.7")'
fprof switch "$demo/profile"
fprof list
echo "\$ nix-env -q" >&2; nix-env -q
echo "\$ hello" >&2; "$HOME/.nix-profile/bin/hello"

write_flake '(tool "hello" "2.13") (tool "ripgrep" "14.1")'
fprof switch "$demo/profile"
fprof list
fprof generations
fprof rollback
fprof list
