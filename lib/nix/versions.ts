/**
 * What each Nix release reads and writes, as fprof depends on it: one table,
 * asked by everything that behaves differently by version (manifests, the
 * default profile, `path-info`'s JSON, `nix flake update`'s arguments, …).
 * Lix forked from Nix 2.18 and numbers its releases 2.90 on; each row says
 * whether Lix has the change. Pure.
 *
 * @module
 */

/** A parsed `nix --version`. */
export interface NixVersion {
  /** `"nix"` or `"lix"`. */
  implementation: "nix" | "lix";
  major: number;
  minor: number;
  patch: number;
  /** The line Nix printed. */
  raw: string;
}

/**
 * Parses the output of `nix --version`.
 *
 * @example
 * ```ts
 * import { parseNixVersion } from "./versions.ts";
 * parseNixVersion("nix (Nix) 2.8.0").minor; // 8
 * parseNixVersion("nix (Lix, like Nix) 2.91.1").implementation; // "lix"
 * ```
 */
export function parseNixVersion(text: string): NixVersion {
  const raw = text.trim().split("\n")[0] ?? "";
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(raw);
  if (!m) throw new Error(`Cannot parse Nix version from '${raw}'`);
  return {
    implementation: /lix/i.test(raw) ? "lix" : "nix",
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: Number(m[3] ?? 0),
    raw,
  };
}

/** Whether `v` is at least `major.minor`. */
export function nixAtLeast(
  v: NixVersion,
  major: number,
  minor: number,
): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

/** Each change fprof depends on: the first Nix release with it, and whether Lix has it. */
const SINCE = {
  /** `nix profile` and manifest.json version 1. */
  manifestJson1: { since: [2, 4], lix: true },
  /** manifest.json version 2. */
  manifestJson2: { since: [2, 8], lix: true },
  /** manifest.json elements carry `priority` and `outputs`. */
  jsonPriorityAndOutputs: { since: [2, 9], lix: true },
  /** `DRV^*` builds every output of a derivation; before, a bare `.drv` does. */
  drvCaretStar: { since: [2, 13], lix: true },
  /** `nix-path` understands `NAME=flake:ID`. */
  flakeNixPath: { since: [2, 13], lix: true },
  /** New profiles live under `$XDG_STATE_HOME/nix/profiles` (root's under `per-user/root`). */
  xdgProfiles: { since: [2, 14], lix: true },
  /** `nix flake update NAME… --flake REF`; before, `nix flake lock --update-input NAME`. */
  flakeUpdateTakesInputs: { since: [2, 19], lix: false },
  /** manifest.json version 3, which Nix writes from here on. */
  manifestJson3: { since: [2, 20], lix: true },
  /** `NIX_PATH` in the environment wins over `nix-path` in nix.conf. */
  nixPathVariableWins: { since: [2, 24], lix: true },
  /** `path-info --json` needs `--json-format 1` for the shape fprof reads. */
  pathInfoJsonFormat: { since: [2, 33], lix: false },
} as const;

/** What one Nix does, by {@link SINCE}'s rows. */
export type NixTraits = { [K in keyof typeof SINCE]: boolean };

/**
 * What `v` reads and writes.
 *
 * @example
 * ```ts
 * import { nixTraits, parseNixVersion } from "./versions.ts";
 * nixTraits(parseNixVersion("nix (Nix) 2.8.0")).manifestJson3; // false
 * nixTraits(parseNixVersion("nix (Nix) 2.26.3")).flakeUpdateTakesInputs; // true
 * nixTraits(parseNixVersion("nix (Lix, like Nix) 2.91.1")).flakeUpdateTakesInputs; // false
 * ```
 */
export function nixTraits(v: NixVersion): NixTraits {
  const traits = {} as Record<keyof typeof SINCE, boolean>;
  for (
    const [key, row] of Object.entries(SINCE) as [
      keyof typeof SINCE,
      typeof SINCE[keyof typeof SINCE],
    ][]
  ) {
    traits[key] = v.implementation === "lix" ? row.lix : nixAtLeast(v, row.since[0], row.since[1]);
  }
  return traits;
}

/** The manifest.json version this Nix writes and reads best: 3 from 2.20 and on Lix, 2 before. */
export function manifestJsonVersionFor(v: NixVersion): 2 | 3 {
  return nixTraits(v).manifestJson3 ? 3 : 2;
}

/** The newest manifest.json version this Nix reads: 0 (none) to 3. */
export function manifestJsonRead(v: NixVersion): 0 | 1 | 2 | 3 {
  const t = nixTraits(v);
  return t.manifestJson3 ? 3 : t.manifestJson2 ? 2 : t.manifestJson1 ? 1 : 0;
}
