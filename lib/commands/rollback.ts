/**
 * `fprof rollback`: go back to the generation that was current when this one
 * was made (its parent), not to the next lower number (NixOS/nix#311).
 *
 * @module
 */

import type { Context } from "../context.ts";
import type { ProfilePlace } from "../profile/place.ts";
import { placeOf } from "../place.ts";
import { FprofError, UsageError } from "../errors.ts";
import { writeOut } from "../log/log.ts";
import { currentOrMissing } from "../profile/profile.ts";
import { loadRecords, planRollback, recordOf, type RollbackPlan } from "../profile/records.ts";
import type { ProfileState } from "../profile/profile.ts";
import type { RecordsFile } from "../profile/records.ts";
import {
  type DiffMode,
  type PackageDiff,
  type PackageDiffJson,
  packageDiffJson,
} from "../profile/diff.ts";
import { closureChange, diffStorePaths, showDiff } from "../term/show_diff.ts";
import { loadPinState, pinsDifferNote } from "../nix/pins.ts";

/** Options of `fprof rollback`. */
export interface RollbackOptions {
  profile?: string;
  /** `[USER@]HOST` whose profile to roll back. */
  targetHost?: string;
  to?: number;
  dryRun?: boolean;
  force?: boolean;
  /** How much of the diff to print before rolling back (default `auto`). */
  diff?: DiffMode;
  /** Print what was done (or, with `dryRun`, would be) as JSON on stdout. */
  json?: boolean;
}

/** The document `fprof rollback --json` prints (schema in docs/commands.md). */
export interface RollbackJson {
  profile: string;
  host?: string;
  /** `rolled-back`, `dry-run`, or `none` when the target is current already. */
  action: "rolled-back" | "dry-run" | "none";
  from: { generation: number; storePath: string };
  to: { generation: number; storePath: string };
  /** Why that generation: see {@link RollbackPlan.reason}. */
  reason: RollbackPlan["reason"];
  skipped: number[];
  /** What changes, or null when the current generation's link is gone. */
  packages: PackageDiffJson | null;
}

/** Builds the `--json` document of a rollback; pure. */
export function rollbackJson(args: {
  profile: string;
  host?: string;
  action: RollbackJson["action"];
  plan: RollbackPlan;
  diff: PackageDiff | undefined;
}): RollbackJson {
  const gen = (g: RollbackPlan["from"]) => ({ generation: g.number, storePath: g.storePath });
  return {
    profile: args.profile,
    ...(args.host !== undefined ? { host: args.host } : {}),
    action: args.action,
    from: gen(args.plan.from),
    to: gen(args.plan.to),
    reason: args.plan.reason,
    skipped: args.plan.skipped,
    packages: args.diff ? packageDiffJson(args.diff) : null,
  };
}

/** Chooses the target: `--to N` or the parent; pure. */
export function planRollbackTo(
  state: ProfileState,
  records: RecordsFile,
  to: number | undefined,
): RollbackPlan {
  // A current link deleted by hand is rolled back from, as nix-env does.
  const from = currentOrMissing(state);
  if (!from) {
    throw new FprofError(`profile '${state.profile}' has no generations yet`, {
      hint: "make its first generation with 'fprof switch', or check --profile",
    });
  }
  if (to !== undefined) {
    const g = state.generations.find((x) => x.number === to);
    if (!g) {
      throw new UsageError(`generation ${to} does not exist`, {
        hint: `existing generations: ${state.generations.map((x) => x.number).join(", ")}`,
      });
    }
    return { from, to: g, reason: "parent", skipped: [] };
  }
  const plan = planRollback({ ...state, current: from }, records);
  if (!plan) {
    throw new FprofError(
      `generation ${from.number} has no earlier generation to roll back to`,
      { hint: "'fprof generations' lists the generations; 'fprof switch' makes a new one" },
    );
  }
  return plan;
}

/** Explains the plan in one line; pure. */
export function describeRollback(
  plan: RollbackPlan,
  explicit: boolean,
): string {
  const head = `generation ${plan.from.number} → ${plan.to.number}`;
  if (explicit) return head;
  switch (plan.reason) {
    case "parent":
      return `${head} (its parent)`;
    case "ancestor":
      return `${head} (its nearest living ancestor; ${plan.skipped.join(", ")} no longer exist)`;
    case "previous":
      if (plan.from.storePath === "") {
        return `${head} (the link of generation ${plan.from.number} was deleted, so going to the previous number as nix-env does)`;
      }
      return plan.skipped.length
        ? `${head} (its recorded ancestors ${
          plan.skipped.join(", ")
        } no longer exist, so going to the previous number as nix-env does)`
        : `${head} (generation ${plan.from.number} was not made by fprof, so going to the previous number as nix-env does)`;
  }
}

