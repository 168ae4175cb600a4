/**
 * `fprof diff`: what changed between two generations, package by package, and
 * optionally how much the closure grew or shrank.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { placeOf } from "../place.ts";
import {
  type ClosureChange,
  diffPackages,
  formatClosureChange,
  formatDiff,
  isEmptyDiff,
  type PackageDiff,
  type PackageDiffJson,
  packageDiffJson,
} from "../profile/diff.ts";
import { FprofError, UsageError } from "../errors.ts";
import { writeOut } from "../log/log.ts";
import type { Generation, ProfileState } from "../profile/profile.ts";
import { loadRecords, planRollback, type RecordsFile } from "../profile/records.ts";
import type { ManifestKind } from "../../manifest/types.ts";

/** Options of `fprof diff`. */
export interface DiffOptions {
  profile?: string;
  /** `[USER@]HOST` whose profile to compare. */
  targetHost?: string;
  json?: boolean;
  closure?: boolean;
}

/** One side of `fprof diff --json`. */
export interface DiffSideJson {
  generation: number;
  storePath: string;
  manifest: ManifestKind;
}

/** The `--json` document of `fprof diff`. */
export interface DiffJson extends PackageDiffJson {
  profile: string;
  /** The host, for a profile on another machine (`--target-host`). */
  host?: string;
  from: DiffSideJson;
  to: DiffSideJson;
  /** Present with `--closure`: bytes, and `change` = `to - from`. */
  closureSize?: { from: number; to: number; change: number };
}

/**
 * The two generations to compare; pure. With none named: the current one's
 * parent (the generation `fprof rollback` would go to) and the current one.
 * With one: it and the current one.
 */
export function chooseDiffPair(
  state: ProfileState,
  records: RecordsFile,
  a: number | undefined,
  b: number | undefined,
): { from: Generation; to: Generation } {
  const find = (n: number) => {
    const g = state.generations.find((x) => x.number === n);
    if (!g) {
      throw new UsageError(`generation ${n} does not exist`, {
        hint: `existing generations: ${
          state.generations.map((x) => x.number).join(", ") || "none"
        }`,
      });
    }
    return g;
  };
  const current = state.current;
  if (a !== undefined && b !== undefined) return { from: find(a), to: find(b) };
  if (!current) {
    throw new FprofError(`profile '${state.profile}' has no generations yet`, {
      hint: "make its first generation with 'fprof switch', or check --profile",
    });
  }
  if (a !== undefined) return { from: find(a), to: current };
  const parent = planRollback(state, records);
  if (!parent) {
    throw new FprofError(
      `generation ${current.number} has no earlier generation to compare with`,
      { hint: "name the generations to compare, as in 'fprof diff 1 2'" },
    );
  }
  return { from: parent.to, to: current };
}

/** Builds the `--json` document; pure. */
export function diffJson(args: {
  profile: string;
  host?: string;
  from: DiffSideJson;
  to: DiffSideJson;
  diff: PackageDiff;
  closure?: ClosureChange;
}): DiffJson {
  const c = args.closure;
  return {
    profile: args.profile,
    ...(args.host !== undefined ? { host: args.host } : {}),
    from: args.from,
    to: args.to,
    ...packageDiffJson(args.diff),
    ...(c && c.from !== null
      ? { closureSize: { from: c.from, to: c.to, change: c.to - c.from } }
      : {}),
  };
}

/** Runs `fprof diff`. */
export async function diff(
  a: number | undefined,
  b: number | undefined,
  opts: DiffOptions,
  ctx: Context,
): Promise<void> {
  const place = await placeOf(ctx, opts);
  const profile = place.profile;
  const state = await place.read();
  const pair = chooseDiffPair(state, await loadRecords(place.recordsKey, ctx.env), a, b);
  await place.prefetch?.([pair.from.storePath, pair.to.storePath]);
  const [before, after, sizes] = await Promise.all([
    place.contents(pair.from.storePath),
    place.contents(pair.to.storePath),
    opts.closure
      ? place.closureSizes([...new Set([pair.from.storePath, pair.to.storePath])])
      : undefined,
  ]);
  const d = diffPackages(before.packages, after.packages);
  let closure: ClosureChange | undefined;
  if (sizes) {
    const [from, to] = [sizes.get(pair.from.storePath), sizes.get(pair.to.storePath)];
    if (from === undefined || to === undefined) {
      throw new FprofError("cannot compute the closure sizes: a generation's path is not valid");
    }
    closure = { from, to };
  }
  if (opts.json) {
    const side = (g: Generation, manifest: ManifestKind): DiffSideJson => ({
      generation: g.number,
      storePath: g.storePath,
      manifest,
    });
    const doc = diffJson({
      profile,
      ...(place.host !== undefined ? { host: place.host } : {}),
      from: side(pair.from, before.manifest),
      to: side(pair.to, after.manifest),
      diff: d,
      closure,
    });
    await writeOut(JSON.stringify(doc, null, 2) + "\n");
    return;
  }
  ctx.log.step(`generation ${pair.from.number} → ${pair.to.number}`);
  if (isEmptyDiff(d)) ctx.log.step("no package changes");
  const lines = [...formatDiff(d), ...(closure ? [formatClosureChange(closure)] : [])];
  await writeOut(lines.map((l) => `${l}\n`).join(""));
}
