/**
 * Reads the `passthru.fprof` record of a flake's profile environment (see
 * lib/nix/flake_info.ts) with one `nix eval`.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { FprofError } from "../errors.ts";
import { FPROF_RECORD_APPLY, type FprofRecord, parseFprofRecord } from "./flake_info.ts";

/**
 * The record of `ref#attr`, or `null` when the environment has none (any
 * buildEnv not made by `lib.mkProfile`). A record that cannot be read only
 * warns: the switch goes on with the environment's references, as it would
 * for any other buildEnv.
 */
export async function readEnvRecord(
  ctx: Context,
  flake: { ref: string; attr: string },
  flakeArgs: readonly string[],
): Promise<FprofRecord | null> {
  try {
    const value = await ctx.nix.evalFlakeJson(
      `${flake.ref}#${flake.attr}`,
      FPROF_RECORD_APPLY,
      flakeArgs,
    );
    return parseFprofRecord(value);
  } catch (e) {
    if (!(e instanceof FprofError) && !(e instanceof Error && e.name === "FprofRecordError")) {
      throw e;
    }
    ctx.log.warn(
      `ignoring the package record of '${flake.ref}#${flake.attr}': ${(e as Error).message}`,
    );
    return null;
  }
}

/**
 * `--override-input NAME=REF` values as Nix's flake options. Pure.
 *
 * @example
 * ```ts
 * import { overrideInputArgs } from "./env_record.ts";
 * overrideInputArgs(["nixpkgs=path:/src/nixpkgs"]);
 * // ["--override-input", "nixpkgs", "path:/src/nixpkgs"]
 * ```
 */
export function overrideInputArgs(values: readonly string[] = []): string[] {
  return values.flatMap((v) => {
    const eq = v.indexOf("=");
    return ["--override-input", v.slice(0, eq), v.slice(eq + 1)];
  });
}
