{
  description = "fprof: manage your Nix user profile declaratively from a flake";

  # No inputs: everything here evaluates offline.
  outputs = { self }: {
    templates.default = {
      path = ./templates/default;
      description = "A user profile declared as a buildEnv, for `fprof switch`";
      welcomeText = ''
        Edit flake.nix, then run `fprof switch` in this directory.
      '';
    };
  };
}
