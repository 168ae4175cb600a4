/**
 * `fprof completions bash|zsh|fish`: print a completion script, and the
 * hidden `fprof __complete generations|deletable|inputs|commands` the scripts call back for
 * values that depend on the machine.
 *
 * @module
 */

import { join } from "../path.ts";
import type { Command } from "@commander-js/extra-typings";
import { completionScript, lockInputNames, programSpec, type Shell } from "../term/completions.ts";
import type { Context } from "../context.ts";
import { profileOf } from "../place.ts";
import { chooseFlake, localFlakeDir } from "../nix/flake_ref.ts";
import { writeOut } from "../log/log.ts";
import { readProfile } from "../profile/profile.ts";
import { commandsOf } from "../profile/provided.ts";

/** Prints the completion script of `program` for `shell`. */
// deno-lint-ignore no-explicit-any
export async function completions(shell: Shell, program: Command<any, any, any>): Promise<void> {
  await writeOut(completionScript(programSpec(program), shell));
}

/** What `fprof __complete` can list. */
export const COMPLETE_KINDS = ["generations", "deletable", "inputs", "commands"] as const;

/**
 * Prints one value per line for shell completion, fast and without Nix.
 * Any failure prints nothing: a completion must never show an error.
 */
export async function complete(
  kind: typeof COMPLETE_KINDS[number],
  opts: { profile?: string },
  ctx: Context,
): Promise<void> {
  try {
    if (kind === "generations" || kind === "deletable") {
      const state = await readProfile(await profileOf(ctx, opts.profile));
      // `generations --delete` refuses the current generation: offer it only elsewhere.
      const offered = kind === "deletable"
        ? state.generations.filter((g) => g.number !== state.current?.number)
        : state.generations;
      await writeOut(offered.map((g) => `${g.number}\n`).join(""));
      return;
    }
    if (kind === "commands") {
      const profile = await profileOf(ctx, opts.profile);
      await writeOut(commandsOf(profile).sort().map((c) => `${c}\n`).join(""));
      return;
    }
    // The flake a bare `fprof upgrade` or `fprof pin` would use.
    const { ref } = await chooseFlake(undefined, ctx.config.flake, ctx.env);
    const dir = localFlakeDir(ref, Deno.cwd(), ctx.env.get("HOME") ?? "/");
    if (!dir) return;
    const text = await Deno.readTextFile(join(dir, "flake.lock"));
    await writeOut(lockInputNames(text).map((n) => `${n}\n`).join(""));
  } catch {
    // Nothing to offer.
  }
}
