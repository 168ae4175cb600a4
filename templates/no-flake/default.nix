# Your user profile, declared without flakes.
#
#   fprof switch "$(nix-build --no-out-link -A profile)"
#   fprof list
#   fprof rollback
#
# Without fprof, through plain Nix:
#
#   "$(nix-build --no-out-link -A profile.switch)/bin/switch"    # also .rollback, .list, .pin
#
# nixpkgs is pinned by hash, so the profile only changes when you change it.
# To move it, put a newer commit in `rev` and set `sha256` to what
# `nix-prefetch-url --unpack https://github.com/NixOS/nixpkgs/archive/<rev>.tar.gz`
# prints (or to "" once: Nix then fails and names the right hash).
let
  rev = "6a489c9482ca676ce23c0bcd7f2e1795383325fa";
  sha256 = "0vsvkhy3gb8yzq62vazhmpqixssmd4xinnll7w73l4vrqd611wlf";
in
{
  pkgs ? import
    (builtins.fetchTarball {
      # Named "source", as flake inputs are, so `.pin` can put it in the registry.
      name = "source";
      url = "https://github.com/NixOS/nixpkgs/archive/${rev}.tar.gz";
      inherit sha256;
    })
    { }
, # fprof's Nix library (mkProfile), a copy beside this file.
  fprof ? import ./fprof.nix
}:
{
  profile = fprof.mkProfile {
    inherit pkgs;
    name = "profile";
    # A list works too; an attrset also keeps each package's attribute name,
    # which a profile with a manifest.json records for `nix profile upgrade`.
    paths = { inherit (pkgs) hello jq ripgrep; };
    pinned = { nixpkgs = pkgs.path; };
  };
}
