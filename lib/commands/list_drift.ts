/**
 * `fprof list --drift`: the packages the profile holds that the flake does
 * not declare (added by `nix-env -i` or `nix profile install`), and the other
 * way round, found by building the flake's declaration.
 *
 * @module
 */

import { type Context, tmpRoot } from "../context.ts";
import { profileOf } from "../place.ts";
import {
  diffPackages,
  formatDiff,
  type PackageDiffJson,
  packageDiffJson,
} from "../profile/diff.ts";
import { FprofError } from "../errors.ts";
import { RunRoots } from "../nix/gc_roots.ts";
import { packagesFromReferences, readGenerationContents } from "../profile/generation.ts";
import { parseInstallable } from "../nix/installable.ts";
import { writeOut } from "../log/log.ts";
import { readProfile } from "../profile/profile.ts";
import { type GenerationRecord, recordOf, type RecordsFile } from "../profile/records.ts";
import { loadRecords } from "../profile/records.ts";
import type { ProfileState } from "../profile/profile.ts";
import { buildEnv } from "./switch.ts";

/** The `--json` document of `fprof list --drift`. */
export interface DriftJson {
  profile: string;
  generation: number;
  /** The flake (with `#attr` when known) the profile was compared with. */
  flake: string;
  /** Packages in the profile that the flake does not declare. */
  extra: PackageDiffJson["added"];
  /** Packages the flake declares that the profile lacks. */
  missing: PackageDiffJson["removed"];
  /** Packages in both, at other versions: `from` is the flake's, `to` the profile's. */
  changed: PackageDiffJson["changed"];
}

/**
 * The flake that declares the profile; pure: the current generation's record,
 * else the newest generation fprof made, else the config's `flake`.
 */
export function declaringFlake(
  state: ProfileState,
  records: RecordsFile,
  configured: string | undefined,
): string | undefined {
  const withSource = (r: GenerationRecord | undefined) =>
    r?.flake ? (r.attr ? `${r.flake}#${r.attr}` : r.flake) : undefined;
  const own = state.current ? withSource(recordOf(records, state.current)) : undefined;
  if (own) return own;
  for (const g of [...state.generations].reverse()) {
    const found = withSource(recordOf(records, g));
    if (found) return found;
  }
  return configured;
}

/** Runs `fprof list --drift`. */
export async function listDrift(
  opts: { profile?: string; json?: boolean },
  ctx: Context,
): Promise<void> {
  const profile = await profileOf(ctx, opts.profile);
  const state = await readProfile(profile);
  if (!state.current) {
    throw new FprofError(`profile '${profile}' has no generations yet`, {
      hint: "make its first generation with 'fprof switch', or check --profile",
    });
  }
  const flake = declaringFlake(state, await loadRecords(profile, ctx.env), ctx.config.flake);
  if (!flake) {
    throw new FprofError("no flake is known to declare this profile", {
      hint: "switch to it once with 'fprof switch FLAKE', or set 'flake' in the config",
    });
  }
  const installable = parseInstallable(flake, ctx.nix.storeDir);
  await using roots = await RunRoots.open(ctx.nix, tmpRoot(ctx));
  const [built, contents] = await Promise.all([
    buildEnv(installable, ctx, [], roots),
    readGenerationContents(ctx.nix, state.current.storePath),
  ]);
  const info = await ctx.nix.pathInfo([built.envPath]);
  const declared = packagesFromReferences(built.envPath, info[0]?.references ?? []);
  const d = diffPackages(declared, contents.packages);
  if (opts.json) {
    const j = packageDiffJson(d);
    const doc: DriftJson = {
      profile,
      generation: state.current.number,
      flake,
      extra: j.added,
      missing: j.removed,
      changed: j.changed,
    };
    await writeOut(JSON.stringify(doc, null, 2) + "\n");
    return;
  }
  const lines = formatDiff(d);
  if (lines.length === 0) {
    ctx.log.step(`generation ${state.current.number} holds exactly what '${flake}' declares`);
    return;
  }
  ctx.log.step(
    `generation ${state.current.number} against '${flake}': ` +
      "+ only in the profile, - only in the flake, ~ flake's version → profile's",
  );
  await writeOut(lines.map((l) => `${l}\n`).join(""));
}
