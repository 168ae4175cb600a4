# fprof's Nix library. It uses only builtins and the `pkgs` it is given, so it
# evaluates without nixpkgs of its own: the flake exposes it as `lib`, and
# people without flakes can `import ./nix/lib.nix`.
let
  inherit (builtins)
    attrNames concatLists concatStringsSep elem filter getAttr hasAttr isAttrs isList
    isString listToAttrs map mapAttrs parseDrvName storeDir substring stringLength toJSON;

  # nixpkgs' lib.meta.defaultPriority: what buildEnv and nix-env assume.
  defaultPriority = 5;

  isStorePath = s:
    let p = toString s;
    in substring 0 (stringLength storeDir + 1) p == "${storeDir}/";

  # Quotes a word for the shell scripts below.
  shellQuote = s: "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] (toString s) + "'";

  # `paths` as a list of { attrName?, group?, drv }: an attrset keeps its names.
  entriesOf = group: paths:
    if isList paths then map (drv: { inherit drv group; }) paths
    else if isAttrs paths && !(paths ? outPath) then
      map (n: { attrName = n; inherit group; drv = getAttr n paths; }) (attrNames paths)
    else
      throw ''
        fprof.lib.mkProfile: `paths` (or a group) must be a list of packages or an attrset of
        packages, such as `paths = [ pkgs.hello ];` or `paths = { inherit (pkgs) hello; };`.
        A single package needs brackets: `paths = [ pkgs.hello ];`.
      '';

  # The outputs of `drv` a buildEnv links: meta.outputsToInstall (default: the
  # first output) plus the extra ones asked for, when the package has them.
  installedOutputs = extra: drv:
    let
      all = drv.outputs or [ "out" ];
      wanted = (drv.meta.outputsToInstall or [ (builtins.head all) ]) ++ extra;
    in
    filter (o: elem o wanted) all;

  # The record of one declared package that `fprof switch` reads.
  packageRecord = extra: e:
    let
      drv = e.drv;
      parsed = parseDrvName (drv.name or "");
      outputs = if isAttrs drv then installedOutputs extra drv else [ "out" ];
    in
    {
      name = drv.name or (baseNameOf (toString drv));
      pname = drv.pname or parsed.name;
      version = drv.version or parsed.version;
      inherit outputs;
      outPaths = listToAttrs (map
        (o: { name = o; value = if isAttrs drv then (getAttr o drv).outPath else toString drv; })
        outputs);
      priority = if isAttrs drv then drv.meta.priority or defaultPriority else defaultPriority;
      description = if isAttrs drv then drv.meta.description or null else null;
    }
    // (if e ? attrName then { attrPath = e.attrName; } else { })
    // (if e.group != null then { inherit (e) group; } else { });
