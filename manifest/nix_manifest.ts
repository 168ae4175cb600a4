/**
 * Reads and writes `manifest.nix`, the list of installed packages that
 * `nix-env` keeps in each profile generation.
 *
 * Nix writes it by printing a Nix value: one line, a list of attribute sets,
 * keys sorted. The reader understands that printed subset of the Nix language
 * (no expressions, no interpolation) and throws {@link ManifestSyntaxError}
 * for anything else, so that the caller can ask Nix instead.
 *
 * @module
 */

import { isStorePath } from "../lib/nix/store_path.ts";
import { ManifestError, ManifestSyntaxError } from "./errors.ts";
import { compareNames, inferOutputNames, splitName, storePathName } from "./names.ts";
import type { ProfilePackage } from "./types.ts";

/**
 * Reads the packages of a `manifest.nix` as `nix-env -q` sees them. Entries
 * without `type = "derivation"` are skipped, as Nix skips them. Store paths
 * come from `<output>.outPath` for each name in `outputs` (the top-level
 * `outPath` standing in for a missing one), with the default output (the one
 * whose path is `outPath`) first.
 *
 * @throws {ManifestSyntaxError} for text that is not a printed Nix list of
 * attribute sets, or a derivation entry without a usable `name` or store path.
 *
 * @example
 * ```ts
 * import { parseManifestNix } from "./nix_manifest.ts";
 * const [pkg] = parseManifestNix(
 *   '[ { meta = { priority = 3; }; name = "hello-2.12"; ' +
 *     'outPath = "/nix/store/ry3wji0qjghzb55bgp6babkivblpiyim-hello-2.12"; ' +
 *     'type = "derivation"; } ]',
 * );
 * pkg.name; // => "hello"
 * pkg.priority; // => 3
 * ```
 */
export function parseManifestNix(text: string): ProfilePackage[] {
  const parser = new Parser(text);
  const { value: top, offset } = parser.parseDocument();
  if (!(top instanceof NixList)) {
    throw parser.errorAt("expected a list of packages", offset);
  }
  const packages: ProfilePackage[] = [];
  for (const item of top.items) {
    if (!(item instanceof NixAttrs)) {
      throw parser.errorAt(
        "expected an attribute set for each package",
        offsetOf(item, top.offset),
      );
    }
    if (item.get("type") !== "derivation") continue;
    packages.push(
      toPackage(item, (message) => parser.errorAt(message, item.offset)),
    );
  }
  return packages;
}

/**
 * A Nix expression that evaluates the `manifest.nix` at `path` to a value
 * that survives `--json`, for when {@link parseManifestNix} does not
 * understand a file: run it with `nix-instantiate --eval --strict --json
 * --expr …` and pass the result to {@link packagesFromManifestValue}.
 *
 * Evaluating the file itself is not enough: JSON conversion turns every
 * attribute set with an `outPath` into that path, so each entry would become a
 * bare store path. The expression moves `outPath` to `__outPath`.
 *
 * @example
 * ```ts
 * import { manifestNixJsonExpr } from "./nix_manifest.ts";
 * manifestNixJsonExpr("/nix/store/awyc62irsq1krcs2arwym4pavcrfqai9-env-manifest.nix")
 *   .includes('(import "/nix/store/awyc62irsq1krcs2arwym4pavcrfqai9-env-manifest.nix")');
 * // => true
 * ```
 */
export function manifestNixJsonExpr(path: string): string {
  return "map (e: if builtins.isAttrs e && e ? outPath " +
    'then builtins.removeAttrs e [ "outPath" ] // { __outPath = e.outPath; } ' +
    `else e) (import ${printString(path)})`;
}

/**
 * Reads packages from a `manifest.nix` that Nix evaluated to JSON: the output
 * of {@link manifestNixJsonExpr}, with the same result as
 * {@link parseManifestNix} on the file. It also takes the plain JSON of the
 * file, where each entry is only its default output's store path; those
 * packages get their name from the path and no other details.
 *
 * @throws {ManifestSyntaxError} when the value is not such a list, or a
 * derivation entry has no usable `name` or store path.
 *
 * @example
 * ```ts
 * import { packagesFromManifestValue } from "./nix_manifest.ts";
 * packagesFromManifestValue([
 *   "/nix/store/ry3wji0qjghzb55bgp6babkivblpiyim-hello-2.12",
 * ])[0].name; // => "hello"
 * ```
 */
