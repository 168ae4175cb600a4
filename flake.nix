{
  description = "fprof: manage your Nix user profile declaratively from a flake";

  # nixpkgs (a nixos-25.11 commit, pinned by flake.lock) is used only by
  # `packages`, `apps` and `checks`. A locked input is fetched when first
  # used, so `lib` and `templates` evaluate offline; a
  # profile flake that takes fprof as an input should add
  # `inputs.fprof.inputs.nixpkgs.follows = "nixpkgs";` so that only one
  # nixpkgs is locked and fetched.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
      forAllSystems = f: builtins.listToAttrs (map (system: { name = system; value = f system; }) systems);
    in
    {
      # `fprof.lib.mkProfile { pkgs; paths = [ … ]; }`: see nix/lib.nix.
      lib = import ./nix/lib.nix;

      templates = {
        default = {
          path = ./templates/default;
          description = "A user profile per machine, declared with fprof.lib.mkProfile";
          welcomeText = ''
            Edit flake.nix (the shared list and one entry per machine), then run
            `fprof switch` here; without fprof, `nix run .#profile.switch`.
          '';
        };
        no-flake = {
          path = ./templates/no-flake;
          description = "A user profile without flakes: default.nix with nixpkgs pinned by hash";
          welcomeText = ''
            Edit default.nix, then run `fprof switch "$(nix-build --no-out-link -A profile)"`;
            without fprof, `$(nix-build --no-out-link -A profile.switch)/bin/switch`.
          '';
        };
      };

      # fprof itself. Built with nixpkgs' buildDenoPackage, which fetches the
      # npm dependencies of deno.lock into a fixed-output derivation.
      packages = forAllSystems (system: {
        default = nixpkgs.legacyPackages.${system}.callPackage ./nix/package.nix { };
      });

      apps = forAllSystems (system: {
        default = {
          type = "app";
          program = "${self.packages.${system}.default}/bin/fprof";
        };
      });

      # Each template, evaluated against this flake's nixpkgs and library:
      # the environments must evaluate to derivations with `passthru.fprof`.
      checks = forAllSystems (system:
        let
          pkgs = nixpkgs.legacyPackages.${system};
          flakeTemplate = (import ./templates/default/flake.nix).outputs {
            self = flakeTemplate;
            inherit nixpkgs;
          };
          noFlake = import ./templates/no-flake/default.nix { inherit pkgs; fprof = self.lib; };
          # Evaluates the environment's derivation and record, but builds
          # none of its packages.
          checkProfile = name: env:
            assert env.fprof.schema == 1;
            pkgs.writeText "template-${name}" (builtins.unsafeDiscardStringContext
              (builtins.toJSON { inherit (env) drvPath; packages = map (p: p.name) env.fprof.packages; }));
        in
        builtins.mapAttrs checkProfile
          (flakeTemplate.legacyPackages.${system}.profiles // {
            default = flakeTemplate.legacyPackages.${system}.profile;
            no-flake = noFlake.profile;
          }));
    };
}
