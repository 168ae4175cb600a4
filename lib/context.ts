/**
 * What every command is given: the Nix runner, the logger, the config and the
 * environment, made once per invocation.
 *
 * @module
 */

import { type Config, loadConfig } from "./config.ts";
import { Logger } from "./term/log.ts";
import { Nix } from "./nix/nix.ts";
import { resolveProfilePath } from "./profile/profile.ts";
import { sweepStaleTemps } from "./profile/leftovers.ts";
import { cacheHome, type Env } from "./xdg.ts";
import { join } from "./path.ts";

/** fprof's own version. */
export const VERSION = "0.1.0";

/** Shared state of one fprof invocation. */
export interface Context {
  nix: Nix;
  log: Logger;
  config: Config;
  env: Env;
}

/** Options every command accepts. */
export interface CommonOptions {
  profile?: string;
  verbose?: boolean;
}

/** Builds the context for a command, after tidying what a killed fprof left (see `sweepStaleTemps`). */
export async function makeContext(opts: CommonOptions): Promise<Context> {
  const log = new Logger({ verbose: opts.verbose });
  const ctx = { nix: new Nix(log), log, config: await loadConfig(), env: Deno.env };
  await sweepStaleTemps(tmpRoot(ctx), ctx.env);
  return ctx;
}

/** The profile a command works on (`--profile`, config, or Nix's default). */
export function profileOf(
  ctx: Context,
  explicit: string | undefined,
): Promise<string> {
  return resolveProfilePath(explicit, ctx.config.profile, {
    env: ctx.env,
    stateDir: ctx.nix.stateDir,
    uid: Deno.uid() ?? 0,
    user: ctx.env.get("USER") ?? ctx.env.get("LOGNAME") ?? "nobody",
    nixVersion: () => ctx.nix.version(),
  });
}

/** Where fprof puts short-lived files, such as the local cache of a switch. */
export function tmpRoot(ctx: Context): string {
  return join(cacheHome(ctx.env), "fprof", "tmp");
}