export function packagesFromManifestValue(value: unknown): ProfilePackage[] {
  const fail = (message: string) =>
    new ManifestSyntaxError(`Cannot read evaluated manifest.nix: ${message}`);
  if (!Array.isArray(value)) throw fail("expected a list of packages");
  const packages: ProfilePackage[] = [];
  for (const item of value) {
    if (typeof item === "string") {
      if (!isStorePath(item)) throw fail(`invalid store path '${item}'`);
      packages.push({ ...splitName(item), storePaths: [item] });
      continue;
    }
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      throw fail("expected an attribute set for each package");
    }
    const { __outPath, ...rest } = item as Record<string, unknown>;
    const entry = fromJson(
      __outPath === undefined ? rest : {
        ...rest,
        outPath: __outPath,
      },
    );
    if (!(entry instanceof NixAttrs) || entry.get("type") !== "derivation") {
      continue;
    }
    packages.push(toPackage(entry, fail));
  }
  return packages;
}

/**
 * Writes a `manifest.nix` that `nix-env` accepts, in the exact form Nix prints
 * one: a single line `[ { … } … ]`, keys sorted, no trailing newline. Each
 * entry has `meta` (`description`, `priority` when set), `name`
 * (`name-version`), one `<output> = { outPath = …; }` per output, `outPath`
 * (the first store path), `outputs` (sorted, as nix-env writes them),
 * `system` (default `"unknown"`) and `type = "derivation"`.
 *
 * Output names come from {@link ProfilePackage.outputs}, or else from the store
 * path names (`hello-2.12-man` is `man`). manifest.nix has no room for flake
 * sources or `active`: those fields are not written.
 *
 * @throws {ManifestError} for a package nix-env could not use: no name or no
 * store path, a non-integer priority, output names that do not match the store
 * paths, or an output name that clashes with a manifest key.
 *
 * @example
 * ```ts
 * import { printManifestNix } from "./nix_manifest.ts";
 * printManifestNix([{
 *   name: "hello",
 *   version: "2.12",
 *   storePaths: ["/nix/store/ry3wji0qjghzb55bgp6babkivblpiyim-hello-2.12"],
 * }]).startsWith('[ { meta = { }; name = "hello-2.12"; out = {');
 * // => true
 * ```
 */
export function printManifestNix(pkgs: readonly ProfilePackage[]): string {
  if (pkgs.length === 0) return "[ ]";
  const parts: string[] = ["["];
  for (const pkg of pkgs) parts.push(printEntry(pkg));
  parts.push("]");
  return parts.join(" ");
}

// ---------------------------------------------------------------------------
// Reading

/** An attribute set as printed, with where it starts for error messages. */
class NixAttrs {
  constructor(readonly attrs: Map<string, NixValue>, readonly offset: number) {}
  get(name: string): NixValue | undefined {
    return this.attrs.get(name);
  }
}

/** A list as printed, with where it starts. */
class NixList {
  constructor(readonly items: NixValue[], readonly offset: number) {}
}

/** A path literal (`/nix/store/…` unquoted). */
class NixPath {
  constructor(readonly path: string) {}
}

/** A float, kept apart from ints because Nix treats them differently. */
class NixFloat {
  constructor(readonly value: number) {}
}

type NixValue =
  | string
  | number
  | bigint
  | boolean
  | null
  | NixFloat
  | NixPath
  | NixList
  | NixAttrs;

