/**
 * The profiles the integration tests switch between, and the small steps
 * they share, so that every test tells the same story: A → B upgrades
 * `hello`, adds `ripgrep` and removes `gone`; C is unrelated.
 *
 * @module
 */

import { join } from "node:path";
import { type FixturePackage, writeProfileFlake } from "./fixtures.ts";
import type { NixSandbox } from "./sandbox.ts";

/** The first profile. */
export const A: FixturePackage[] = [
  { name: "hello", version: "2.12.1", bins: ["hello"] },
  { name: "jq", version: "1.6", bins: ["jq"] },
  { name: "gone", version: "1.0", bins: ["gone"] },
];

/** From {@link A}: hello upgraded, ripgrep added, gone removed. */
export const B: FixturePackage[] = [
  { name: "hello", version: "2.12.2", bins: ["hello"] },
  { name: "jq", version: "1.6", bins: ["jq"] },
  { name: "ripgrep", version: "14.1.0", bins: ["rg"] },
];

/** A profile with nothing in common with the others. */
export const C: FixturePackage[] = [{ name: "cowsay", version: "3.7", bins: ["cowsay"] }];

/** The flakes of {@link A}, {@link B} and {@link C}, as `path:` refs. */
export async function abcFlakes(sb: NixSandbox): Promise<[string, string, string]> {
  return [
    await profileFlake(sb, "a", A),
    await profileFlake(sb, "b", B),
    await profileFlake(sb, "c", C),
  ];
}

/** Writes a profile flake of `pkgs` under the sandbox's work dir; returns its `path:` ref. */
export async function profileFlake(
  sb: NixSandbox,
  name: string,
  pkgs: FixturePackage[],
): Promise<string> {
  const dir = join(sb.work, name);
  await writeProfileFlake(dir, pkgs, { system: sb.system });
  return `path:${dir}`;
}

/**
 * Writes a profile flake in `dir` whose `nixpkgs` input is the package set
 * at `pkgsDir` (a `path:` flake), and locks it in the sandbox, as `fprof pin`
 * expects to find it. Returns `dir`.
 */
export async function writeLockedProfileFlake(
  sb: NixSandbox,
  dir: string,
  pkgsDir: string,
): Promise<string> {
  await writeUnlockedProfileFlake(sb, dir, pkgsDir);
  await sb.runOk(["nix", "flake", "lock"], { cwd: dir });
  return dir;
}

/**
 * Writes a profile flake in `dir` with `hello` from the package set at
 * `pkgsDir` (its `nixpkgs` input), and no `flake.lock`, as a new user's
 * first flake is; `dir` and the work dir belong to the sandbox's user.
 */
export async function writeUnlockedProfileFlake(
  sb: NixSandbox,
  dir: string,
  pkgsDir: string,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    join(dir, "flake.nix"),
    `{
  inputs.nixpkgs.url = "path:${pkgsDir}";
  outputs = { self, nixpkgs }:
    let pkgs = nixpkgs.legacyPackages.${sb.system};
    in { packages.${sb.system}.profile = pkgs.buildEnv { name = "profile"; paths = [ pkgs.hello ]; }; };
}
`,
  );
  await sb.handOver(sb.work);
}

/** Whether anything (even a dangling link) is at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Installs `extra-0.1`, a package no fixture flake declares, into `profile`
 * the way a user of nix-env would: `nix-env -i -f extra.nix`.
 */
export async function nixEnvInstallExtra(sb: NixSandbox, profile = sb.profile): Promise<void> {
  const extra = join(sb.work, "extra.nix");
  await Deno.writeTextFile(
    extra,
    `derivation { name = "extra-0.1"; system = "${sb.system}"; builder = "/bin/sh"; args = [ "-c" "/bin/mkdir -p $out/bin" ]; }`,
  );
  await sb.runOk(["nix-env", "--profile", profile, "-i", "-f", extra]);
}
