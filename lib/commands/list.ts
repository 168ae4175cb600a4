/**
 * `fprof list`: the packages of a profile generation, read from its manifest.
 *
 * @module
 */

import { FprofError, UsageError } from "../errors.ts";
import { type Context, VERSION } from "../context.ts";
import { contentsCacheDir, keepListing, readListingCached } from "../profile/contents_cache.ts";
import type { Generation } from "../profile/profile.ts";
import { LocalPlace, withHost } from "../profile/place.ts";
import { placeOf } from "../place.ts";
import { comparePackages } from "../../manifest/names.ts";
import { writeOut } from "../log/log.ts";
import { listJson, type ListOptions, listText } from "../term/list_doc.ts";

export type { ListJson, ListOptions } from "../term/list_doc.ts";

/**
 * What made a kept listing (see {@link listText}): another fprof, or this
 * code changed, never prints one kept by the other. Change it with listText.
 */
const LIST_TEXT_FORMAT = `fprof-list-text/2 fprof ${VERSION}`;

/** Picks the generation to list; pure. */
export function chooseGeneration(
  generations: readonly Generation[],
  current: Generation | null,
  wanted: number | undefined,
): Generation | null {
  if (wanted === undefined) return current;
  const g = generations.find((x) => x.number === wanted);
  if (!g) {
    const have = generations.map((x) => x.number).join(", ") || "none";
    throw new UsageError(`generation ${wanted} does not exist`, {
      hint: `existing generations: ${have}`,
    });
  }
  return g;
}

/** Runs `fprof list`. */
export async function list(opts: ListOptions, ctx: Context): Promise<void> {
  if (opts.drift) {
    if (opts.generation !== undefined) {
      throw new UsageError("--drift compares the current generation; drop --generation");
    }
    if (opts.targetHost !== undefined) {
      throw new UsageError("--drift reads the flake and the profile of this machine", {
        hint: "compare another host's profile with 'fprof switch --dry-run --target-host HOST'",
      });
    }
    const { listDrift } = await import("./list_drift.ts");
    await listDrift(opts, ctx);
    return;
  }
  const place = await placeOf(ctx, opts);
  const profile = place.label;
  const state = await place.read();
  const gen = chooseGeneration(
    state.generations,
    state.current,
    opts.generation,
  );
  if (!gen && state.missing !== undefined) {
    throw new FprofError(
      `the link of generation ${state.missing}, current in '${profile}', was deleted`,
      {
        hint: "list another with --generation N, go back with 'fprof rollback', or switch again",
      },
    );
  }
  if (!gen) {
    if (opts.json) {
      await writeOut(
        JSON.stringify(withHost(listJson(place.profile, null, "none", []), place)) + "\n",
      );
    } else {
      ctx.log.step(`profile '${profile}' has no generations yet`);
    }
    return;
  }
  const cacheDir = contentsCacheDir(ctx.env);
  // The plain listing is kept as printed: a big one prints faster that way.
  // The cache is of this machine's store only.
  const plain = !opts.json && !opts.long && !opts.group && place instanceof LocalPlace;
  const kept = plain ? await readListingCached(gen.storePath, cacheDir, LIST_TEXT_FORMAT) : null;
  if (kept !== null) {
    await writeOut(kept);
    return;
  }
  let contents;
  try {
    contents = place instanceof LocalPlace
      ? await place.contentsCached(gen.storePath)
      : await place.contents(gen.storePath);
  } catch (e) {
    if (e instanceof FprofError) throw e;
    throw new FprofError(
      `cannot read generation ${gen.number} of '${profile}': ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  // In the manifest's order, nix-env -i and nix profile list by install time.
  contents = { ...contents, packages: [...contents.packages].sort(comparePackages) };
  if (opts.group) {
    const { listGrouped } = await import("./list_groups.ts");
    await listGrouped(place, gen, contents, opts, ctx);
    return;
  }
  const out = opts.json
    ? JSON.stringify(
      withHost(listJson(place.profile, gen, contents.manifest, contents.packages), place),
      null,
      2,
    ) + "\n"
    : listText(contents.packages, opts.long ?? false);
  if (plain) {
    await keepListing(
      ctx.log,
      gen.storePath,
      cacheDir,
      LIST_TEXT_FORMAT,
      contents.packages.length,
      out,
    );
  }
  await writeOut(out);
}
