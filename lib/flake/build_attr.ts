/**
 * Building one attribute of a locked flake with one evaluation.
 *
 * `nix build FLAKE#ATTR` evaluates the profile, and reading its record with
 * `nix eval --apply` evaluates it again (an `--apply` is never served from
 * Nix's eval cache). Here one `nix eval` answers both the derivation and the
 * record, and the derivation is then built by its store path, which
 * evaluates nothing.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { FprofError } from "../errors.ts";
import { FPROF_EVAL_APPLY } from "./flake_info.ts";
import { BUILD_HINT, type BuildResult, derivationOutputsInstallable } from "../nix/nix.ts";
import { EvalCache, evalCacheDir } from "./eval_cache.ts";

/** What building an attribute gave. */
export interface BuiltAttr {
  envPath: string;
  /** The `passthru.fprof` record as Nix gave it; `undefined` when it was not read. */
  record?: unknown;
}

/** How to build: the flake options, a result link, and where to build. */
export interface BuildAttrHow {
  flakeArgs: readonly string[];
  /** How the user named the attribute, for messages. */
  label: string;
  /** A result link that roots the build, or none. */
  outLink?: string;
  /** Store options of a build host; with any, Nix builds the attribute itself. */
  storeArgs: readonly string[];
  /** Whether a failed build of the derivation means it was collected meanwhile. */
  collected: (e: unknown) => boolean;
}

/**
 * Builds `installable` (a locked `FLAKE#ATTR`) with one evaluation: its
 * derivation and record come from one `nix eval`, then its outputs are
 * built from the derivation. Something that is no derivation, a build on a
 * build host, or a derivation collected between the two calls is built by
 * `nix build` of the attribute instead.
 */
export async function buildAttr(
  installable: string,
  how: BuildAttrHow,
  ctx: Context,
): Promise<BuiltAttr> {
  const { nix } = ctx;
  if (how.storeArgs.length > 0) return { envPath: envOf(await buildNamed(installable, how, ctx)) };
  const value = await nix.evalFlakeJson(installable, FPROF_EVAL_APPLY, how.flakeArgs, {
    context: `cannot build '${how.label}'`,
    hint: BUILD_HINT,
    spin: `evaluating ${how.label}`,
    // What Nix warns of while evaluating (a lock file it does not write,
    // say) is the user's to see, as in a build.
    progress: true,
  }) as { drvPath?: unknown; record?: unknown };
  const record = value?.record ?? null;
  const drvPath = value?.drvPath;
  if (typeof drvPath !== "string") {
    return { envPath: envOf(await buildNamed(installable, how, ctx), how.label), record };
  }
  const target = derivationOutputsInstallable(await nix.version(), drvPath);
  try {
    return {
      envPath: envOf(await nix.build(target, [], how.label, how.outLink), how.label),
      record,
    };
  } catch (e) {
    // A collection between the two calls takes the derivation, which no
    // root holds: Nix then says it "is not a valid store path", or (2.8 with
    // a daemon) fails an assertion.
    if (!how.collected(e) && await nix.isValid(drvPath)) throw e;
    ctx.log.debug(`'${drvPath}' was collected before it was built: building the attribute`);
    return { envPath: envOf(await buildNamed(installable, how, ctx), how.label), record };
  }
}

function buildNamed(installable: string, how: BuildAttrHow, ctx: Context): Promise<BuildResult[]> {
  return ctx.nix.build(installable, how.flakeArgs, how.label, how.outLink, how.storeArgs);
}

/** The environment's path among the build's outputs. */
function envOf(results: BuildResult[], label = "the profile"): string {
  const outputs = results[0]?.outputs ?? {};
  const envPath = outputs.out ?? Object.values(outputs)[0];
  if (!envPath) throw new FprofError(`'${label}' built no output`);
  return envPath;
}

/** This user's cache of evaluations. */
export function openEvalCache(ctx: Context): EvalCache {
  return new EvalCache(evalCacheDir(ctx.env));
}
