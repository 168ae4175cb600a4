/**
 * Fixture flakes for integration tests: packages and profile environments
 * that evaluate and build offline, without nixpkgs, from the host's `/bin/sh`
 * and `/bin` tools. Each flake is a plain directory, meant to be used as a
 * `path:` flake, with three files:
 *
 * - `flake.nix`, which shows the flake's outputs;
 * - `fixture.nix`, the Nix library behind them (a copy of this directory's
 *   `fixture.nix`: `mkPackage`, `buildEnv`, `userEnv`, …);
 * - `packages.json`, the {@link FixturePackage} specs.
 *
 * A package `{ name: "hello", version: "2.12", bins: ["hello"] }` builds
 * `<store>/…-hello-2.12/bin/hello`, a script that prints `hello 2.12`.
 *
 * @module
 */

import { join } from "node:path";

/** One package of a fixture flake. */
export interface FixturePackage {
  /** The package name (`pname`), also its attribute name. */
  name: string;
  /** Appended to the store path name as `<name>-<version>`. */
  version?: string;
  /** Programs in `$out/bin`; each prints `<name> <version>`. */
  bins?: string[];
  /**
   * Output names; `out` must be one. A `man` output holds
   * `share/man/man1/<name>.1` and, as in nixpkgs, is installed by default;
   * any other output `o` holds `share/<o>/<name>`.
   */
  outputs?: string[];
  /** `meta.description`. */
  description?: string;
  /** `meta.priority`: the lower number wins a file both packages provide. */
  priority?: number;
  /** Make the build fail (exit 1 with a message) instead. */
  fail?: boolean;
  /**
   * Extra files of `$out`, by relative path; files under `bin/` are made
   * executable.
   */
  files?: Record<string, string>;
}

/** Where a profile flake puts its environment. */
export type ProfileAttr =
  | "packages.profile"
  | "legacyPackages.profile"
  | "packages.default";

/** Options of {@link writeProfileFlake}. */
export interface ProfileFlakeOptions {
  /** The Nix system to define outputs for, such as `"x86_64-linux"`. */
  system: string;
  /**
   * The environment's attribute, under `<first part>.<system>`;
   * `"packages.profile"` by default.
   */
  attr?: ProfileAttr;
  /**
   * How the environment is built:
   * - `"sh"` (default): like nixpkgs' `buildEnv`, a tree of symlinks with no
   *   manifest, whose references are the packages' outputs. Two packages
   *   with the same file and priority fail the build with
   *   `` collision between `…' and `…' ``.
   * - `"builtin"`: like `nix-env`'s user environment, `builtin:buildenv`
   *   with a `manifest.nix` (which is a reference too).
   */
  env?: "builtin" | "sh";
}

// Attribute names the flakes use for other things.
const PROFILE_RESERVED = new Set(["profile", "default", "broken", "failing"]);
const SET_RESERVED = new Set([
  "buildEnv",
  "writeShellScriptBin",
  "linkFarm",
  "writeText",
  "path",
  "broken",
  "failing",
]);

/**
 * Writes a flake that stands in for nixpkgs: `packages.<system>.<name>` and
 * `legacyPackages.<system>.<name>` for each package, plus
 * `legacyPackages.<system>.buildEnv` (nixpkgs' common arguments: `name`,
 * `paths`, `extraOutputsToInstall`, `ignoreCollisions`, `meta`, `passthru`),
 * `writeShellScriptBin NAME TEXT`, `linkFarm NAME [ { name; path; } ]`,
 * `writeText NAME TEXT`, `path` (the set's own source),
 * `legacyPackages.<system>.broken` (an evaluation error),
 * `legacyPackages.<system>.failing` (a build failure) and `lib.genAttrs`. A
 * profile flake written for nixpkgs can use it with
 * `--override-input nixpkgs path:<dir>`.
 *
 * @example
 * ```ts ignore
 * import { writePackageSet } from "./fixtures.ts";
 * await writePackageSet("/tmp/pkgs", [{ name: "hello", version: "2.12", bins: ["hello"] }], {
 *   system: "x86_64-linux",
 * });
 * // nix build path:/tmp/pkgs#hello
 * ```
 */
export async function writePackageSet(
  dir: string,
  pkgs: FixturePackage[],
  opts: { system: string },
): Promise<void> {
  checkPackages(pkgs, SET_RESERVED);
  const system = nixString(checkSystem(opts.system));
  await writeFlake(
    dir,
    pkgs,
    `{
  description = "fprof test fixture: a package set standing in for nixpkgs";

  outputs = { self }:
    let
      system = ${system};
      fixture = import ./fixture.nix { inherit system; };
      packages = fixture.byName
        (map fixture.mkPackage (builtins.fromJSON (builtins.readFile ./packages.json)));
    in
    {
      inherit (fixture) lib;
      packages.\${system} = packages;
      legacyPackages.\${system} = packages // {
        inherit (fixture) buildEnv writeShellScriptBin linkFarm writeText broken failing;
        # nixpkgs' own source, as pkgs.path is.
        path = self.outPath;
      };
    };
}
`,
  );
}

