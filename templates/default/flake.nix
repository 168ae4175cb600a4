{
  # Your user profile, declared. `fprof switch` builds `packages.<system>.profile`
  # and makes it your profile's next generation; `fprof rollback` goes back.
  description = "My Nix user profile";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: {
        # Any buildEnv works; fprof adds the manifest that nix-env and
        # `nix profile` read, so `nix-env -q` keeps working.
        profile = pkgs.buildEnv {
          name = "profile";
          paths = with pkgs; [
            hello
            ripgrep
            jq
          ];
          # Link man pages and completions too, as nix-env does.
          extraOutputsToInstall = [ "man" ];
        };
      });
    };
}
