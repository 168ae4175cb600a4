/**
 * Reads the `passthru.fprof` record of a flake's profile environment (see
 * lib/flake/flake_info.ts) with one `nix eval`.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { FprofError } from "../errors.ts";
import type { Logger } from "../log/log.ts";
import {
  FPROF_RECORD_APPLY,
  type FprofRecord,
  FprofRecordError,
  parseFprofRecord,
} from "./flake_info.ts";

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
  const name = `${flake.ref}#${flake.attr}`;
  try {
    const value = await ctx.nix.evalFlakeJson(name, FPROF_RECORD_APPLY, flakeArgs);
    return parseRecordOrWarn(value, name, ctx.log);
  } catch (e) {
    if (!(e instanceof FprofError)) throw e;
    ctx.log.warn(`ignoring the package record of '${name}': ${e.message}`);
    return null;
  }
}

/**
 * The record in `value` (the JSON of `passthru.fprof`), or `null` with a
 * warning when fprof cannot read it: the switch then goes on with the
 * environment's references, as for any other buildEnv.
 */
export function parseRecordOrWarn(
  value: unknown,
  name: string,
  log: Pick<Logger, "warn">,
): FprofRecord | null {
  try {
    return parseFprofRecord(value);
  } catch (e) {
    if (!(e instanceof FprofRecordError)) throw e;
    log.warn(`ignoring the package record of '${name}': ${e.message}`);
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
