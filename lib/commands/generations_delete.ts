/**
 * `fprof generations --delete N… | --older-than AGE | --keep N`: removes
 * generations with `nix-env --delete-generations`, never the current one, and
 * re-parents the records so that rollback still lands on a living ancestor.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { UsageError } from "../errors.ts";
import { writeOut } from "../log/log.ts";
import { type DeleteRequest, parseAge, planDeletion, reparentRecords } from "../profile/prune.ts";
import { readProfile, withProfileLock } from "../profile/profile.ts";
import { loadRecords, saveRecords } from "../profile/records.ts";

/** The options of `fprof generations` that a deletion reads. */
export interface DeleteOptions {
  /** Delete these generations. */
  delete?: number[];
  /** Delete generations older than this age, such as `30d`. */
  olderThan?: string;
  /** Delete all but the newest N generations. */
  keep?: number;
  dryRun?: boolean;
  json?: boolean;
}

/** Turns the three options into one request; exactly one may be given. Pure. */
export function deleteRequest(opts: DeleteOptions): DeleteRequest {
  const given = [opts.delete, opts.olderThan, opts.keep].filter((x) => x !== undefined);
  if (given.length !== 1) {
    throw new UsageError("give one of --delete, --older-than and --keep");
  }
  if (opts.delete) return { kind: "numbers", numbers: opts.delete };
  if (opts.olderThan !== undefined) return { kind: "olderThan", ms: parseAge(opts.olderThan) };
  return { kind: "keep", count: opts.keep! };
}

/** The `--json` document of a deletion: what went, or would go with `--dry-run`. */
export interface DeletionJson {
  profile: string;
  dryRun: boolean;
  /** The generation numbers, ascending; empty when none matched. */
  deleted: number[];
}

/** Runs the deletion. */
export async function deleteGenerations(
  profile: string,
  opts: DeleteOptions,
  ctx: Context,
): Promise<void> {
  const req = deleteRequest(opts);
  const state = await readProfile(profile);
  const doomed = planDeletion(state, req, new Date());
  const report = (deleted: number[]) =>
    opts.json
      ? writeOut(JSON.stringify({ profile, dryRun: opts.dryRun ?? false, deleted }) + "\n")
      : Promise.resolve();
  if (doomed.length === 0) {
    ctx.log.step("no generations to delete");
    return await report([]);
  }
  const list = doomed.join(", ");
  if (opts.dryRun) {
    if (opts.json) return await report(doomed);
    await writeOut(`would delete generations ${list} of '${profile}'\n`);
    return;
  }
  // nix-env takes the profile lock itself, so fprof must not hold it here;
  // the records are brought in line under the lock afterwards, from what is
  // left on disk, so a concurrent change is seen too.
  await ctx.nix.deleteGenerations(profile, doomed);
  await withProfileLock(
    profile,
    () => ctx.log.step(`waiting for the lock on '${profile}'`),
    async () => {
      const after = await readProfile(profile);
      const records = await loadRecords(profile, ctx.env);
      // A profile fprof never switched has no records to keep in line.
      if (Object.keys(records.generations).length === 0) return;
      await saveRecords(reparentRecords(records, after.generations), ctx.env);
    },
  );
  ctx.log.step(`deleted generations ${list} of '${profile}'`);
  await report(doomed);
  ctx.log.hint("run 'nix-collect-garbage' to reclaim the space they used");
}