/**
 * Writes a flake whose environment of `pkgs` is at
 * `packages.<system>.profile` (see {@link ProfileFlakeOptions.attr}). Next to
 * it are each package by name, `broken`, whose evaluation throws
 * `fixture: broken on purpose`, and `failing`, whose build fails.
 *
 * @example
 * ```ts ignore
 * import { writeProfileFlake } from "./fixtures.ts";
 * await writeProfileFlake("/tmp/profile", [{ name: "hello", version: "2.12", bins: ["hello"] }], {
 *   system: "x86_64-linux",
 * });
 * // nix build --json path:/tmp/profile#profile → …-profile/bin/hello
 * ```
 */
export async function writeProfileFlake(
  dir: string,
  pkgs: FixturePackage[],
  opts: ProfileFlakeOptions,
): Promise<void> {
  checkPackages(pkgs, PROFILE_RESERVED);
  const system = nixString(checkSystem(opts.system));
  const [set, attr] = (opts.attr ?? "packages.profile").split(".");
  const env = (opts.env ?? "sh") === "sh"
    ? `fixture.buildEnv { name = "profile"; paths = packages; }`
    : `fixture.userEnv { name = "profile"; paths = packages; }`;
  const names = pkgs.map((p) => p.name).join(", ") || "no packages";
  await writeFlake(
    dir,
    pkgs,
    `{
  description = ${nixString(`fprof test fixture: a profile of ${names}`)};

  outputs = { self }:
    let
      system = ${system};
      fixture = import ./fixture.nix { inherit system; };
      packages = map fixture.mkPackage
        (builtins.fromJSON (builtins.readFile ./packages.json));
    in
    {
      ${set}.\${system} = fixture.byName packages // {
        ${attr} = ${env};
        inherit (fixture) broken failing;
      };
    };
}
`,
  );
}

/**
 * Writes a flake for several machines: the environment of each host's
 * packages at `legacyPackages.<system>.profiles.<host>`, which is where
 * `fprof switch` looks first for a machine called `<host>`.
 *
 * @example
 * ```ts ignore
 * import { writeFleetFlake } from "./fixtures.ts";
 * await writeFleetFlake("/tmp/fleet", { "lab-a": [{ name: "hello" }], "lab-b": [] }, {
 *   system: "x86_64-linux",
 * });
 * ```
 */
export async function writeFleetFlake(
  dir: string,
  hosts: Record<string, FixturePackage[]>,
  opts: { system: string },
): Promise<void> {
  const all = new Map<string, FixturePackage>();
  for (const p of Object.values(hosts).flat()) all.set(`${p.name}-${p.version ?? ""}`, p);
  const pkgs = [...all.values()];
  checkPackages(pkgs, PROFILE_RESERVED);
  const system = nixString(checkSystem(opts.system));
  const profiles = Object.entries(hosts).map(([host, ps]) =>
    `        ${nixString(host)} = fixture.buildEnv { name = "profile"; paths = pick ${
      nixString(JSON.stringify(ps.map((p) => `${p.name}-${p.version ?? ""}`)))
    }; };`
  ).join("\n");
  await writeFlake(
    dir,
    pkgs,
    `{
  description = "fprof test fixture: the profiles of several hosts";

  outputs = { self }:
    let
      system = ${system};
      fixture = import ./fixture.nix { inherit system; };
      specs = builtins.fromJSON (builtins.readFile ./packages.json);
      keyed = builtins.listToAttrs (map (s: {
        name = "\${s.name}-\${s.version or ""}";
        value = fixture.mkPackage s;
      }) specs);
      pick = keys: map (k: keyed.\${k}) (builtins.fromJSON keys);
    in
    {
      legacyPackages.\${system}.profiles = {
${profiles}
      };
    };
}
`,
  );
}

/**
 * Writes a flake with an environment of `count` packages at
 * `packages.<system>.profile`. Package `i` (from 1) is the directory
 * `pkgs/p<i>-1.0` of the flake, holding `bin/p<i>` (which prints `p<i> 1.0`),
 * copied into the store by evaluation rather than built; the environment is
 * `builtin:buildenv` with a `manifest.nix`, as `nix-env` makes (a `/bin/sh`
 * builder would start a process per link).
 *
 * The first `nix build` of 1,000 packages takes about 1 s; of 10,000, 7–9 s
 * on tmpfs and 9–12 s on disk. Evaluation grows faster than the count: in
 * pure mode Nix 2.8 checks every path it copies against a list of allowed
 * paths, and every copy joins that list. Each later `nix` call on the flake
 * spends about 1.3 s hashing its 30,000 files.
 *
 * @example
 * ```ts ignore
 * import { writeBigProfileFlake } from "./fixtures.ts";
 * await writeBigProfileFlake("/tmp/big", 1000, { system: "x86_64-linux" });
 * ```
 */
