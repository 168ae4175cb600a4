/**
 * `fprof list --group`: a generation's packages under the `groups` of
 * `lib.mkProfile` they were declared in, as `fprof switch` recorded them.
 *
 * @module
 */

import type { ProfilePackage } from "../../manifest/types.ts";

/** The heading of packages declared in `paths` rather than a group. */
export const UNGROUPED = "(no group)";

/**
 * Packages by group name, groups sorted by name and ungrouped packages last;
 * `groups` maps a package's first store path to its group. Pure.
 *
 * @example
 * ```ts
 * import { groupPackages } from "./groups.ts";
 * const hello = { name: "hello", version: "2.12", storePaths: ["/nix/store/a-hello-2.12"] };
 * groupPackages([hello], { "/nix/store/a-hello-2.12": "cli" }); // [["cli", [hello]]]
 * ```
 */
export function groupPackages(
  packages: readonly ProfilePackage[],
  groups: Readonly<Record<string, string>>,
): [string, ProfilePackage[]][] {
  const by = new Map<string, ProfilePackage[]>();
  for (const p of packages) {
    const g = groups[p.storePaths[0] ?? ""] ?? UNGROUPED;
    by.set(g, [...(by.get(g) ?? []), p]);
  }
  return [...by.entries()].sort(([a], [b]) =>
    a === UNGROUPED ? 1 : b === UNGROUPED ? -1 : a.localeCompare(b)
  );
}

/**
 * The grouped listing: a `name:` heading per group, then its packages as
 * `format` prints them, indented. Pure.
 */
export function groupedText(
  grouped: readonly [string, ProfilePackage[]][],
  format: (packages: readonly ProfilePackage[]) => string,
): string {
  return grouped.map(([g, pkgs]) =>
    `${g}:\n` + format(pkgs).split("\n").filter((l) => l !== "").map((l) => `  ${l}\n`).join("")
  ).join("");
}
