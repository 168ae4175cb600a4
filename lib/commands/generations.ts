/**
 * `fprof generations`: a profile's generations with their parents and sources.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { UsageError } from "../errors.ts";
import { writeOut } from "../log/log.ts";
import type { ProfileState } from "../profile/profile.ts";
import { LocalPlace, type ProfilePlace, withHost } from "../profile/place.ts";
import { placeOf, profileOf } from "../place.ts";
import { loadRecords, recordOf, type RecordsFile } from "../profile/records.ts";
import { contentsCacheDir, countGenerationPackagesCached } from "../profile/contents_cache.ts";
import { drawTree } from "../profile/generation_tree.ts";
import type { DeleteOptions } from "./generations_delete.ts";

/** Options of `fprof generations`; the deletion's are in `generations_delete.ts`. */
export interface GenerationsOptions extends DeleteOptions {
  profile?: string;
  /** `[USER@]HOST` whose profile to show. */
  targetHost?: string;
  /** Draw the parent tree instead of the table. */
  tree?: boolean;
}

/** One generation in `fprof generations --json`. */
export interface GenerationJson {
  number: number;
  date: string;
  current: boolean;
  storePath: string;
  /** The recorded parent, or null when fprof did not make this generation. */
  parent: number | null;
  /** Whether fprof made it (and so knows its parent and source). */
  madeByFprof: boolean;
  source: { flake: string; lockedUrl?: string; attr?: string; revision?: string } | null;
  /** How many packages it holds, or null when it cannot be read. */
  packageCount: number | null;
}

/** Builds the listing; pure. */
export function generationsJson(
  state: ProfileState,
  records: RecordsFile,
  counts: ReadonlyMap<number, number> = new Map(),
): {
  profile: string;
  current: number | null;
  generations: GenerationJson[];
} {
  return {
    profile: state.profile,
    current: state.current?.number ?? null,
    generations: state.generations.map((g) => {
      const r = recordOf(records, g);
      return {
        number: g.number,
        date: g.date.toISOString(),
        current: g.number === state.current?.number,
        storePath: g.storePath,
        parent: r?.parent ?? null,
        madeByFprof: r !== undefined,
        source: r?.flake
          ? {
            flake: r.flake,
            ...(r.lockedUrl ? { lockedUrl: r.lockedUrl } : {}),
            ...(r.attr ? { attr: r.attr } : {}),
            ...(r.revision ? { revision: r.revision } : {}),
          }
          : null,
        packageCount: counts.get(g.number) ?? null,
      };
    }),
  };
}

/** `path:/x#profile @ 1a2b3c4`, or "" for no source; pure. */
export function sourceText(source: GenerationJson["source"]): string {
  if (!source) return "";
  const ref = source.attr ? `${source.flake}#${source.attr}` : source.flake;
  return source.revision ? `${ref} @ ${source.revision.slice(0, 7)}` : ref;
}

/** One generation's line in the tree, after its number; pure. */
function treeLabel(g: GenerationJson): string {
  const count = g.packageCount === null
    ? "? packages"
    : `${g.packageCount} package${g.packageCount === 1 ? "" : "s"}`;
  const source = g.madeByFprof ? sourceText(g.source) : "(made by another tool)";
  return [g.date.slice(0, 16).replace("T", " "), count, source].join("  ");
}

/** Formats the parent tree; pure. */
export function generationsTree(gens: readonly GenerationJson[]): string {
  return drawTree(gens.map((g) => ({
    number: g.number,
    current: g.current,
    parent: g.madeByFprof ? g.parent : null,
    label: treeLabel(g),
  }))).map((l) => `${l}\n`).join("");
}

/** Formats the table, under a header line; pure. */
export function generationsText(gens: readonly GenerationJson[]): string {
  const header = ["GEN", "DATE", "PARENT", "PACKAGES", "SOURCE"];
  const rows = [
    header,
    ...gens.map((g) => [
      `${g.number}${g.current ? "*" : ""}`,
      g.date.slice(0, 19).replace("T", " "),
      g.madeByFprof ? (g.parent === null ? "-" : `← ${g.parent}`) : "(other tool)",
      g.packageCount === null ? "?" : String(g.packageCount),
      sourceText(g.source),
    ]),
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) =>
    r.map((c, i) => (i < 4 ? (i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i])) : c))
      .join("  ").trimEnd() +
    "\n"
  )
    .join("");
}

/** Runs `fprof generations`. */
export async function generations(
  opts: GenerationsOptions,
  ctx: Context,
): Promise<void> {
  if (opts.delete || opts.olderThan !== undefined || opts.keep !== undefined) {
    if (opts.targetHost !== undefined) {
      throw new UsageError("deleting generations works on the profiles of this machine", {
        hint: `run 'nix-env --delete-generations' there: ssh ${opts.targetHost} nix-env ...`,
      });
    }
    const { deleteGenerations } = await import("./generations_delete.ts");
    await deleteGenerations(await profileOf(ctx, opts.profile), opts, ctx);
    return;
  }
  const place = await placeOf(ctx, opts);
  const profile = place.label;
  const state = await place.read();
  const data = generationsJson(
    state,
    await loadRecords(place.recordsKey, ctx.env),
    await packageCounts(state, place, ctx),
  );
  if (opts.json) {
    await writeOut(JSON.stringify(withHost(data, place), null, 2) + "\n");
  } else if (data.generations.length === 0) {
    ctx.log.step(`profile '${profile}' has no generations yet`);
  } else if (opts.tree) {
    await writeOut(generationsTree(data.generations));
  } else {
    await writeOut(generationsText(data.generations));
  }
}

/**
 * Package counts of every generation. Reading a manifest is a file read; a
 * generation with none costs a `nix-store` call, so a few run at a time.
 */
async function packageCounts(
  state: ProfileState,
  place: ProfilePlace,
  ctx: Context,
): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  if (!(place instanceof LocalPlace)) {
    await place.prefetch?.(state.generations.map((g) => g.storePath));
  }
  const cacheDir = contentsCacheDir(ctx.env);
  const count = place instanceof LocalPlace
    ? (path: string) => countGenerationPackagesCached(ctx.nix, path, cacheDir)
    : async (path: string) => (await place.contents(path)).packages.length;
  const queue = [...state.generations];
  const worker = async () => {
    for (let g = queue.shift(); g; g = queue.shift()) {
      try {
        counts.set(g.number, await count(g.storePath));
      } catch (e) {
        ctx.log.debug(
          `cannot count the packages of generation ${g.number}: ${(e as Error).message}`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return counts;
}
