/**
 * The parser of the config file, apart from `loadConfig` (config.ts) so that a run
 * without a config file does not load the JSONC parser.
 *
 * @module
 */

import { parse, type ParseError, printParseErrorCode, stripComments } from "jsonc-parser";
import { FprofError } from "./errors.ts";
import { type Config, MANIFEST_CHOICES, type ManifestChoice } from "./config.ts";

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
 * import { parseConfig } from "./parse_config.ts";
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
