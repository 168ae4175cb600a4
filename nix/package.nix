# fprof as a package, with nixpkgs' buildDenoPackage: `deno compile` of
# main.ts into one binary, the npm dependencies of deno.lock fetched by a
# fixed-output derivation whose hash is `denoDepsHash`.
#
# When deno.lock changes, set denoDepsHash to lib.fakeHash, build once, and
# put in the hash Nix reports. fprof runs the `nix` it finds on PATH, as
# nix-env does, so Nix is not a dependency here.
{ lib, buildDenoPackage }:
let
  manifest = builtins.fromJSON (builtins.readFile ../deno.json);
in
buildDenoPackage {
  pname = "fprof";
  inherit (manifest) version;
  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [ ../deno.json ../deno.lock ../main.ts ../lib ../manifest ];
  };
  denoDepsHash = lib.fakeHash;
  binaryEntrypointPath = "main.ts";
  denoCompileFlags = [ "--allow-all" ];
  meta = {
    description = "Manage your Nix user profile declaratively from a flake";
    mainProgram = "fprof";
  };
}
