/**
 * What every command is given: the Nix runner, the logger, the config and the
 * environment, made once per invocation.
 *
 * @module
 */

import { type Config, loadConfig } from "./config.ts";
import { Logger } from "./log/log.ts";
import { Nix } from "./nix/nix.ts";
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

/** Builds the context for a command. */
export async function makeContext(opts: CommonOptions): Promise<Context> {
  const log = new Logger({ verbose: opts.verbose });
  return { nix: new Nix(log), log, config: await loadConfig(), env: Deno.env };
}

/** Where fprof puts short-lived files, such as the local cache of a switch. */
export function tmpRoot(ctx: Context): string {
  return join(cacheHome(ctx.env), "fprof", "tmp");
}
