/**
 * The optional config file `$XDG_CONFIG_HOME/fprof/config.jsonc`. Flags win
 * over it; it only supplies defaults.
 *
 * @module
 */

import { parse, type ParseError, printParseErrorCode, stripComments } from "jsonc-parser";
import { join } from "./path.ts";
import { FprofError } from "./errors.ts";
import { configHome, type Env, homeDir } from "./xdg.ts";

/** Manifest kinds `switch --manifest` accepts. */
export const MANIFEST_CHOICES = ["auto", "nix", "json", "none"] as const;
/** One of {@link MANIFEST_CHOICES}. */
export type ManifestChoice = typeof MANIFEST_CHOICES[number];

/** The settings the config file may hold. */
export interface Config {
  /** Default flake (and optional `#attr`) for `fprof switch`. */
  flake?: string;
  /** Default profile path. */
  profile?: string;
  /** Default `--manifest` kind. */
  manifest?: ManifestChoice;
  /** Run `fprof pin` after every successful `fprof switch`, as `--pin` does. */
  pin?: boolean;
  /** Named sets of hosts, for `--target-host @NAME`. */
  hosts?: Record<string, string[]>;
}

/** Where the config file lives. */
export function configPath(env: Env = Deno.env): string {
  return join(configHome(env), "fprof", "config.jsonc");
}

/** Line and column (both 1-based) of an offset in a text. */
export function lineColumn(
  text: string,
  offset: number,
): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

/**
 * Parses the config file's text. Pure: the file name is only used in messages.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * parseConfig('{ // my laptop\n "flake": "~/profile" }', "config.jsonc").flake; // "~/profile"
 * ```
 */
export function parseConfig(text: string, file: string): Config {
  // A file of only comments is an empty config, not a syntax error.
  if (stripComments(text).trim() === "") return {};
  const errors: ParseError[] = [];
  const data = parse(text, errors, {
    allowTrailingComma: true,
    disallowComments: false,
  });
  if (errors.length > 0) {
    const { line, column } = lineColumn(text, errors[0].offset);
    // The parser names its errors in PascalCase ("ColonExpected").
    const why = printParseErrorCode(errors[0].error).replace(/\B([A-Z])/g, " $1").toLowerCase();
    throw new FprofError(
      `cannot parse config file '${file}' at line ${line}, column ${column}: ${why}`,
    );
  }
  if (data === undefined) return {};
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new FprofError(`config file '${file}' must hold an object`);
  }
  const config: Config = {};
  for (const [key, value] of Object.entries(data)) {
    switch (key) {
      case "flake":
      case "profile":
        if (typeof value !== "string" || value === "") {
          throw new FprofError(
            `config file '${file}': '${key}' must be a non-empty string`,
          );
        }
        config[key] = value;
        break;
      case "manifest":
        if (!MANIFEST_CHOICES.includes(value as ManifestChoice)) {
          throw new FprofError(
            `config file '${file}': 'manifest' must be one of ${MANIFEST_CHOICES.join(", ")}`,
          );
        }
        config.manifest = value as ManifestChoice;
        break;
      case "pin":
        if (typeof value !== "boolean") {
          throw new FprofError(`config file '${file}': 'pin' must be true or false`);
        }
        config.pin = value;
        break;
      case "hosts":
        config.hosts = parseHostGroups(value, file);
        break;
      default:
        throw new FprofError(
          `config file '${file}': unknown setting '${key}'`,
          {
            hint: "known settings are flake, profile, manifest, pin and hosts",
          },
        );
    }
  }
  return config;
}

/** Checks `hosts`: an object of group names, each a list of hosts. */
function parseHostGroups(value: unknown, file: string): Record<string, string[]> {
  const wrong = () =>
    new FprofError(`config file '${file}': 'hosts' must map group names to lists of hosts`, {
      hint: 'as in "hosts": { "lab": ["lab-a", "deploy@lab-b"] }',
    });
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw wrong();
  const groups: Record<string, string[]> = {};
  for (const [name, hosts] of Object.entries(value)) {
    if (
      !Array.isArray(hosts) || hosts.length === 0 ||
      !hosts.every((h) => typeof h === "string" && h !== "")
    ) {
      throw wrong();
    }
    groups[name] = hosts;
  }
  return groups;
}

/** Reads the config file; a missing file is an empty config. */
export async function loadConfig(env: Env = Deno.env): Promise<Config> {
  const file = configPath(env);
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return {};
    throw new FprofError(
      `cannot read config file '${file}': ${(e as Error).message}`,
      { cause: e },
    );
  }
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
