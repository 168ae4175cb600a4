/**
 * `fprof pin`: make the nixpkgs that the profile flake is locked to the one
 * everything else resolves to (`nixpkgs#…` through the registry, `<nixpkgs>`
 * through `nix-path` and the channels profile), from the store, with no
 * channel and no network.
 *
 * One file per mode: `plan.ts` reads the lock file and the files to change
 * and computes their new texts; `apply.ts` writes them after every check has
 * passed, so bad input changes nothing; `unpin.ts` and `status.ts` are
 * `--unpin` and `--status`. This file chooses the mode, and pins what a
 * switch used (`switch --pin`).
 *
 * @module
 */

import type { Context } from "../../context.ts";
import { FprofError, UsageError } from "../../errors.ts";
import type { PinScope } from "../../nix/pins.ts";
import { profileOf } from "../../place.ts";
import { readProfile, withProfileLock } from "../../profile/profile.ts";
import { loadRecords, recordOf, saveRecords } from "../../profile/records.ts";
import { applyPins, withPinLock } from "./apply.ts";
import { type PinOptions, readPins } from "./plan.ts";
import { status } from "./status.ts";
import { unpin } from "./unpin.ts";

/** Runs `fprof pin`. */
export async function pin(flakeArg: string | undefined, opts: PinOptions, ctx: Context) {
  const scope: PinScope = opts.system ? "system" : "user";
  const modes = [opts.status, opts.unpin, opts.fromGeneration !== undefined].filter(Boolean);
  if (modes.length > 1) {
    throw new UsageError("--status, --unpin and --from-generation cannot be combined");
  }
  if (opts.system && Deno.uid() !== 0) {
    throw new UsageError("--system changes the system-wide registry and is only allowed as root");
  }
  if (opts.status) return await status(scope, opts, ctx);
  if (opts.unpin) return await withPinLock(ctx, () => unpin(scope, opts, ctx));
  if (opts.fromGeneration !== undefined) {
    const profile = await profileOf(ctx, opts.profile);
    const state = await readProfile(profile);
    const n = opts.fromGeneration === true ? state.current?.number : opts.fromGeneration;
    const gen = state.generations.find((g) => g.number === n);
    if (!gen) throw new UsageError(`profile '${profile}' has no generation ${n ?? ""}`.trim());
    const rec = recordOf(await loadRecords(profile, ctx.env), gen);
    if (!rec?.pins?.length) {
      throw new FprofError(`generation ${gen.number} has no recorded pins`, {
        hint: "pins are recorded by 'fprof switch --pin' or the config's \"pin\": true",
      });
    }
    await applyPins(scope, rec.pins, rec.flake ?? "", opts, ctx);
    return;
  }
  const { dir, pins } = await readPins(flakeArg, opts.input, ctx);
  await applyPins(scope, pins, dir, opts, ctx);
}

/** Pins the inputs of the flake a switch used, and notes them in the new generation's record. */
export async function pinAfterSwitch(flakeRef: string, profile: string, ctx: Context) {
  const { dir, pins } = await readPins(flakeRef, undefined, ctx);
  await applyPins("user", pins, dir, {}, ctx);
  // The records are shared with concurrent switches, which write them under
  // the profile lock; so does this.
  await withProfileLock(profile, () => {}, async () => {
    const state = await readProfile(profile);
    if (!state.current) return;
    const records = await loadRecords(profile, ctx.env);
    const rec = recordOf(records, state.current);
    if (!rec) return;
    rec.pins = pins;
    await saveRecords(records, ctx.env);
  });
}