in
{
  /**
    Declares a user profile: a `pkgs.buildEnv` of `paths` (and `groups`), with
    runnable `.switch`, `.rollback`, `.list` and `.pin` for people without
    fprof, and `passthru.fprof`, the record `fprof switch` reads.

    It is called like flakey-profile's `mkProfile`; every argument not named
    here goes to `pkgs.buildEnv` (`extraOutputsToInstall`, `pathsToLink`,
    `postBuild`, …).
  */
  mkProfile =
    args@{
      # The package set that provides buildEnv, writeShellScriptBin and
      # linkFarm: `nixpkgs.legacyPackages.${system}`.
      pkgs
    , # The packages: a list (`[ pkgs.hello ]`) or an attrset
      # (`{ inherit (pkgs) hello; }`), whose names fprof records as attr paths.
      paths ? [ ]
    , # Named lists of packages, like `paths`: `{ cli = [ … ]; gui = [ … ]; }`.
      # `fprof list --group` shows the profile grouped by them.
      groups ? { }
    , # The store path name of the environment.
      name ? "flake-profile"
    , # Flakes to pin in the user's registry and NIX_PATH with `.pin`:
      # `{ inherit nixpkgs; }` (flake inputs, or other `…-source` store paths).
      pinned ? { }
    , # Extra arguments of `nix-env` in `.switch` and `.rollback`, such as
      # `[ "--profile" "/nix/var/nix/profiles/per-user/alice/work" ]`.
      extraSwitchArgs ? [ ]
    , ...
    }:
    assert isAttrs groups || throw ''
      fprof.lib.mkProfile: `groups` must be an attrset of lists, such as
      `groups = { cli = [ pkgs.ripgrep ]; gui = [ pkgs.firefox ]; };`.
    '';
    assert isList extraSwitchArgs && builtins.all isString extraSwitchArgs || throw ''
      fprof.lib.mkProfile: `extraSwitchArgs` must be a list of strings, such as
      `[ "--profile" "/nix/var/nix/profiles/per-user/alice/work" ]`.
    '';
    let
      badPins = if isAttrs pinned then filter (n: !isStorePath (getAttr n pinned)) (attrNames pinned) else [ "pinned" ];
    in
    assert badPins == [ ] || throw ''
      fprof.lib.mkProfile: every value of `pinned` must be a flake input or another store path,
      such as `pinned = { inherit nixpkgs; };`. Not one: ${concatStringsSep ", " badPins}.
    '';
    let
      extra = args.extraOutputsToInstall or [ ];
      entries = entriesOf null paths
        ++ concatLists (map (g: entriesOf g (getAttr g groups)) (attrNames groups));
      record = {
        schema = 1;
        packages = map (packageRecord extra) entries;
      };
      buildEnvArgs = removeAttrs args [ "pkgs" "paths" "groups" "pinned" "extraSwitchArgs" ];
      env = pkgs.buildEnv (buildEnvArgs // {
        inherit name;
        paths = map (e: e.drv) entries;
        passthru = (args.passthru or { }) // { fprof = record; };
      });
      nixEnvArgs = concatStringsSep " " (map shellQuote extraSwitchArgs);
      pinNames = attrNames pinned;
    in
    env // {
      passthru = (env.passthru or { }) // { fprof = record; };
      fprof = record;

      # The packages given by name (`paths` or a group as an attrset), so that
      # `<this attribute>.packages.<name>` builds one of them: what
      # manifest.json's attrPath names, for `nix profile upgrade`.
      packages = listToAttrs
        (map (e: { name = e.attrName; value = e.drv; }) (filter (e: e ? attrName) entries));

      # `nix run .#profile.switch`: makes this environment the profile's next
      # generation with nix-env alone (no manifest, as flakey-profile does).
      switch = pkgs.writeShellScriptBin "switch" ''
        exec nix-env ${nixEnvArgs} --set ${env} "$@"
      '';

      # `nix run .#profile.rollback`: nix-env's rollback, to the next lower
      # generation number (`fprof rollback` follows parents instead).
      rollback = pkgs.writeShellScriptBin "rollback" ''
        exec nix-env ${nixEnvArgs} --rollback "$@"
      '';

      # `nix run .#profile.list`: the packages of the current generation, from
      # its manifest.nix when it has one, else from its store references.
      list = pkgs.writeShellScriptBin "list" ''
        profile="$HOME/.nix-profile"
        set -- ${nixEnvArgs} "$@"
        while [ $# -gt 0 ]; do
          case "$1" in
            --profile|-p) profile="$2"; shift 2 ;;
            *) shift ;;
          esac
        done
        if [ -e "$profile/manifest.nix" ]; then
          exec nix-env --profile "$profile" --query
        fi
        nix-store --query --references "$profile" | while read -r path; do
          base="''${path##*/}"
          echo "''${base#*-}"
        done | sort
      '';

      # `nix run .#profile.pin`: points the user's flake registry (nix run
      # nixpkgs#hello) and NIX_PATH channels (nix-shell -p hello) at the
      # `pinned` store paths. Undo with `nix registry remove NAME` and
      # `nix-env --profile …/channels --rollback`.
      pin = pkgs.writeShellScriptBin "pin" ''
        set -e
        ${concatStringsSep "\n" (map (n: ''
          nix --extra-experimental-features 'nix-command flakes' registry add ${shellQuote n} ${shellQuote "path:${toString (getAttr n pinned)}"}
          echo "pinned ${n} to ${toString (getAttr n pinned)} in the flake registry"
        '') pinNames)}
        channels="''${NIX_STATE_DIR:-/nix/var/nix}/profiles/per-user/$USER/channels"
        nix-env --profile "$channels" --set ${pkgs.linkFarm "channels" (map (n: { name = n; path = getAttr n pinned; }) pinNames)}
        if [ ! -e "$HOME/.nix-defexpr/channels" ]; then
          mkdir -p "$HOME/.nix-defexpr"
          ln -s "$channels" "$HOME/.nix-defexpr/channels"
        fi
        echo "pinned ${toString (builtins.length pinNames)} channel(s) in $channels"
      '';
    };
}