const ID_START = /[A-Za-z_]/y;
const ID_REST = /[A-Za-z0-9_'-]*/y;
const NUMBER = /-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/y;
const PATH = /\/[A-Za-z0-9._+\-/]*/y;

// Character codes the scanner compares against.
const TAB = 0x09;
const NEWLINE = 0x0a;
const RETURN = 0x0d;
const SPACE = 0x20;
const QUOTE = 0x22;
const DOLLAR = 0x24;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;

class Parser {
  private pos = 0;

  constructor(private readonly text: string) {}

  /** Parses the whole text as one value; returns it and where it starts. */
  parseDocument(): { value: NixValue; offset: number } {
    this.skipSpace();
    const offset = this.pos;
    const value = this.parseValue();
    this.skipSpace();
    if (this.pos < this.text.length) {
      throw this.error("unexpected text after the manifest");
    }
    return { value, offset };
  }

  errorAt(message: string, offset: number): ManifestSyntaxError {
    let line = 1;
    let lineStart = 0;
    for (let i = this.text.indexOf("\n"); i !== -1 && i < offset;) {
      line++;
      lineStart = i + 1;
      i = this.text.indexOf("\n", i + 1);
    }
    return new ManifestSyntaxError(
      `Cannot parse manifest.nix: ${message}`,
      { line, column: offset - lineStart + 1 },
    );
  }

  private error(message: string): ManifestSyntaxError {
    if (this.pos >= this.text.length) {
      return this.errorAt(
        message.startsWith("unexpected") ? "unexpected end of input" : message,
        this.pos,
      );
    }
    return this.errorAt(message, this.pos);
  }

  private skipSpace(): void {
    const text = this.text;
    let pos = this.pos;
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (
        c !== SPACE && c !== NEWLINE && c !== TAB && c !== RETURN
      ) break;
      pos++;
    }
    this.pos = pos;
  }

  private parseValue(): NixValue {
    const c = this.text[this.pos];
    switch (c) {
      case "[":
        return this.parseList();
      case "{":
        return this.parseAttrs();
      case '"':
        return this.parseString();
      case "/":
        return this.parsePath();
      case undefined:
        throw this.error("unexpected end of input");
    }
    if (c === "-" || c === "." || (c >= "0" && c <= "9")) {
      return this.parseNumber();
    }
    const id = this.parseIdentifier();
    if (id === "true") return true;
    if (id === "false") return false;
    if (id === "null") return null;
    throw this.errorAt(
      id === undefined ? `unexpected character '${c}'` : `unsupported expression '${id}'`,
      this.pos - (id?.length ?? 0),
    );
  }

  private parseList(): NixList {
    const start = this.pos;
    this.pos++; // [
    const items: NixValue[] = [];
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === "]") {
        this.pos++;
        return new NixList(items, start);
      }
      if (this.pos >= this.text.length) throw this.error("unexpected end");
      items.push(this.parseValue());
    }
  }

  private parseAttrs(): NixAttrs {
    const start = this.pos;
    this.pos++; // {
    const attrs = new Map<string, NixValue>();
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === "}") {
        this.pos++;
        return new NixAttrs(attrs, start);
      }
      const keyStart = this.pos;
      const key = this.parseAttrName();
      if (attrs.has(key)) {
        throw this.errorAt(`attribute '${key}' already defined`, keyStart);
      }
      this.skipSpace();
      this.expect("=");
      this.skipSpace();
      attrs.set(key, this.parseValue());
      this.skipSpace();
      this.expect(";");
    }
  }

  private parseAttrName(): string {
    if (this.text[this.pos] === '"') return this.parseString();
    const id = this.parseIdentifier();
    if (id === undefined) {
      throw this.error(
        this.pos >= this.text.length
          ? "unexpected end"
          : `expected an attribute name, found '${this.text[this.pos]}'`,
      );
    }
    return id;
  }

  private parseIdentifier(): string | undefined {
    ID_START.lastIndex = this.pos;
    if (!ID_START.test(this.text)) return undefined;
    ID_REST.lastIndex = this.pos + 1;
    ID_REST.test(this.text);
    const id = this.text.slice(this.pos, ID_REST.lastIndex);
    this.pos = ID_REST.lastIndex;
    return id;
  }

  private expect(char: string): void {
    if (this.text[this.pos] !== char) {
      throw this.error(
        this.pos >= this.text.length
          ? "unexpected end"
          : `expected '${char}', found '${this.text[this.pos]}'`,
      );
    }
    this.pos++;
  }

  private parseString(): string {
    const text = this.text;
    const start = this.pos;
    let pos = this.pos + 1;
    let chunkStart = pos;
    let out = "";
    for (;;) {
      if (pos >= text.length) {
        throw this.errorAt("unterminated string", start);
      }
      const c = text.charCodeAt(pos);
      if (c === QUOTE) {
        out += text.slice(chunkStart, pos);
        this.pos = pos + 1;
        return out;
      }
      if (c === BACKSLASH) {
        if (pos + 1 >= text.length) {
          throw this.errorAt("unterminated string", start);
        }
        out += text.slice(chunkStart, pos);
        const e = text[pos + 1];
        // Nix knows \n, \r and \t; any other escaped character stands for
        // itself (\" \\ \$).
        out += e === "n" ? "\n" : e === "r" ? "\r" : e === "t" ? "\t" : e;
        pos += 2;
        chunkStart = pos;
        continue;
      }
      if (c === DOLLAR) {
        const next = text.charCodeAt(pos + 1);
        if (next === OPEN_BRACE) {
          throw this.errorAt("unsupported string interpolation", pos);
        }
        // Nix reads "$$" as two literal dollars, so "$${" is not interpolation.
        pos += next === DOLLAR ? 2 : 1;
        continue;
      }
      pos++;
    }
  }

  private parsePath(): NixPath {
    PATH.lastIndex = this.pos;
    PATH.test(this.text);
    const path = this.text.slice(this.pos, PATH.lastIndex);
    if (path === "/" || path.endsWith("/")) {
      throw this.error(`invalid path '${path}'`);
    }
    this.pos = PATH.lastIndex;
    return new NixPath(path);
  }

  private parseNumber(): number | bigint | NixFloat {
    NUMBER.lastIndex = this.pos;
    if (!NUMBER.test(this.text)) {
      throw this.error(`unexpected character '${this.text[this.pos]}'`);
    }
    const literal = this.text.slice(this.pos, NUMBER.lastIndex);
    if (/[.eE]/.test(literal)) {
      this.pos = NUMBER.lastIndex;
      return new NixFloat(Number(literal));
    }
    const n = Number(literal);
    if (Number.isSafeInteger(n)) {
      this.pos = NUMBER.lastIndex;
      return n;
    }
    // Nix's integers are 64-bit: its lexer refuses a longer literal, and so
    // does every nix-env that reads the manifest.
    const big = BigInt(literal.replace(/^-/, ""));
    if (big > INT64_MAX) throw this.error(`invalid integer '${literal}'`);
    this.pos = NUMBER.lastIndex;
    return BigInt(literal);
  }
}

