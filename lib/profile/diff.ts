/**
 * Package-level differences between two generations.
 *
 * @module
 */

import type { ProfilePackage } from "../../manifest/types.ts";

/** What changes between two package sets. */
export interface PackageDiff {
  added: ProfilePackage[];
  removed: ProfilePackage[];
  changed: { name: string; from: string; to: string }[];
}

/** Compares package sets by name and version; pure. */
export function diffPackages(
  before: readonly ProfilePackage[],
  after: readonly ProfilePackage[],
): PackageDiff {
  const key = (p: ProfilePackage) => p.name;
  const old = new Map<string, ProfilePackage[]>();
  for (const p of before) old.set(key(p), [...(old.get(key(p)) ?? []), p]);
  const diff: PackageDiff = { added: [], removed: [], changed: [] };
  for (const p of after) {
    const prev = old.get(key(p));
    const same = prev?.findIndex((q) => q.version === p.version) ?? -1;
    if (prev && same >= 0) {
      prev.splice(same, 1);
    } else if (prev && prev.length > 0) {
      const q = prev.shift()!;
      diff.changed.push({ name: p.name, from: q.version, to: p.version });
    } else {
      diff.added.push(p);
    }
    if (prev && prev.length === 0) old.delete(key(p));
  }
  for (const rest of old.values()) diff.removed.push(...rest);
  return diff;
}

/** Whether nothing changes. */
export function isEmptyDiff(d: PackageDiff): boolean {
  return d.added.length === 0 && d.removed.length === 0 &&
    d.changed.length === 0;
}

/** One line per change: `+ hello 2.12`, `- ripgrep 14.0`, `~ jq 1.6 → 1.7`; pure. */
export function formatDiff(d: PackageDiff): string[] {
  const v = (
    p: ProfilePackage,
  ) => (p.version ? `${p.name} ${p.version}` : p.name);
  return [
    ...d.changed.map((c) => `~ ${c.name} ${c.from} → ${c.to}`),
    ...d.added.map((p) => `+ ${v(p)}`),
    ...d.removed.map((p) => `- ${v(p)}`),
  ];
}

/** A package as the `--json` diff documents show it. */
export interface DiffPackageJson {
  name: string;
  version: string;
  storePaths: string[];
}

/** The package part of `fprof diff --json`. */
export interface PackageDiffJson {
  added: DiffPackageJson[];
  removed: DiffPackageJson[];
  changed: { name: string; from: string; to: string }[];
}

/** The JSON form of a diff, sorted by name so that it is stable; pure. */
export function packageDiffJson(d: PackageDiff): PackageDiffJson {
  const byName = <T extends { name: string }>(xs: readonly T[]) =>
    [...xs].sort((a, b) => a.name.localeCompare(b.name));
  const pkg = (p: ProfilePackage): DiffPackageJson => ({
    name: p.name,
    version: p.version,
    storePaths: p.storePaths,
  });
  return {
    added: byName(d.added).map(pkg),
    removed: byName(d.removed).map(pkg),
    changed: byName(d.changed).map((c) => ({ ...c })),
  };
}

/**
 * A byte count as people read it, in binary units: `512 B`, `1.5 KiB`,
 * `12.3 MiB`; pure.
 *
 * @example
 * ```ts
 * import { formatSize } from "./diff.ts";
 * formatSize(1536); // "1.5 KiB"
 * ```
 */
export function formatSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
  return bytes < 0 ? `-${text}` : text;
}

/** The closure sizes of both sides of a diff, in bytes. */
export interface ClosureChange {
  from: number | null;
  to: number;
}

/**
 * One line for the closure size change:
 * `closure size: 1.0 MiB → 1.5 MiB (+512.0 KiB)`; pure.
 */
export function formatClosureChange(c: ClosureChange): string {
  if (c.from === null) return `closure size: ${formatSize(c.to)}`;
  const delta = c.to - c.from;
  const sign = delta > 0 ? "+" : delta < 0 ? "-" : "±";
  return `closure size: ${formatSize(c.from)} → ${formatSize(c.to)} (${sign}${
    formatSize(Math.abs(delta))
  })`;
}

/** How much of a diff `switch`, `rollback` and `upgrade` print. */
export const DIFF_MODES = ["auto", "always", "never"] as const;
/** One of {@link DIFF_MODES}. */
export type DiffMode = typeof DIFF_MODES[number];

/**
 * The lines a command prints before it acts; pure. `auto` prints the package
 * changes, if any. `always` also says when there are none and adds the
 * closure size change (when it is known). `never` prints nothing.
 */
export function diffReport(
  d: PackageDiff,
  mode: DiffMode,
  closure?: ClosureChange,
): string[] {
  if (mode === "never") return [];
  const lines = formatDiff(d);
  if (mode === "auto") return lines;
  return [
    ...(lines.length > 0 ? lines : ["no package changes"]),
    ...(closure ? [formatClosureChange(closure)] : []),
  ];
}
