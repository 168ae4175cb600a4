/**
 * `fprof upgrade`: update the flake's inputs, build, show what changes,
 * switch, and pin when pinning is on. The user's `flake.lock` changes only if
 * the switch happens: a dry run, a failed build or a refused switch puts the
 * file back byte for byte.
 *
 * @module
 */

import { join } from "../path.ts";
import { restoreBytes } from "../safe_write.ts";
import { readBytesOrNull } from "../fs.ts";
import type { Context } from "../context.ts";
import { UsageError } from "../errors.ts";
import { parseInstallable } from "../nix/installable.ts";
import { chooseFlake, localFlakeDir } from "../nix/flake_ref.ts";
import { parseFlakeLock } from "../nix/flake_lock.ts";
import { homeDir } from "../xdg.ts";
import { checkSwitchJsonOptions } from "../term/switch_json.ts";
import { type SwitchOptions, switchProfile, type SwitchResult } from "./switch.ts";

/** Options of `fprof upgrade`. */
export interface UpgradeOptions extends SwitchOptions {
  /** Update only these inputs (all of them when empty). */
  input?: string[];
}

/** Runs `fprof upgrade`. */
export async function upgrade(
  flakeArg: string | undefined,
  opts: UpgradeOptions,
  ctx: Context,
): Promise<SwitchResult> {
  // Refused before the lock file is touched, as switch would refuse it after.
  checkSwitchJsonOptions(opts);
  const chosen = await chooseFlake(flakeArg, ctx.config.flake, ctx.env);
  const text = chosen.ref;
  const installable = parseInstallable(text, ctx.nix.storeDir);
  if (installable.kind !== "flake") {
    throw new UsageError(`'${text}' is a store path; upgrade needs a flake`);
  }
  const dir = localFlakeDir(installable.ref, Deno.cwd(), homeDir(ctx.env));
  if (dir === null) {
    throw new UsageError(`cannot upgrade '${installable.ref}': it is not a flake on this machine`, {
      hint: "upgrade updates the flake's own flake.lock, so it needs a local flake (a path)",
    });
  }
  const lockFile = join(dir, "flake.lock");
  const saved = await readBytesOrNull(lockFile);
  const inputs = opts.input ?? [];
  if (saved !== null) checkInputNames(inputs, new TextDecoder().decode(saved), lockFile);
  ctx.log.step(
    `updating ${
      inputs.length ? `input${inputs.length > 1 ? "s" : ""} ${inputs.join(", ")}` : "all inputs"
    } of '${installable.ref}'${chosen.from ? ` (${chosen.from})` : ""}`,
  );
  let keep = false;
  try {
    await ctx.nix.updateFlakeInputs(installable.ref, inputs);
    // Without a lock file to check the names against beforehand, they are
    // checked against the one Nix just wrote (put back by `restore`).
    if (saved === null && inputs.length > 0) {
      const made = await readBytesOrNull(lockFile);
      const lockText = made === null ? EMPTY_LOCK : new TextDecoder().decode(made);
      checkInputNames(inputs, lockText, lockFile);
    }
    const result = await switchProfile(text, opts, ctx);
    // switchProfile also pins the new lock when pinning is on (--pin, or
    // the config's `pin`), so the pins follow the upgraded inputs.
    keep = result.action !== "dry-run";
    return result;
  } finally {
    if (!keep) await restore(lockFile, saved, ctx);
  }
}

/** The lock file of a flake without inputs. */
const EMPTY_LOCK = JSON.stringify({ nodes: { root: {} }, root: "root", version: 7 });

/**
 * Refuses input names the lock file does not know (an input path such as
 * `a/b` is checked by its first name), which Nix would skip without a word.
 */
function checkInputNames(inputs: readonly string[], lockText: string, lockFile: string): void {
  if (inputs.length === 0) return;
  const lock = parseFlakeLock(lockText, lockFile);
  const known = Object.keys(lock.nodes[lock.root]?.inputs ?? {});
  const unknown = inputs.filter((i) => !known.includes(i.split("/")[0]));
  if (unknown.length > 0) {
    throw new UsageError(
      `the flake has no input ${unknown.map((i) => `'${i}'`).join(", ")} in '${lockFile}'`,
      { hint: known.length ? `its inputs are: ${known.join(", ")}` : "the flake has no inputs" },
    );
  }
}

/** Puts the lock file back as it was (or removes it if there was none). */
async function restore(lockFile: string, saved: Uint8Array | null, ctx: Context): Promise<void> {
  if (await restoreBytes(lockFile, saved)) ctx.log.step(`left '${lockFile}' as it was`);
}
