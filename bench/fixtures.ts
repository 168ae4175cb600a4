/**
 * The benchmark's fixture flakes: `count` packages copied into the store from
 * directories (no builds), exposed two ways in one flake so both sides of a
 * comparison evaluate the very same flake:
 *
 * - `packages.<system>.profile`: the environment fprof and the floor build;
 * - `packages.<system>.flakey`: the same environment with a `switch`
 *   attribute, a script that runs `nix-env --set` on it, the way
 *   flakey-profile's `mkProfile` does (`nix run .#flakey.switch`).
 *
 * @module
 */

import { join } from "node:path";
import { writeBigProfileFlake } from "../tests/helpers/fixtures.ts";

/**
 * Writes the fixture flake in `dir`. With `variant` > 0 the first package
 * prints something else, so the environment (and every generation made from
 * it) differs from variant 0's by one package of the same name.
 */
export async function writeBenchFlake(
  dir: string,
  count: number,
  system: string,
  variant = 0,
  /**
   * The evaluation's cost, as the length of a list folded before the
   * packages are: 4,000,000 costs about what importing nixpkgs does (1.5 s).
   */
  evalCost = 0,
): Promise<void> {
  await writeBigProfileFlake(dir, count, { system });
  if (variant > 0 && count > 0) await writeBenchVariant(dir, variant);
  await Deno.writeTextFile(
    join(dir, "flake.nix"),
    `{
  description = "fprof benchmark: a profile of ${count} packages";

  outputs = { self }:
    let
      system = ${JSON.stringify(system)};
      fixture = import ./fixture.nix { inherit system; };
      # What importing nixpkgs costs, paid before any package is known.
      cost = builtins.foldl' builtins.add 0 (builtins.genList (x: x) ${evalCost});
      packages = builtins.seq cost (builtins.genList
        (i:
          let name = "p\${toString (i + 1)}-1.0";
          in fixture.sourcePackage name (./pkgs + "/\${name}"))
        ${count});
      env = fixture.userEnv {
        name = "profile";
        paths = packages;
        writeManifest = builtins.toFile;
      };
    in
    {
      packages.\${system} = {
        profile = env;
        # flakey-profile's shape: the environment, plus a script that makes
        # it the profile's next generation.
        flakey = env // {
          switch = fixture.writeShellScriptBin "switch" ''
            exec nix-env --set \${env} "$@"
          '';
        };
      };
    };
}
`,
  );
}

/**
 * Makes the flake in `dir` (written by {@link writeBenchFlake}) build an
 * environment no earlier variant built: its first package prints another
 * line, so the flake's hash, the package and the environment all change.
 */
export async function writeBenchVariant(dir: string, variant: number): Promise<void> {
  await Deno.writeTextFile(
    join(dir, "pkgs", "p1-1.0", "bin", "p1"),
    `#!/bin/sh\necho "p1 1.0 (variant ${variant})"\n`,
    { mode: 0o755 },
  );
}
