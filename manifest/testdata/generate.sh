#!/bin/sh
# Regenerates the golden files that real Nix wrote (the *-2.8.* files in
# this directory), using the host's Nix in a throwaway store. The store
# directory is fixed so that the store paths come out the same every time.
#
#   sh manifest/testdata/generate.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=/tmp/fprof-fixtures
chmod -R u+w "$root" 2>/dev/null || true
rm -rf "$root"
mkdir -p "$root/conf" "$root/home" "$root/flake"
export NIX_STORE_DIR="$root/store" NIX_STATE_DIR="$root/state" \
  NIX_LOG_DIR="$root/log" NIX_CONF_DIR="$root/conf" HOME="$root/home" \
  XDG_CONFIG_HOME="$root/home/.config" XDG_CACHE_HOME="$root/home/.cache" \
  XDG_DATA_HOME="$root/home/.local/share" XDG_STATE_HOME="$root/home/.local/state"
echo '{"version":2,"flakes":[]}' >"$root/registry.json"
cat >"$root/conf/nix.conf" <<EOC
experimental-features = nix-command flakes
sandbox = false
substituters =
flake-registry = $root/registry.json
EOC

system=x86_64-linux
cat >"$root/flake/pkgs.nix" <<'EON'
{ system }:
let
  mk = { name, outputs ? [ "out" ], meta ? { } }:
    derivation {
      inherit name outputs system;
      builder = "/bin/sh";
      args = [ "-c" (builtins.concatStringsSep "; "
        (map (o: "/bin/mkdir -p \$${o}/bin; /bin/echo ${o} > \$${o}/bin/${name}-${o}") outputs)) ];
    } // { inherit meta; };
in {
  foo = mk {
    name = "foo-1.0";
    meta = {
      description = "A \"quoted\" \\ description\nwith a newline,\ta tab, \${x}, $y and $";
      priority = 7;
      license = { free = true; shortName = "mit"; };
      ratio = 1.5;
      "a b" = true;
      broken = null;
      homepage = ./pkgs.nix;
    };
  };
  bar = mk {
    name = "bar-baz-2.0.1";
    outputs = [ "out" "man" "dev" ];
    meta = { description = "Three outputs"; priority = "3"; };
  };
  nover = mk { name = "nover"; };
  tool = mk {
    name = "tool-3.1";
    outputs = [ "bin" "lib" ];
    meta = { description = "Default output is bin"; priority = 4; };
  };
}
EON
cat >"$root/flake/flake.nix" <<EON
{
  outputs = { self }: { packages.$system = import ./pkgs.nix { system = "$system"; }; };
}
EON

cd "$root"
nix-env -f "$root/flake/pkgs.nix" --arg system "\"$system\"" -p "$root/env" \
  -iA foo bar nover tool 2>/dev/null
cp "$root/env/manifest.nix" "$here/nix-env-2.8.manifest.nix"
chmod u+w "$here/nix-env-2.8.manifest.nix"
# Only packages whose meta fprof represents fully, to compare printing with.
nix-env -f "$root/flake/pkgs.nix" --arg system "\"$system\"" -p "$root/simple" \
  -iA tool nover 2>/dev/null
cp "$root/simple/manifest.nix" "$here/nix-env-2.8.simple.manifest.nix"
chmod u+w "$here/nix-env-2.8.simple.manifest.nix"
# How nix-env itself reads that manifest, to check our reader against.
nix-env -p "$root/env" -q --json --out-path --meta >"$here/nix-env-2.8.query.json.golden"

nix profile install --profile "$root/profile" "path:$root/flake#foo" 2>/dev/null
nix profile install --profile "$root/profile" "path:$root/flake#bar" 2>/dev/null
cp "$root/profile/manifest.json" "$here/nix-profile-2.8.manifest.json.golden"
chmod u+w "$here/nix-profile-2.8.manifest.json.golden"
nix profile list --profile "$root/profile" >"$here/nix-profile-2.8.list.txt"

chmod -R u+w "$root"
rm -rf "$root"
