/**
 * Package names as Nix understands them: `pname-version` splitting (Nix's
 * `DrvName`), store path names, and the `-<output>` suffix that a
 * derivation's non-default outputs carry in their store path names
 * (`hello-2.12` and `hello-2.12-man`).
 *
 * @module
 */

import { parseStorePath } from "../lib/nix/store_path.ts";

/** A name split into package name and version. */
export interface SplitName {
  /** Everything before the version, e.g. `apache-httpd`. */
  name: string;
  /** The version, e.g. `2.0.48`, or `""` when there is none. */
  version: string;
}

/**
 * Splits `pname-version` exactly as Nix's `DrvName` (and so
 * `builtins.parseDrvName`, `nix-env -u` and `nix profile`) does: the version
 * starts after the first `-` that is followed by a character other than an
 * ASCII letter. A trailing `-` starts no version. A store path is reduced to
 * its name first.
 *
 * @example
 * ```ts
 * import { splitName } from "./names.ts";
 * splitName("apache-httpd-2.0.48"); // => { name: "apache-httpd", version: "2.0.48" }
 * splitName("bash--1-2"); // => { name: "bash", version: "-1-2" }
 * splitName("/nix/store/ry3wji0qjghzb55bgp6babkivblpiyim-hello-2.12");
 * // => { name: "hello", version: "2.12" }
 * ```
 */
export function splitName(storePathOrName: string): SplitName {
  const s = storePathOrName.includes("/") ? storePathName(storePathOrName) : storePathOrName;
  for (let i = 0; i + 1 < s.length; i++) {
    // Nix uses C isalpha() on bytes; any non-ASCII byte counts as a non-letter,
    // and so does any non-ASCII UTF-16 unit here.
    if (s[i] === "-" && !isAsciiLetter(s.charCodeAt(i + 1))) {
      return { name: s.slice(0, i), version: s.slice(i + 1) };
    }
  }
  return { name: s, version: "" };
}

/**
 * The name part of a store path: what follows `<store dir>/<32-char hash>-`.
 * The store directory may be non-standard (`/tmp/x/store`). A bare base name
 * (`<hash>-<name>`) is accepted too.
 *
 * @throws {TypeError} when the text is not a store path.
 *
 * @example
 * ```ts
 * import { storePathName } from "./names.ts";
 * storePathName("/tmp/x/store/0kbfqrj81i751zm8lfv3c0da5iwp973g-bar-2.0.1-man");
 * // => "bar-2.0.1-man"
 * ```
 */
export function storePathName(path: string): string {
  return parseStorePath(path.includes("/") ? path : `/-/${path}`).name;
}

// Output names in nixpkgs are identifiers (out, dev, man, installedTests, …).
// Requiring a leading letter keeps versions ("-1.2") from passing as outputs.
const OUTPUT_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Whether `text` can be a derivation output name as it appears in a store path
 * suffix: an identifier such as `out`, `dev` or `installedTests`.
 *
 * @example
 * ```ts
 * import { isOutputName } from "./names.ts";
 * isOutputName("man"); // => true
 * isOutputName("1.2"); // => false
 * ```
 */
export function isOutputName(text: string): boolean {
  return OUTPUT_NAME_RE.test(text);
}

/**
 * Which output of the derivation named `drvName` a store path name belongs
 * to: `out` when the names are equal (the default output carries no suffix),
 * the suffix for `<drvName>-<output>`, and `undefined` otherwise.
 *
 * @example
 * ```ts
 * import { outputOfPathName } from "./names.ts";
 * outputOfPathName("hello-2.12-man", "hello-2.12"); // => "man"
 * outputOfPathName("hello-2.12", "hello-2.12"); // => "out"
 * outputOfPathName("hello-2.13", "hello-2.12"); // => undefined
 * ```
 */
export function outputOfPathName(
  pathName: string,
  drvName: string,
): string | undefined {
  if (pathName === drvName) return "out";
  if (!pathName.startsWith(`${drvName}-`)) return undefined;
  const suffix = pathName.slice(drvName.length + 1);
  return isOutputName(suffix) ? suffix : undefined;
}

/**
 * The derivation name that the store path names of one package's outputs
 * share: the longest name of which every given name is the default output or
 * an `-<output>` suffix. When there is none (unrelated names), the first name.
 *
 * @example
 * ```ts
 * import { commonDrvName } from "./names.ts";
 * commonDrvName(["hello-2.12-man", "hello-2.12"]); // => "hello-2.12"
 * commonDrvName(["hello-2.12-bin", "hello-2.12-man"]); // => "hello-2.12"
 * commonDrvName(["hello-2.12-bin"]); // => "hello-2.12-bin"
 * ```
 */
export function commonDrvName(pathNames: readonly string[]): string {
  if (pathNames.length === 0) return "";
  const first = pathNames[0];
  const fits = (candidate: string) =>
    pathNames.every((n) => outputOfPathName(n, candidate) !== undefined);
  // Candidates, longest first: each name itself, then each prefix of the first
  // name that ends before a dash.
  const candidates = [...new Set(pathNames)].sort((a, b) => b.length - a.length);
  for (
    let i = first.lastIndexOf("-");
    i > 0;
    i = first.lastIndexOf("-", i - 1)
  ) {
    candidates.push(first.slice(0, i));
  }
  return candidates.find(fits) ?? first;
}

/**
 * The output names of store paths that belong to one derivation, in the same
 * order, or `undefined` when some path's output cannot be told from its name.
 * A lone path is taken to be `out`.
 *
 * @example
 * ```ts
 * import { inferOutputNames } from "./names.ts";
 * inferOutputNames(["hello-2.12", "hello-2.12-man"]); // => ["out", "man"]
 * ```
 */
export function inferOutputNames(
  pathNames: readonly string[],
): string[] | undefined {
  if (pathNames.length === 1) return ["out"];
  const drvName = commonDrvName(pathNames);
  const outputs: string[] = [];
  for (const n of pathNames) {
    const output = outputOfPathName(n, drvName);
    if (output === undefined) return undefined;
    outputs.push(output);
  }
  return new Set(outputs).size === outputs.length ? outputs : undefined;
}

/**
 * Orders strings as Nix orders names, attribute names and store paths: as
 * byte strings (UTF-8). That is code point order, which differs from
 * JavaScript's default UTF-16 order for characters beyond U+FFFF.
 *
 * @example
 * ```ts
 * import { compareNames } from "./names.ts";
 * ["b", "\u{1F600}", "\uFF5E", "B"].sort(compareNames);
 * // => ["B", "b", "\uFF5E", "\u{1F600}"]
 * ```
 */
export function compareNames(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    // A surrogate pair was read as one code point; skip its second half.
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

/**
 * Orders packages for people to read: by name, then by version, as
 * listings, diffs and drift reports print them. A manifest keeps the order
 * packages were installed in (`nix-env -i` appends), which says nothing.
 *
 * @example
 * ```ts
 * import { comparePackages } from "./names.ts";
 * [{ name: "zsh", version: "5.9" }, { name: "hello", version: "2.12" }].sort(comparePackages);
 * // => [{ name: "hello", version: "2.12" }, { name: "zsh", version: "5.9" }]
 * ```
 */
export function comparePackages(
  a: { name: string; version: string },
  b: { name: string; version: string },
): number {
  return a.name.localeCompare(b.name) || a.version.localeCompare(b.version);
}

function isAsciiLetter(code: number): boolean {
  return (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}
