/**
 * Editing `nix.conf` one setting at a time, leaving every other line as it
 * is, byte for byte. Pure.
 *
 * @module
 */

import { dirname, resolve } from "../path.ts";

/**
 * nix.conf's bytes as a string of one character per byte (U+0000 to U+00FF),
 * which every edit here keeps byte for byte: a comment that is not UTF-8, or
 * a CRLF line, comes out as it went in through {@link confToBytes}.
 *
 * @example
 * ```ts
 * import { confFromBytes, confToBytes } from "./nix_conf.ts";
 * const bytes = new Uint8Array([0x23, 0xff, 0x0d, 0x0a]); // "#", a stray byte, CRLF
 * confToBytes(confFromBytes(bytes)); // => the same four bytes
 * ```
 */
export function confFromBytes(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return text;
}

/** The bytes of a string made by {@link confFromBytes}. */
export function confToBytes(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/**
 * A value (a path, say, which may not be ASCII) as it stands in a string
 * made by {@link confFromBytes}: its UTF-8 bytes, one character each.
 *
 * @example
 * ```ts
 * import { confString } from "./nix_conf.ts";
 * confString("/home/é"); // => "/home/\u00c3\u00a9"
 * ```
 */
export function confString(value: string): string {
  return confFromBytes(new TextEncoder().encode(value));
}

/** A `name = value` line; `#` starts a comment, as Nix reads it. */
function assignment(line: string): { name: string; value: string } | undefined {
  const code = line.replace(/#.*$/, "");
  const m = /^\s*([A-Za-z0-9_-]+)\s*=\s*(.*?)\s*$/.exec(code);
  return m ? { name: m[1], value: m[2] } : undefined;
}

/**
 * The value a file gives `name`: its last assignment, as Nix reads it, or
 * undefined when the file does not set it.
 *
 * @example
 * ```ts
 * import { settingValue } from "./nix_conf.ts";
 * settingValue("a = 1\n# a = 2\na = 3 # three\n", "a"); // => "3"
 * ```
 */
export function settingValue(text: string, name: string): string | undefined {
  let value: string | undefined;
  for (const line of text.split("\n")) {
    const a = assignment(line);
    if (a?.name === name) value = a.value;
  }
  return value;
}

/**
 * `text` with `name` set to `value`. The last line that assigns `name` (the
 * one Nix obeys) is replaced, keeping its CRLF ending if it had one; without
 * one, a line is appended, ending as the file's last line does. Every other
 * line is kept byte for byte.
 *
 * @example
 * ```ts
 * import { setSetting } from "./nix_conf.ts";
 * setSetting("cores = 4\n", "nix-path", "nixpkgs=flake:nixpkgs");
 * // => "cores = 4\nnix-path = nixpkgs=flake:nixpkgs\n"
 * ```
 */
export function setSetting(text: string, name: string, value: string): string {
  const line = `${name} = ${value}`;
  const lines = text.split("\n");
  const at = lines.findLastIndex((l) => assignment(l)?.name === name);
  if (at >= 0) {
    lines[at] = lines[at].endsWith("\r") ? `${line}\r` : line;
    return lines.join("\n");
  }
  if (text === "") return `${line}\n`;
  const eol = text.endsWith("\r\n") ? "\r\n" : "\n";
  return `${text}${text.endsWith("\n") ? "" : eol}${line}${eol}`;
}

/**
 * The `nix-path` value that maps each pinned name to its target, ahead of
 * the entries the path had (`current`, or Nix's default when the file sets
 * none), less their old entries for the pinned names. Nix searches in order,
 * so the pins come first.
 *
 * @example
 * ```ts
 * import { planNixPath } from "./nix_conf.ts";
 * planNixPath("nixpkgs=/old /home/u/.nix-defexpr/channels", [], { nixpkgs: "flake:nixpkgs" });
 * // => "nixpkgs=flake:nixpkgs /home/u/.nix-defexpr/channels"
 * ```
 */
export function planNixPath(
  current: string | undefined,
  defaults: readonly string[],
  pins: Record<string, string>,
): string {
  const rest = (current !== undefined ? current.split(/\s+/) : [...defaults])
    .filter((e) => e !== "" && !Object.keys(pins).some((n) => e.startsWith(`${n}=`)));
  return [...Object.entries(pins).map(([n, t]) => `${n}=${t}`), ...rest].join(" ");
}

/**
 * Like {@link planNixPath}, for the `NIX_PATH` environment variable, whose
 * entries are separated by `:` (but `flake:x` and `scheme://…` stay whole).
 *
 * @example
 * ```ts
 * import { planNixPathEnv } from "./nix_conf.ts";
 * planNixPathEnv("nixpkgs=flake:nixpkgs:/c", { nixpkgs: "/nix/store/a-source" });
 * // => "nixpkgs=/nix/store/a-source:/c"
 * ```
 */
export function planNixPathEnv(current: string, pins: Record<string, string>): string {
  const entries = current.match(/(?:[^:=]+=)?(?:flake:[^:]+|[a-z+]+:\/\/[^:]+|[^:]+)/g) ?? [];
  const rest = entries.filter((e) => !Object.keys(pins).some((n) => e.startsWith(`${n}=`)));
  return [...Object.entries(pins).map(([n, t]) => `${n}=${t}`), ...rest].join(":");
}

/**
 * Where a setting that Nix does not take from `nix.conf`'s own line comes
 * from: `NIX_CONFIG`, the `NIX_PATH` variable (for `nix-path`, which it
 * overrides from Nix 2.24), or an `include` after the setting's last line
 * in `nix.conf`. Null when none of them sets it. Pure.
 *
 * @example
 * ```ts
 * import { overrideSource } from "./nix_conf.ts";
 * overrideSource({ name: "nix-path", nixConf: "nix-path = a\n!include more.conf\n", env: {} });
 * // "a later include in nix.conf ('more.conf')"
 * ```
 */
export function overrideSource(args: {
  name: string;
  nixConf: string;
  env: { NIX_CONFIG?: string; NIX_PATH?: string };
  /** Whether the `NIX_PATH` variable overrides the `nix-path` setting (Nix 2.24 and later). */
  nixPathVariableWins?: boolean;
}): string | null {
  const { name, env } = args;
  if (env.NIX_CONFIG !== undefined && settingValue(env.NIX_CONFIG, name) !== undefined) {
    return "the NIX_CONFIG environment variable";
  }
  if (name === "nix-path" && env.NIX_PATH !== undefined && args.nixPathVariableWins) {
    return "the NIX_PATH environment variable";
  }
  const lines = args.nixConf.split(/\r?\n/);
  const own = lines.findLastIndex((l) => new RegExp(`^\\s*${name}\\s*=`).test(l));
  const include = lines.slice(own + 1).map((l) => /^\s*!?include\s+(\S+)/.exec(l)).findLast((m) =>
    m
  );
  return include ? `a later include in nix.conf ('${include[1]}')` : null;
}

/** An `include PATH` or `!include PATH` line's path, as Nix reads it, or undefined. */
function includeOf(line: string): string | undefined {
  const tokens = line.replace(/#.*$/, "").trim().split(/\s+/);
  return tokens.length === 2 && /^!?include$/.test(tokens[0]) ? tokens[1] : undefined;
}

/**
 * The files a nix.conf at `file` (its text made by {@link confFromBytes})
 * includes, as absolute paths: relative ones are taken from the including
 * file's directory, as Nix takes them.
 *
 * @example
 * ```ts
 * import { includedFiles } from "./nix_conf.ts";
 * includedFiles("include more.conf\n!include /etc/x.conf\n", "/h/.config/nix/nix.conf");
 * // => ["/h/.config/nix/more.conf", "/etc/x.conf"]
 * ```
 */
export function includedFiles(text: string, file: string): string[] {
  return text.split("\n").map(includeOf).filter((p) => p !== undefined).map((p) =>
    resolve(dirname(file), new TextDecoder().decode(confToBytes(p)))
  );
}

/** Where the value of a setting Nix obeys comes from; see {@link settingOrigin}. */
export interface SettingOrigin {
  value: string;
  /** The included file that sets it, or null when `file` itself does. */
  from: string | null;
  /** Whether `file` has an assignment of its own before the include that wins. */
  ownLineBefore: boolean;
}

/**
 * The value Nix gives `name` from a nix.conf and the files it includes, in
 * the order Nix reads them (an include counts where it stands), and which
 * file it comes from; undefined when none sets it. `read` gives an included
 * file's text, or null when it is missing. Pure.
 *
 * @example
 * ```ts
 * import { settingOrigin } from "./nix_conf.ts";
 * const read = (f: string) => f === "/c/more.conf" ? "nix-path = a=/a\n" : null;
 * settingOrigin("include more.conf\n", "/c/nix.conf", "nix-path", read);
 * // => { value: "a=/a", from: "/c/more.conf", ownLineBefore: false }
 * ```
 */
export function settingOrigin(
  text: string,
  file: string,
  name: string,
  read: (file: string) => string | null,
  depth = 0,
): SettingOrigin | undefined {
  let found: SettingOrigin | undefined;
  let own = false;
  for (const line of text.split("\n")) {
    const a = assignment(line);
    if (a?.name === name) {
      found = { value: a.value, from: null, ownLineBefore: false };
      own = true;
      continue;
    }
    const inc = includeOf(line);
    // Nix itself refuses a loop of includes; this stops at a depth no real setup reaches.
    if (inc === undefined || depth > 16) continue;
    const path = includedFiles(line, file)[0];
    const sub = read(path);
    const o = sub === null ? undefined : settingOrigin(sub, path, name, read, depth + 1);
    if (o) found = { value: o.value, from: o.from ?? path, ownLineBefore: own };
  }
  return found;
}