/** Runs `fprof rollback`. */
export async function rollback(
  opts: RollbackOptions,
  ctx: Context,
): Promise<void> {
  const place = await placeOf(ctx, opts);
  const profile = place.label;
  // Taking the lock makes the profile's directory and lock file, which a
  // mistyped --profile must not leave behind: judge the profile first, and
  // again under the lock, where it counts.
  planRollbackTo(await place.read(), await loadRecords(place.recordsKey, ctx.env), opts.to);
  await place.withLock(
    () => ctx.log.step(`waiting for the lock on '${profile}'`),
    async () => {
      const state = await place.read();
      const records = await loadRecords(place.recordsKey, ctx.env);
      const plan = planRollbackTo(state, records, opts.to);
      const line = describeRollback(plan, opts.to !== undefined);
      const json = (action: RollbackJson["action"]) => printRollbackJson(ctx, place, plan, action);
      if (plan.to.number === plan.from.number) {
        ctx.log.step(`generation ${plan.to.number} is already current`);
        if (opts.json) await json("none");
        return;
      }
      const show = (dryRun: boolean) => showRollbackDiff(ctx, place, plan, opts.diff, dryRun);
      if (opts.dryRun) {
        if (opts.json) return await json("dry-run");
        await writeOut(`would roll back '${profile}': ${line}\n`);
        await show(true);
        return;
      }
      await refuseDroppingNix(place, plan, opts.force ?? false);
      if (!opts.json) await show(false);
      await place.switchTo(plan.to);
      ctx.log.step(`rolled back '${profile}': ${line}`);
      if (opts.json) await json("rolled-back");
      // Pins are this machine's settings: they say nothing of another host.
      if (place.host === undefined) await notePins(plan, records, ctx);
    },
  );
}

/** Prints the `--json` document, with the package diff. */
async function printRollbackJson(
  ctx: Context,
  place: ProfilePlace,
  plan: RollbackPlan,
  action: RollbackJson["action"],
): Promise<void> {
  const diff = plan.from.storePath === ""
    ? undefined
    : await diffStorePaths(ctx, place, plan.from.storePath, plan.to.storePath);
  const doc = rollbackJson({ profile: place.profile, host: place.host, action, plan, diff });
  await writeOut(JSON.stringify(doc, null, 2) + "\n");
}

/** The package diff of a rollback, as `--diff` asks. */
async function showRollbackDiff(
  ctx: Context,
  place: ProfilePlace,
  plan: RollbackPlan,
  mode: DiffMode = "auto",
  dryRun: boolean,
): Promise<void> {
  const diff = mode === "never" || plan.from.storePath === ""
    ? undefined
    : await diffStorePaths(ctx, place, plan.from.storePath, plan.to.storePath);
  if (!diff) return;
  const sizer = (paths: readonly string[]) => place.closureSizes(paths);
  await showDiff(ctx, {
    diff,
    mode,
    dryRun,
    closure: () =>
      closureChange(ctx, plan.from.storePath, { basePath: plan.to.storePath }, {
        from: sizer,
        to: sizer,
      }),
  });
}

/** Refuses to roll back to a generation without `bin/nix` from one with it. */
async function refuseDroppingNix(
  place: ProfilePlace,
  plan: RollbackPlan,
  force: boolean,
): Promise<void> {
  if (force || plan.from.storePath === "") return;
  await place.prefetch?.([plan.from.storePath, plan.to.storePath]);
  if (
    await place.providesNix(plan.from.storePath) && !(await place.providesNix(plan.to.storePath))
  ) {
    throw new FprofError(
      `refusing to roll back: generation ${plan.from.number} provides 'bin/nix' and ${plan.to.number} does not`,
      { hint: "pass --force if Nix is installed elsewhere" },
    );
  }
}

/** Warns when the generation rolled back to was built with other pins than the current ones. */
async function notePins(plan: RollbackPlan, records: RecordsFile, ctx: Context): Promise<void> {
  const note = pinsDifferNote(
    plan.to.number,
    recordOf(records, plan.to)?.pins,
    await loadPinState("user", ctx.env),
  );
  if (note) {
    ctx.log.warn(note);
    ctx.log.hint("run 'fprof pin --from-generation' to pin what this generation was built with");
  }
}