/** The largest integer Nix reads. */
const INT64_MAX = 2n ** 63n - 1n;

function offsetOf(value: NixValue, fallback: number): number {
  return value instanceof NixAttrs || value instanceof NixList ? value.offset : fallback;
}

function pathString(value: NixValue | undefined): string | undefined {
  if (typeof value === "string") return value;
  if (value instanceof NixPath) return value.path;
  return undefined;
}

// JSON values as the printed values they stand for. JSON cannot tell 1.0 from
// 1; both become ints, which only matters for meta.priority.
function fromJson(value: unknown): NixValue {
  if (Array.isArray(value)) return new NixList(value.map(fromJson), 0);
  if (typeof value === "object" && value !== null) {
    const attrs = new Map<string, NixValue>();
    for (const [k, v] of Object.entries(value)) attrs.set(k, fromJson(v));
    return new NixAttrs(attrs, 0);
  }
  if (typeof value === "number" && !Number.isInteger(value)) {
    return new NixFloat(value);
  }
  return value as string | number | boolean | null;
}

function toPackage(
  entry: NixAttrs,
  fail: (message: string) => ManifestSyntaxError,
): ProfilePackage {
  const fullName = entry.get("name");
  if (typeof fullName !== "string") {
    throw fail("package has no string 'name'");
  }
  const outPath = pathString(entry.get("outPath"));

  const outputs: string[] = [];
  const storePaths: string[] = [];
  const outputList = entry.get("outputs");
  if (outputList === undefined) {
    if (outPath !== undefined) {
      outputs.push("out");
      storePaths.push(outPath);
    }
  } else {
    if (!(outputList instanceof NixList)) {
      throw fail(`package '${fullName}' has 'outputs' that is not a list`);
    }
    for (const output of outputList.items) {
      if (typeof output !== "string") {
        throw fail(`package '${fullName}' has a non-string output name`);
      }
      // `<output> = { outPath = …; }`; JSON conversion leaves just the path.
      const attrs = entry.get(output);
      const path = attrs instanceof NixAttrs
        ? pathString(attrs.get("outPath")) ?? outPath
        : pathString(attrs) ?? outPath;
      if (path === undefined || outputs.includes(output)) continue;
      outputs.push(output);
      storePaths.push(path);
    }
  }
  if (storePaths.length === 0) {
    throw fail(`package '${fullName}' has no 'outPath'`);
  }
  for (const path of storePaths) {
    if (!isStorePath(path)) {
      throw fail(`package '${fullName}' has an invalid store path '${path}'`);
    }
  }
  // The default output is the one whose path is the top-level outPath; nix-env
  // lists outputs alphabetically, so move it to the front.
  const first = outPath === undefined ? -1 : storePaths.indexOf(outPath);
  if (first > 0) {
    storePaths.unshift(...storePaths.splice(first, 1));
    outputs.unshift(...outputs.splice(first, 1));
  }

  const pkg: ProfilePackage = { ...splitName(fullName), storePaths, outputs };
  const meta = entry.get("meta");
  if (meta instanceof NixAttrs) {
    const priority = metaInt(meta.get("priority"));
    if (priority !== undefined) pkg.priority = priority;
    const description = meta.get("description");
    if (typeof description === "string") pkg.description = description;
  }
  const system = entry.get("system");
  if (typeof system === "string") pkg.system = system;
  return pkg;
}

