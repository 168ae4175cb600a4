/**
 * `fprof switch --dry-run --json`: the plan of a switch as a JSON document,
 * for scripts that want to know what a switch would do before doing it.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import type { PackageDiff } from "../profile/diff.ts";
import type { Generation } from "../profile/profile.ts";
import type { OverlapWarning } from "../profile/overlaps.ts";
import type { ManifestKind, ProfilePackage } from "../../manifest/types.ts";

/** The document `fprof switch --dry-run --json` prints (schema in docs/commands.md). */
export interface SwitchPlanJson {
  profile: string;
  /** The host, for a profile on another machine (`--target-host`). */
  host?: string;
  /** `switch`: a new generation would be made; `none`: the profile already has this content. */
  action: "switch" | "none";
  /** The current generation, or null for a profile with none. */
  from: { generation: number; storePath: string } | null;
  /** The generation a switch would make (its number is known only once Nix makes it). */
  to: { storePath: string; envPath: string; manifest: ManifestKind };
  packages: {
    added: { name: string; version: string; storePaths: string[] }[];
    removed: { name: string; version: string; storePaths: string[] }[];
    changed: { name: string; from: string; to: string }[];
  };
  /** Whether the switch would drop `bin/nix` (and so needs `--force`). */
  dropsNix: boolean;
  /**
   * Packages another tool (`nix-env -i`, `nix profile install`) added to the
   * current generation that the switch would drop: the real switch asks, or
   * needs `--yes`, when there are any.
   */
  drift: { name: string; version: string; storePaths: string[] }[];
  /** What overlaps in the new generation (see overlaps.ts); empty for another machine. */
  warnings: OverlapWarning[];
}

/** `--json` describes a plan, so it goes with `--dry-run`. */
export function checkSwitchJsonOptions(
  opts: { json?: boolean; dryRun?: boolean; report?: boolean },
): void {
  // With --target-host, a switch reports each host's result as JSON.
  if (opts.json && !opts.dryRun && !opts.report) {
    throw new UsageError("--json needs --dry-run", {
      hint: "use 'fprof switch --dry-run --json' to see the plan, then 'fprof list --json'",
    });
  }
}

/** Builds the document; pure. */
export function switchPlanJson(args: {
  profile: string;
  host?: string;
  current: Generation | null;
  action: "switch" | "none";
  storePath: string;
  envPath: string;
  manifest: ManifestKind;
  diff: PackageDiff;
  dropsNix: boolean;
  /** What another tool added that the switch would drop (null or empty: nothing). */
  drift?: readonly ProfilePackage[] | null;
  warnings: readonly OverlapWarning[];
}): SwitchPlanJson {
  const byName = <T extends { name: string }>(xs: readonly T[]) =>
    [...xs].sort((a, b) => a.name.localeCompare(b.name));
  const pkg = (p: ProfilePackage) => ({
    name: p.name,
    version: p.version,
    storePaths: p.storePaths,
  });
  return {
    profile: args.profile,
    ...(args.host !== undefined ? { host: args.host } : {}),
    action: args.action,
    from: args.current
      ? { generation: args.current.number, storePath: args.current.storePath }
      : null,
    to: { storePath: args.storePath, envPath: args.envPath, manifest: args.manifest },
    packages: {
      added: byName(args.diff.added).map(pkg),
      removed: byName(args.diff.removed).map(pkg),
      changed: byName(args.diff.changed).map((c) => ({ ...c })),
    },
    dropsNix: args.dropsNix,
    drift: byName(args.drift ?? []).map(pkg),
    warnings: [...args.warnings],
  };
}
