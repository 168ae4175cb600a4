/**
 * Deleting generations without breaking rollback: which generations a
 * `fprof generations --delete …` removes, and how the records of the ones
 * left are re-parented onto living ancestors. Pure.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import type { Generation, ProfileState } from "./profile.ts";
import { recordOf, type RecordsFile } from "./records.ts";

/** Which generations to delete, as the user asked. */
export type DeleteRequest =
  | { kind: "numbers"; numbers: number[] }
  | { kind: "olderThan"; ms: number }
  | { kind: "keep"; count: number };

/**
 * Parses an age such as `30d`, `12h` or `2w` into milliseconds.
 *
 * @example
 * ```ts
 * import { parseAge } from "./prune.ts";
 * parseAge("30d"); // 2592000000
 * ```
 */
export function parseAge(text: string): number {
  const m = /^([0-9]+)([smhdw])$/.exec(text.trim());
  if (!m) {
    throw new UsageError(`invalid age '${text}'`, {
      hint: "write a number and a unit: s, m, h, d or w, as in '30d'",
    });
  }
  const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as "s" | "m" | "h" | "d" | "w"];
  return Number(m[1]) * unit * 1000;
}

/**
 * The generations to delete; never the current one. For `olderThan` it keeps,
 * as `nix-env --delete-generations 30d` does, the newest generation older
 * than the cutoff: it was the one in use at that time. `keep` keeps the
 * newest `count` generations, and the current one in any case.
 */
export function planDeletion(
  state: ProfileState,
  req: DeleteRequest,
  now: Date,
): number[] {
  const current = state.current?.number;
  const gens = state.generations;
  switch (req.kind) {
    case "numbers": {
      for (const n of req.numbers) {
        if (!gens.some((g) => g.number === n)) {
          throw new UsageError(`generation ${n} does not exist`, {
            hint: `existing generations: ${gens.map((g) => g.number).join(", ") || "none"}`,
          });
        }
        if (n === current) {
          throw new UsageError(`generation ${n} is the current one and cannot be deleted`, {
            hint: "switch or roll back to another generation first",
          });
        }
      }
      return [...new Set(req.numbers)].sort((a, b) => a - b);
    }
    case "olderThan": {
      const cutoff = now.getTime() - req.ms;
      const older = gens.filter((g) => g.date.getTime() < cutoff);
      // The newest of them was still in use at the cutoff.
      return older.slice(0, -1).map((g) => g.number).filter((n) => n !== current);
    }
    case "keep": {
      if (!Number.isInteger(req.count) || req.count < 1) {
        throw new UsageError("--keep needs a number of at least 1");
      }
      return gens.slice(0, Math.max(0, gens.length - req.count)).map((g) => g.number)
        .filter((n) => n !== current);
    }
  }
}

/**
 * The records after some generations are gone: each living generation's
 * parent becomes its nearest living recorded ancestor, and the records of
 * generations that no longer exist are dropped. Where the chain of records
 * breaks (an ancestor another tool made), the record is left as it was, and
 * rollback falls back to what nix-env does. Returns a new file.
 */
export function reparentRecords(records: RecordsFile, living: readonly Generation[]): RecordsFile {
  const alive = new Map(living.map((g) => [g.number, g]));
  const isAlive = (n: number, path: string | null) => {
    const g = alive.get(n);
    return g !== undefined && (path === null || g.storePath === path);
  };
  const out: RecordsFile = { ...records, generations: {} };
  for (const g of living) {
    const rec = recordOf(records, g);
    if (!rec) continue;
    let parent = rec.parent;
    let parentPath = rec.parentStorePath;
    const seen = new Set([g.number]);
    while (parent !== null && !isAlive(parent, parentPath) && !seen.has(parent)) {
      seen.add(parent);
      const up = records.generations[String(parent)];
      if (!up || (parentPath !== null && up.storePath !== parentPath)) break;
      parent = up.parent;
      parentPath = up.parentStorePath;
    }
    const found = parent === null || isAlive(parent, parentPath);
    out.generations[String(g.number)] = found
      ? { ...rec, parent, parentStorePath: parentPath }
      : rec;
  }
  return out;
}
