/**
 * The parser of the config file, apart from `loadConfig` (config.ts) so that a run
 * without a config file does not load the JSONC parser.
 *
 * @module
 */

import {
  createScanner,
  parse,
  type ParseError,
  printParseErrorCode,
  stripComments,
} from "jsonc-parser";

// The scanner's token kinds (jsonc-parser's `SyntaxKind`, a const enum that
// cannot be imported under isolated modules).
const OPEN = new Set([1, 3]); // `{`, `[`
const CLOSE = new Set([2, 4]); // `}`, `]`
const EOF = 17;
import { FprofError } from "./errors.ts";
import { type Config, MANIFEST_CHOICES, type ManifestChoice } from "./config_schema.ts";

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
 * How deep objects and lists may nest in a config file: `hosts` needs three
 * levels. The JSONC parser recurses once per level, so a file nested a
 * hundred thousand deep would overflow the stack.
 */
export const MAX_CONFIG_DEPTH = 32;

/** The offset where `text` first nests deeper than `max`, or -1; pure. */
export function tooDeepAt(text: string, max: number): number {
  const scanner = createScanner(text, false);
  let depth = 0;
  for (let kind: number = scanner.scan(); kind !== EOF; kind = scanner.scan()) {
    if (OPEN.has(kind) && ++depth > max) return scanner.getTokenOffset();
    if (CLOSE.has(kind)) depth--;
  }
  return -1;
}

/** The hint of every error in a config file's content. */
const CONFIG_HINT = "fix the file or move it away (see 'Configuration' in docs/commands.md)";

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
  const deep = tooDeepAt(text, MAX_CONFIG_DEPTH);
  if (deep >= 0) {
    const { line, column } = lineColumn(text, deep);
    throw new FprofError(
      `cannot parse config file '${file}' at line ${line}, column ${column}: ` +
        `nested more than ${MAX_CONFIG_DEPTH} levels deep`,
      { hint: CONFIG_HINT },
    );
  }
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
      { hint: CONFIG_HINT },
    );
  }
  if (data === undefined) return {};
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new FprofError(`config file '${file}' must hold an object`, {
      hint: 'as in { "flake": "~/profile" }',
    });
  }
  const config: Config = {};
  for (const [key, value] of Object.entries(data)) {
    switch (key) {
      case "flake":
      case "profile":
        if (typeof value !== "string" || value === "") {
          throw new FprofError(
            `config file '${file}': '${key}' must be a non-empty string`,
            { hint: `as in "${key}": "${key === "flake" ? "~/profile" : "~/.nix-profile"}"` },
          );
        }
        config[key] = value;
        break;
      case "manifest":
        if (!MANIFEST_CHOICES.includes(value as ManifestChoice)) {
          throw new FprofError(
            `config file '${file}': 'manifest' must be one of ${MANIFEST_CHOICES.join(", ")}`,
            { hint: `as in "manifest": "${MANIFEST_CHOICES[0]}"` },
          );
        }
        config.manifest = value as ManifestChoice;
        break;
      case "pin":
        if (typeof value !== "boolean") {
          throw new FprofError(`config file '${file}': 'pin' must be true or false`, {
            hint: 'as in "pin": true, without quotes',
          });
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