export async function writeBigProfileFlake(
  dir: string,
  count: number,
  opts: { system: string },
): Promise<void> {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(
      `Cannot write a big profile flake: count must be a natural number, got ${count}`,
    );
  }
  const system = nixString(checkSystem(opts.system));
  await Deno.mkdir(dir, { recursive: true });
  // Left-over packages of an earlier, bigger call would be copied along with
  // the flake for nothing.
  const pkgsDir = join(dir, "pkgs");
  await Deno.remove(pkgsDir, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  // Synchronous calls: for 30,000 tiny operations they take a third of the
  // time of awaiting each one.
  for (let i = 1; i <= count; i++) {
    const bin = join(pkgsDir, `p${i}-1.0`, "bin");
    Deno.mkdirSync(bin, { recursive: true });
    Deno.writeTextFileSync(
      join(bin, `p${i}`),
      `#!/bin/sh\necho "p${i} 1.0"\n`,
      { mode: 0o755 },
    );
  }
  await Deno.copyFile(FIXTURE_NIX, join(dir, "fixture.nix"));
  await Deno.writeTextFile(
    join(dir, "flake.nix"),
    `{
  description = "fprof test fixture: a profile of ${count} packages";

  outputs = { self }:
    let
      system = ${system};
      fixture = import ./fixture.nix { inherit system; };
      # Interpolating a directory copies it into the store as a path of its
      # own: much cheaper than a build, and cheaper than builtins.path,
      # which reads the directory once more to hash it.
      packages = builtins.genList
        (i:
          let name = "p\${toString (i + 1)}-1.0";
          in fixture.sourcePackage name (./pkgs + "/\${name}"))
        ${count};
    in
    {
      packages.\${system}.profile = fixture.userEnv {
        name = "profile";
        paths = packages;
        # The packages are sources, not derivation outputs, so no build.
        writeManifest = builtins.toFile;
      };
    };
}
`,
  );
}

const FIXTURE_NIX = new URL("./fixture.nix", import.meta.url);

async function writeFlake(
  dir: string,
  pkgs: FixturePackage[],
  flakeNix: string,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.copyFile(FIXTURE_NIX, join(dir, "fixture.nix"));
  await Deno.writeTextFile(
    join(dir, "packages.json"),
    JSON.stringify(pkgs, null, 2) + "\n",
  );
  await Deno.writeTextFile(join(dir, "flake.nix"), flakeNix);
}

// Characters Nix allows in store path names, less the ones that would need
// quoting in the builders' shell loops.
const NAME = /^[A-Za-z0-9+_][A-Za-z0-9+_.-]*$/;
const VERSION = /^[A-Za-z0-9+_.-]*$/;
const OUTPUT = /^[a-z][a-z0-9]*$/;
const FILE = /^[A-Za-z0-9+_.-]+(\/[A-Za-z0-9+_.-]+)*$/;

/** Rejects specs the Nix side would mishandle, before Nix gives a worse message. */
function checkPackages(
  pkgs: readonly FixturePackage[],
  reserved: ReadonlySet<string>,
): void {
  const seen = new Set<string>();
  for (const p of pkgs) {
    const bad = (why: string): never => {
      throw new TypeError(`Invalid fixture package '${p.name}': ${why}`);
    };
    if (!NAME.test(p.name)) bad("the name has characters a store path cannot");
    if (reserved.has(p.name)) {
      bad("the name is taken by another attribute of the flake");
    }
    if (seen.has(p.name)) bad("the name is used twice");
    seen.add(p.name);
    if (p.version !== undefined && !VERSION.test(p.version)) {
      bad(`version '${p.version}' has characters a store path cannot`);
    }
    for (const b of p.bins ?? []) {
      if (!NAME.test(b)) bad(`bin '${b}' is not a plain file name`);
    }
    const outputs = p.outputs ?? ["out"];
    if (!outputs.includes("out")) bad("the outputs must include 'out'");
    if (new Set(outputs).size !== outputs.length) bad("an output is repeated");
    for (const o of outputs) {
      if (!OUTPUT.test(o)) bad(`output '${o}' is not a valid output name`);
    }
    for (const f of Object.keys(p.files ?? {})) {
      if (!FILE.test(f) || f.split("/").some((s) => s === "." || s === "..")) {
        bad(`file '${f}' is not a plain relative path`);
      }
    }
    if (p.priority !== undefined && !Number.isInteger(p.priority)) {
      bad(`priority ${p.priority} is not an integer`);
    }
  }
}

function checkSystem(system: string): string {
  if (!/^[a-z0-9_]+-[a-z0-9_]+$/.test(system)) {
    throw new TypeError(`Invalid Nix system '${system}'`);
  }
  return system;
}

/** A Nix string literal; `${` would otherwise start an interpolation. */
function nixString(s: string): string {
  return JSON.stringify(s).replaceAll("${", "\\${");
}
