{
  # Your user profile, declared: one shared list of packages, and a profile per
  # machine that adds to it.
  #
  #   fprof switch                 # builds legacyPackages.<system>.profiles.<hostname>,
  #                                # else legacyPackages.<system>.profile, and makes it
  #                                # your profile's next generation
  #   fprof list --group           # what the profile holds, by group
  #   fprof rollback               # back to the generation you came from
  #
  # Without fprof, the same profile through plain Nix:
  #
  #   nix run .#profile.switch     # or .#profiles.laptop.switch; also .rollback, .list, .pin
  description = "My Nix user profile";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      # fprof's Nix library (mkProfile), a copy beside this file: it needs only
      # builtins and pkgs, so the profile has no input but nixpkgs.
      fprof.lib = import ./fprof.nix;
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      legacyPackages = forAllSystems (pkgs:
        let
          # On every machine. A list works too; an attrset also keeps each
          # package's attribute name, which a profile with a manifest.json
          # (`fprof switch --manifest=json`) records for `nix profile upgrade`.
          shared = { inherit (pkgs) hello jq; };

          # A profile made of the shared list plus `groups`; each group is
          # shown on its own by `fprof list --group`.
          machine = groups: fprof.lib.mkProfile {
            inherit pkgs;
            name = "profile";
            paths = shared;
            inherit groups;
            # Pinned in your flake registry and NIX_PATH by `.pin`, so that
            # `nix run nixpkgs#hello` uses the same nixpkgs as this profile.
            pinned = { inherit nixpkgs; };
            # Anything else goes to pkgs.buildEnv, as with flakey-profile:
            extraOutputsToInstall = [ "man" ];
          };
        in
        rec {
          # One entry per machine, by hostname: `fprof switch` picks the one
          # named like the machine it runs on.
          profiles = {
            laptop = machine {
              cli = { inherit (pkgs) ripgrep; };
            };
            desktop = machine {
              cli = { inherit (pkgs) ripgrep; };
              gui = { inherit (pkgs) xterm; };
            };
          };
          # Every other machine gets the shared list.
          profile = machine { };
        });
    };
}
