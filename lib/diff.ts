/**
 * Package-level differences between two generations.
 *
 * @module
 */

import type { ProfilePackage } from "../manifest/types.ts";

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
