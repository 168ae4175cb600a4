/**
 * The Nix the suite runs against: the one first on PATH, which
 * `scripts/test.sh` sets to each version in turn. Expectations that depend on
 * the version come from here, so that one test holds on every Nix; a test of
 * one version's own behaviour is skipped on the others, with the reason
 * printed.
 *
 * @module
 */

import {
  manifestJsonVersionFor,
  nixAtLeast,
  type NixVersion,
  parseNixVersion,
  parsePathInfoJson,
  type PathInfo,
  pathInfoArgv,
} from "../../lib/nix/nix.ts";

function probe(): NixVersion | undefined {
  try {
    const out = new Deno.Command("nix", { args: ["--version"], stdout: "piped", stderr: "null" })
      .outputSync();
    return out.success ? parseNixVersion(new TextDecoder().decode(out.stdout)) : undefined;
  } catch {
    return undefined;
  }
}

const found = probe();

/** The running Nix, parsed; tests that need Nix fail without one. */
export function testNix(): NixVersion {
  if (!found) throw new Error("the tests need 'nix' on PATH (scripts/test.sh installs it)");
  return found;
}

/**
 * Whether the running Nix is at least `major.minor`. Lix counts as at least
 * 2.20, as the library treats it (manifest.json version 3, the 2.14 profile
 * locations, `flake:` in `nix-path`).
 */
export function nixAtLeastTest(major: number, minor: number): boolean {
  const v = testNix();
  if (v.implementation === "lix") return major < 2 || (major === 2 && minor <= 20);
  return nixAtLeast(v, major, minor);
}

/** The manifest.json version the running Nix writes. */
export function testManifestJsonVersion(): 2 | 3 {
  return manifestJsonVersionFor(testNix());
}

/**
 * `ignore` for a test that is about one Nix version's own behaviour: `true`
 * (with the reason printed once) when `applies` is false for the running Nix.
 *
 * @example
 * ```ts ignore
 * Deno.test({
 *   name: "Nix 2.8 refuses a version 3 manifest.json",
 *   ignore: onlyOnNix((v) => v.minor < 20, "Nix 2.20 and later read version 3"),
 *   fn() {},
 * });
 * ```
 */
export function onlyOnNix(applies: (v: NixVersion) => boolean, reason: string): boolean {
  const v = found;
  if (!v || applies(v)) return false;
  console.error(`skipped on ${v.raw}: ${reason}`);
  return true;
}

/**
 * `nix path-info --json FLAGS PATHS` through `run` (a sandbox's or an
 * isolated store's), parsed the same way whatever shape this Nix prints.
 */
export async function testPathInfo(
  run: (argv: string[]) => Promise<string>,
  flags: readonly string[],
  paths: readonly string[],
): Promise<PathInfo[]> {
  return parsePathInfoJson(await run(pathInfoArgv(testNix(), flags, paths)));
}
