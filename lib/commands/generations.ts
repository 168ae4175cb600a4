/**
 * `fprof generations`: a profile's generations with their parents and sources.
 *
 * @module
 */

import { type Context, profileOf } from "../context.ts";
import { writeOut } from "../log.ts";
import { type ProfileState, readProfile } from "../profile.ts";
import { loadRecords, recordOf, type RecordsFile } from "../records.ts";

/** Options of `fprof generations`. */
export interface GenerationsOptions {
  profile?: string;
  json?: boolean;
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
  source: { flake: string; lockedUrl?: string; attr?: string } | null;
}

/** Builds the listing; pure. */
export function generationsJson(state: ProfileState, records: RecordsFile): {
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
          }
          : null,
      };
    }),
  };
}

/** Formats the table; pure. */
export function generationsText(gens: readonly GenerationJson[]): string {
  const rows = gens.map((g) => [
    `${g.number}${g.current ? "*" : ""}`,
    g.date.slice(0, 19).replace("T", " "),
    g.madeByFprof ? (g.parent === null ? "-" : `← ${g.parent}`) : "(other tool)",
    g.source ? (g.source.attr ? `${g.source.flake}#${g.source.attr}` : g.source.flake) : "",
  ]);
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) =>
    r.map((c, i) => (i < 3 ? c.padEnd(widths[i]) : c)).join("  ").trimEnd() +
    "\n"
  )
    .join("");
}

/** Runs `fprof generations`. */
export async function generations(
  opts: GenerationsOptions,
  ctx: Context,
): Promise<void> {
  const profile = await profileOf(ctx, opts.profile);
  const state = await readProfile(profile);
  const data = generationsJson(state, await loadRecords(profile, ctx.env));
  if (opts.json) {
    await writeOut(JSON.stringify(data, null, 2) + "\n");
  } else if (data.generations.length === 0) {
    ctx.log.step(`profile '${profile}' has no generations yet`);
  } else {
    await writeOut(generationsText(data.generations));
  }
}
