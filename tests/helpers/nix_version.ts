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

/** Another Nix the tests may use, such as on a remote host. */
export interface OtherTestNix {
  /** The label of scripts/test.sh: `"2.8"`, `"2.26"` or `"newest"`. */
  label: string;
  /** The directory of its `nix`, `nix-env`, `nix-daemon`… */
  bin: string;
  /** Its version, parsed. */
  version: NixVersion;
}

/**
 * The installed Nix whose version is furthest from the running one (the
 * newest when the running one is older, else the oldest), so that a test can
 * give a remote host a different Nix; `undefined` when there is none.
 * scripts/test.sh lists them in `FPROF_TEST_NIX_BINS`
 * (`2.8=/…/bin,2.26=/…/bin,newest=/…/bin`); without it, the trees that
 * scripts/install-nix.sh cached under `.tools/nix/` are used.
 */
export function otherTestNix(): OtherTestNix | undefined {
  const current = found;
  if (!current) return undefined;
  let best: OtherTestNix | undefined;
  let bestDistance = 0;
  for (const [label, bin] of testNixBins()) {
    const version = versionAt(bin);
    if (!version) continue;
    const distance = Math.abs(
      (version.major - current.major) * 1000 + version.minor - current.minor,
    );
    if (distance > bestDistance) {
      best = { label, bin, version };
      bestDistance = distance;
    }
  }
  return best;
}

/** The labelled Nix bin directories: `FPROF_TEST_NIX_BINS`, else the `.tools` cache. */
function testNixBins(): [string, string][] {
  const listed = Deno.env.get("FPROF_TEST_NIX_BINS");
  if (listed) {
    return listed.split(",").filter((e) => e.includes("=")).map((e) => {
      const at = e.indexOf("=");
      return [e.slice(0, at), e.slice(at + 1)];
    });
  }
  const tools = new URL("../../.tools/nix/", import.meta.url).pathname;
  return ["2.8", "2.26", "newest"].map((label) => [label, `${tools}${label}/bin`]);
}

function versionAt(bin: string): NixVersion | undefined {
  try {
    const out = new Deno.Command(`${bin}/nix`, {
      args: ["--version"],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    return out.success ? parseNixVersion(new TextDecoder().decode(out.stdout)) : undefined;
  } catch {
    return undefined;
  }
}
