# Stand-ins for the few parts of nixpkgs that fprof's tests need: packages,
# buildEnv, nix-env's user environment and lib.genAttrs. fixtures.ts copies
# this file into every fixture flake. Builders use only the host's /bin/sh and
# /bin tools, so fixtures evaluate and build offline and without nixpkgs.
{ system }:
let
  inherit (builtins)
    attrNames concatMap concatStringsSep elem elemAt filter foldl' genList
    getAttr isAttrs isList isString length listToAttrs sort toJSON toString;

  # nixpkgs' lib.meta.defaultPriority: what buildEnv and nix-env assume.
  defaultPriority = 5;

  unique = foldl' (seen: x: if elem x seen then seen else seen ++ [ x ]) [ ];

  # Makes each output, one script per `bins` entry that prints the label, and
  # the `files`, whose names and contents arrive as fileNames and file<i>
  # (environment variables need no shell quoting).
  packageScript = ''
    set -e
    for o in $outputs; do
      eval "dir=\$$o"
      /bin/mkdir -p "$dir"
      if [ "$o" = man ]; then
        /bin/mkdir -p "$dir/share/man/man1"
        printf '.TH %s 1\n%s\n' "$pname" "$label" > "$dir/share/man/man1/$pname.1"
      elif [ "$o" != out ]; then
        /bin/mkdir -p "$dir/share/$o"
        printf '%s %s\n' "$label" "$o" > "$dir/share/$o/$pname"
      fi
    done
    if [ -n "$bins" ]; then
      /bin/mkdir -p "$out/bin"
      for b in $bins; do
        printf '#!/bin/sh\necho "%s"\n' "$label" > "$out/bin/$b"
        /bin/chmod +x "$out/bin/$b"
      done
    fi
    i=0
    for f in $fileNames; do
      eval "content=\$file$i"
      case "$f" in */*) /bin/mkdir -p "$out/''${f%/*}" ;; esac
      printf '%s' "$content" > "$out/$f"
      case "$f" in bin/*) /bin/chmod +x "$out/$f" ;; esac
      i=$((i + 1))
    done
  '';

  failScript = ''
    echo "fixture: $name fails to build on purpose" >&2
    exit 1
  '';

  # Links every file of every package into $out, making directories real
  # directories, as nixpkgs' buildEnv does. $links is "PRIORITY DIR ..."
  # sorted by priority, so the first link of a file has the best (lowest)
  # priority; a second one with the same priority is a collision.
  envScript = ''
    set -e
    /bin/mkdir -p "$out"
    linkFile() {
      if [ -L "$out$2" ] || [ -e "$out$2" ]; then
        if [ -d "$out$2" ] && [ ! -L "$out$2" ]; then
          echo "collision between \`$1' and directory \`$out$2'" >&2
          exit 1
        fi
        old=$(/bin/readlink "$out$2")
        if [ "$old" = "$1" ]; then return 0; fi
        case "$samePriority" in
          *" $2 "*)
            if [ -n "$ignoreCollisions" ]; then return 0; fi
            echo "collision between \`$1' and \`$old'" >&2
            exit 1
            ;;
        esac
        return 0
      fi
      /bin/ln -s "$1" "$out$2"
      samePriority="$samePriority$2 "
    }
    linkTree() {
      local entry rel
      for entry in "$1"/*; do
        if [ ! -e "$entry" ] && [ ! -L "$entry" ]; then continue; fi
        rel="$2/''${entry##*/}"
        if [ -d "$entry" ] && [ ! -L "$entry" ]; then
          /bin/mkdir -p "$out$rel"
          linkTree "$entry" "$rel"
        else
          linkFile "$entry" "$rel"
        fi
      done
    }
    set -- $links
    priority=
    while [ $# -gt 0 ]; do
      if [ "$1" != "$priority" ]; then
        priority=$1
        samePriority=" "
      fi
      linkTree "$2" ""
      shift 2
    done
  '';

  # The outputs of `p` an environment links: meta.outputsToInstall plus the
  # extra ones asked for, as nixpkgs' buildEnv does. A plain path is one output.
  dirsOf = extraOutputs: p:
    if isAttrs p then
      map (o: (getAttr o p).outPath)
        (filter (o: elem o (p.outputs or [ "out" ]))
          (unique ((p.meta.outputsToInstall or [ "out" ]) ++ extraOutputs)))
    else [ p ];

  priorityOf = p: if isAttrs p then p.meta.priority or defaultPriority else defaultPriority;

  # Nix syntax for a value, for manifest.nix (keys come sorted from attrNames,
  # as nix-env prints them). Strings go through JSON, whose escapes Nix shares
  # except for "${", which must not start an interpolation.
  toNix = v:
    if isString v then builtins.replaceStrings [ "\${" ] [ "\\\${" ] (toJSON v)
    else if isList v then "[ " + concatStringsSep " " (map toNix v) + " ]"
    else if isAttrs v then
      "{ " + concatStringsSep " " (map (k: "${k} = ${toNix (getAttr k v)};") (attrNames v)) + " }"
    else if v == true then "true"
    else if v == false then "false"
    else toString v;

  # One manifest.nix element, in the shape nix-env writes.
  manifestEntry = p:
    let outputs = filter (o: elem o (p.outputs or [ "out" ])) (p.meta.outputsToInstall or [ "out" ]);
    in {
      inherit (p) name outPath;
      inherit outputs system;
      meta = p.meta or { };
      type = "derivation";
    } // listToAttrs (map (o: { name = o; value = { outPath = (getAttr o p).outPath; }; }) outputs);

  # A text file in the store. A derivation, because builtins.toFile refuses
  # text that refers to derivation outputs; passAsFile, because an
  # environment variable is limited to 128 KiB.
  writeText = name: text: derivation {
    inherit name system text;
    passAsFile = [ "text" ];
    builder = "/bin/sh";
    args = [ "-c" "/bin/cp \"$textPath\" \"$out\"" ];
    preferLocalBuild = true;
    allowSubstitutes = false;
  };
in
rec {
  # A package from a FixturePackage spec (see fixtures.ts).
  mkPackage = spec:
    let
      version = spec.version or "";
      outputs = spec.outputs or [ "out" ];
      files = spec.files or { };
      fileNames = attrNames files;
      hasOutput = o: elem o outputs;
      drv = derivation ({
        name = if version == "" then spec.name else "${spec.name}-${version}";
        pname = spec.name;
        inherit system outputs version fileNames;
        label = if version == "" then spec.name else "${spec.name} ${version}";
        bins = spec.bins or [ ];
        builder = "/bin/sh";
        args = [ "-c" (if spec.fail or false then failScript else packageScript) ];
      } // listToAttrs (genList
        (i: { name = "file${toString i}"; value = getAttr (elemAt fileNames i) files; })
        (length fileNames)));
    in
    # `derivation` cannot pass an attrset to the builder, so meta is added
    # afterwards, as nixpkgs does. outputsToInstall follows stdenv: the first
    # of bin/out, plus man.
    drv // {
      meta = {
        outputsToInstall =
          [ (if hasOutput "bin" then "bin" else "out") ]
          ++ (if hasOutput "man" then [ "man" ] else [ ]);
      }
      // (if spec ? description then { inherit (spec) description; } else { })
      // (if spec ? priority then { inherit (spec) priority; } else { });
    };

  # Packages by name, as nixpkgs exposes them.
  byName = pkgs: listToAttrs (map (p: { name = p.pname; value = p; }) pkgs);

  # nixpkgs' buildEnv, with its common arguments: symlinks, no manifest.
  buildEnv =
    { name, paths, extraOutputsToInstall ? [ ], ignoreCollisions ? false, meta ? { }, passthru ? { }, ... }:
    let sorted = sort (a: b: priorityOf a < priorityOf b) paths;
    in derivation {
      inherit name system;
      builder = "/bin/sh";
      args = [ "-c" envScript ];
      links = concatMap (p: concatMap (d: [ (toString (priorityOf p)) d ]) (dirsOf extraOutputsToInstall p)) sorted;
      ignoreCollisions = if ignoreCollisions then "1" else "";
      preferLocalBuild = true;
      allowSubstitutes = false;
    } // passthru // { inherit meta paths; };

  # The environment nix-env builds (nix/buildenv.nix in Nix): builtin:buildenv
  # with a manifest.nix listing the packages. `writeManifest` may be
  # builtins.toFile when no package is a derivation output, saving a build.
  userEnv = { name, paths, writeManifest ? writeText }:
    derivation {
      inherit name;
      system = "builtin";
      builder = "builtin:buildenv";
      manifest = writeManifest "env-manifest.nix" ("[ " + concatStringsSep " " (map (p: toNix (manifestEntry p)) paths) + " ]");
      derivations = concatMap
        (p: let dirs = dirsOf [ ] p; in [ "true" (toString (priorityOf p)) (toString (length dirs)) ] ++ dirs)
        paths;
      preferLocalBuild = true;
      allowSubstitutes = false;
    } // { inherit paths; };

  # A package that is a directory copied into the store, not built: cheap
  # enough to have thousands.
  sourcePackage = name: dir: {
    inherit name;
    outPath = "${dir}";
    outputs = [ "out" ];
    out = { outPath = "${dir}"; };
    meta = { };
  };

  inherit writeText;

  # nixpkgs' writeShellScriptBin: $out/bin/<name> running `text` (with the
  # host's /bin/sh, where nixpkgs uses its bash).
  writeShellScriptBin = name: text: derivation {
    inherit name system text;
    passAsFile = [ "text" ];
    builder = "/bin/sh";
    args = [ "-c" ''
      /bin/mkdir -p "$out/bin"
      { echo '#!/bin/sh'; /bin/cat "$textPath"; } > "$out/bin/${name}"
      /bin/chmod +x "$out/bin/${name}"
    '' ];
    preferLocalBuild = true;
    allowSubstitutes = false;
  } // { meta.mainProgram = name; };

  # nixpkgs' linkFarm, for a list of { name, path }: $out/<name> -> path.
  linkFarm = name: entries: derivation {
    inherit name system;
    names = map (e: e.name) entries;
    targets = map (e: "${e.path}") entries;
    builder = "/bin/sh";
    args = [ "-c" ''
      set -e
      /bin/mkdir -p "$out"
      set -- $targets
      for n in $names; do /bin/ln -s "$1" "$out/$n"; shift; done
    '' ];
    preferLocalBuild = true;
    allowSubstitutes = false;
  };

  broken = throw "fixture: broken on purpose";

  failing = mkPackage { name = "failing"; version = "1.0"; fail = true; };

  lib.genAttrs = names: f: listToAttrs (map (n: { name = n; value = f n; }) names);
}
