/**
 * The one code path through which `switch`, `rollback` and `upgrade` show what
 * they are about to change, before they change it.
 *
 * @module
 */

import type { Context } from "../context.ts";
import {
  type ClosureChange,
  type DiffMode,
  diffPackages,
  diffReport,
  type PackageDiff,
} from "../profile/diff.ts";
import { FprofError } from "../errors.ts";
import type { ProfilePlace } from "../profile/place.ts";
import { writeOut } from "../log/log.ts";

/** Measures closures in one store: this machine's, or a profile's own. */
export type ClosureSizer = (paths: readonly string[]) => Promise<Map<string, number>>;

/**
 * Prints the diff of a planned change. A dry run prints it to stdout with the
 * rest of its plan; a real run prints it to stderr as status. The closure
 * sizes cost a `nix path-info` call, so they are asked for only in `always`
 * mode. Returns the lines printed.
 */
export async function showDiff(
  ctx: Context,
  args: {
    diff: PackageDiff;
    mode: DiffMode;
    dryRun: boolean;
    closure?: () => Promise<ClosureChange | undefined>;
  },
): Promise<string[]> {
  const closure = args.mode === "always" && args.closure ? await args.closure() : undefined;
  const lines = diffReport(args.diff, args.mode, closure).map((l) => `  ${l}\n`);
  if (args.dryRun) await writeOut(lines.join(""));
  else for (const line of lines) ctx.log.write(line);
  return lines;
}

/**
 * The closure sizes of an existing generation and of a new one. The new one
 * may not be in the store yet: its size is then the closure of `basePath`
 * plus `extraBytes` (the NARs fprof is about to add). Failures only cost the
 * line, so they are logged under `--verbose` and give `undefined`.
 */
export async function closureChange(
  ctx: Context,
  from: string | null,
  to: { basePath: string; extraBytes?: number },
  /** Where each side lives, when not in this machine's store. */
  stores: { from?: ClosureSizer; to?: ClosureSizer } = {},
): Promise<ClosureChange | undefined> {
  const here: ClosureSizer = (paths) => ctx.nix.closureSizes(paths);
  const [fromStore, toStore] = [stores.from ?? here, stores.to ?? here];
  try {
    const [toSizes, fromSizes] = fromStore === toStore
      ? await toStore([...new Set([to.basePath, ...(from ? [from] : [])])]).then((m) => [m, m])
      : await Promise.all([toStore([to.basePath]), from ? fromStore([from]) : new Map()]);
    const toSize = toSizes.get(to.basePath);
    if (toSize === undefined) return undefined;
    return {
      from: from === null ? null : fromSizes.get(from) ?? null,
      to: toSize + (to.extraBytes ?? 0),
    };
  } catch (e) {
    ctx.log.debug(`cannot compute closure sizes: ${(e as Error).message}`);
    return undefined;
  }
}

/**
 * The package diff between two store paths of generations, or `undefined`
 * (with a warning) when either cannot be read: a diff is worth a warning, not
 * a failed rollback.
 */
export async function diffStorePaths(
  ctx: Context,
  place: ProfilePlace,
  from: string,
  to: string,
): Promise<PackageDiff | undefined> {
  try {
    await place.prefetch?.([from, to]);
    const [a, b] = await Promise.all([place.contents(from), place.contents(to)]);
    return diffPackages(a.packages, b.packages);
  } catch (e) {
    if (!(e instanceof FprofError)) throw e;
    ctx.log.warn(`cannot show what changes: ${e.message}`);
    return undefined;
  }
}
