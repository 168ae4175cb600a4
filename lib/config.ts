/**
 * The optional config file `$XDG_CONFIG_HOME/fprof/config.jsonc`. Flags win
 * over it; it only supplies defaults.
 *
 * @module
 */

import { join } from "./path.ts";
import { FprofError } from "./errors.ts";
import { configHome, type Env, homeDir } from "./xdg.ts";

export { type Config, MANIFEST_CHOICES, type ManifestChoice } from "./config_schema.ts";
import type { Config } from "./config_schema.ts";

/** Where the config file lives. */
export function configPath(env: Env = Deno.env): string {
  return join(configHome(env), "fprof", "config.jsonc");
}

/** Reads the config file; a missing file is an empty config. */
export async function loadConfig(env: Env = Deno.env): Promise<Config> {
  const file = configPath(env);
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return {};
    throw new FprofError(
      `cannot read config file '${file}': ${(e as Error).message}`,
      { cause: e },
    );
  }
  // The parser is loaded only when there is a file to parse.
  const { parseConfig } = await import("./parse_config.ts");
  const config = parseConfig(text, file);
  // Nix does not expand `~` in flake references, and the config is not seen
  // by a shell, so `"flake": "~/profile"` is expanded here.
  if (config.flake) config.flake = expandTildeRef(config.flake, homeDir(env));
  return config;
}

/**
 * Expands a leading `~/` in a flake reference or path (also after `path:`);
 * pure.
 *
 * @example
 * ```ts
 * import { expandTildeRef } from "./config.ts";
 * expandTildeRef("~/profile#laptop", "/home/u"); // "/home/u/profile#laptop"
 * expandTildeRef("path:~/profile", "/home/u"); // "path:/home/u/profile"
 * ```
 */
export function expandTildeRef(ref: string, home: string): string {
  const m = /^(path:)?~(\/|$|#)/.exec(ref);
  if (!m) return ref;
  return `${m[1] ?? ""}${home}${ref.slice(m[0].length - (m[2] === "" ? 0 : 1))}`;
}