// As nix-env's queryMetaInt: an int, or a string holding one; else unset.
function metaInt(value: NixValue | undefined): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "string" && /^-?[0-9]+$/.test(value)) {
    const n = Number(value);
    if (Number.isSafeInteger(n)) return n;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Writing

/** Keys of a manifest entry that an output name must not take. */
const ENTRY_KEYS = new Set([
  "meta",
  "name",
  "outPath",
  "outputs",
  "system",
  "type",
  "drvPath",
]);

// Nix's reserved words cannot be bare attribute names.
const KEYWORDS = new Set([
  "assert",
  "else",
  "if",
  "in",
  "inherit",
  "let",
  "or",
  "rec",
  "then",
  "with",
]);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_'-]*$/;

/**
 * Whether `name` can stand as a bare attribute name in Nix: an identifier
 * that is not one of Nix's reserved words.
 *
 * @example
 * ```ts
 * import { isBareAttrName } from "./nix_manifest.ts";
 * isBareAttrName("ripgrep"); // true
 * isBareAttrName("in"); // false
 * ```
 */
export function isBareAttrName(name: string): boolean {
  return IDENTIFIER.test(name) && !KEYWORDS.has(name);
}

function printEntry(pkg: ProfilePackage): string {
  const fullName = pkg.version === "" ? pkg.name : `${pkg.name}-${pkg.version}`;
  const fail = (message: string) =>
    new ManifestError(
      `Cannot write manifest.nix: package '${fullName}' ${message}`,
    );
  if (pkg.name === "") throw fail("has no name");
  if (pkg.storePaths.length === 0) throw fail("has no store paths");
  for (const path of pkg.storePaths) {
    if (!isStorePath(path)) throw fail(`has an invalid store path '${path}'`);
  }
  const outputs = pkg.outputs ??
    inferOutputNames(pkg.storePaths.map(storePathName));
  if (outputs === undefined) {
    throw fail("has store paths whose output names cannot be told apart");
  }
  if (outputs.length !== pkg.storePaths.length) {
    throw fail(
      `has ${pkg.storePaths.length} store paths but ${outputs.length} output names`,
    );
  }
  if (new Set(outputs).size !== outputs.length) {
    throw fail("has duplicate output names");
  }
  for (const output of outputs) {
    if (ENTRY_KEYS.has(output) || output === "") {
      throw fail(`has an output named '${output}'`);
    }
  }

  const meta: string[] = [];
  if (pkg.description !== undefined) {
    meta.push(`description = ${printString(pkg.description)};`);
  }
  if (pkg.priority !== undefined) {
    if (!Number.isSafeInteger(pkg.priority)) {
      throw fail(`has a non-integer priority ${pkg.priority}`);
    }
    meta.push(`priority = ${pkg.priority};`);
  }

  const fields: [string, string][] = [
    ["meta", meta.length === 0 ? "{ }" : `{ ${meta.join(" ")} }`],
    ["name", printString(fullName)],
    ["outPath", printString(pkg.storePaths[0])],
    [
      "outputs",
      `[ ${[...outputs].sort(compareNames).map(printString).join(" ")} ]`,
    ],
    ["system", printString(pkg.system ?? "unknown")],
    ["type", '"derivation"'],
  ];
  outputs.forEach((output, i) => {
    fields.push([output, `{ outPath = ${printString(pkg.storePaths[i])}; }`]);
  });
  fields.sort((a, b) => compareNames(a[0], b[0]));
  return `{ ${fields.map(([key, value]) => `${printAttrName(key)} = ${value};`).join(" ")} }`;
}

function printAttrName(name: string): string {
  return isBareAttrName(name) ? name : printString(name);
}

// Nix escapes ", \, newline, return, tab, and $ when it starts ${.
const NEEDS_ESCAPE = /["\\\n\r\t]|\$\{/;
const ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "${": "\\${",
};

/**
 * A Nix string literal of `s`, escaped as Nix prints strings.
 *
 * @example
 * ```ts
 * import { printString } from "./nix_manifest.ts";
 * printString('say "${x}"'); // => '"say \\"\\${x}\\""'
 * ```
 */
export function printString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  return `"${s.replace(/["\\\n\r\t]|\$\{/g, (m) => ESCAPES[m])}"`;
}
