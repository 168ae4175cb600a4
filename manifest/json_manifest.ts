/**
 * Reads and writes `manifest.json`, the element list that `nix profile`
 * keeps in each profile generation, in every version Nix has written:
 *
 * | version | Nix          | elements                | flake fields                     |
 * |---------|--------------|-------------------------|----------------------------------|
 * | 1       | 2.4–2.7      | array                   | `uri`, `originalUri`, `attrPath` |
 * | 2       | 2.8          | array                   | `url`, `originalUrl`, `attrPath` |
 * | 2       | 2.9–2.19     | array, adds `priority`, `outputs` | as 2.8                 |
 * | 3       | 2.20+, Lix   | object keyed by element name | as 2.9                      |
 *
 * Nix writes the JSON compactly with object keys sorted (nlohmann's default),
 * and without a trailing newline; the writer here does the same.
 *
 * @module
 */

import { isStorePath } from "../lib/nix/store_path.ts";
import {
  ManifestError,
  ManifestSyntaxError,
  type TextPosition,
  UnsupportedManifestVersionError,
} from "./errors.ts";
import { commonDrvName, compareNames, splitName, storePathName } from "./names.ts";
import type { ProfilePackage } from "./types.ts";

/** The priority Nix gives an element that has none. */
const DEFAULT_PRIORITY = 5;

/**
 * Reads the elements of a `manifest.json` of version 1, 2 or 3. Each package
 * is named after its store paths, as Nix names elements (`hello-2.12` gives
 * `hello` and `2.12`), with the default output's path first. The flake fields
 * are read only when `url` (`uri` in version 1) is non-empty, as Nix does.
 *
 * @throws {ManifestSyntaxError} for malformed JSON, or a field of the wrong
 * type (`active` is required).
 * @throws {UnsupportedManifestVersionError} for a version other than 1–3.
 *
 * @example
 * ```ts
 * import { parseManifestJson } from "./json_manifest.ts";
 * const [pkg] = parseManifestJson(
 *   '{"elements":[{"active":true,"priority":5,"storePaths":' +
 *     '["/nix/store/ry3wji0qjghzb55bgp6babkivblpiyim-hello-2.12"]}],"version":2}',
 * );
 * pkg.name; // => "hello"
 * pkg.version; // => "2.12"
 * ```
 */
export function parseManifestJson(text: string): ProfilePackage[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new ManifestSyntaxError(
      `Cannot parse manifest.json: ${stripPosition(reason)}`,
      jsonErrorPosition(reason, text),
      { cause },
    );
  }
  if (!isObject(json)) throw shapeError("it is not a JSON object");

  // Nix reads `json.value("version", 0)`: a missing version is version 0.
  const version = json.version ?? 0;
  if (typeof version !== "number" || !Number.isInteger(version)) {
    throw shapeError("'version' is not an integer");
  }
  if (version < 1 || version > 3) {
    throw new UnsupportedManifestVersionError(version);
  }
  const urlKey = version === 1 ? "uri" : "url";
  const originalUrlKey = version === 1 ? "originalUri" : "originalUrl";

  // Nix 2.20+ iterates `elements` whatever its shape; a missing one is empty.
  // Object keys are read in sorted order, as Nix's std::map holds them.
  const elements = json.elements ?? [];
  const entries: [string | undefined, unknown][] = [];
  if (Array.isArray(elements)) {
    for (const element of elements) entries.push([undefined, element]);
  } else if (isObject(elements)) {
    for (const key of Object.keys(elements).sort(compareNames)) {
      entries.push([key, elements[key]]);
    }
  } else {
    throw shapeError("'elements' is neither an array nor an object");
  }

  return entries.map(([key, element], index) => {
    const where = key === undefined ? `element ${index}` : `element '${key}'`;
    const fail = (message: string) => shapeError(`${where} ${message}`);
    if (!isObject(element)) throw fail("is not an object");

    const rawPaths = element.storePaths ?? [];
    if (!Array.isArray(rawPaths)) throw fail("has non-array 'storePaths'");
    const storePaths: string[] = [];
    for (const path of rawPaths) {
      if (typeof path !== "string" || !isStorePath(path)) {
        throw fail(`has an invalid store path ${JSON.stringify(path)}`);
      }
      storePaths.push(path);
    }
    if (typeof element.active !== "boolean") {
      throw fail("has no boolean 'active'");
    }

    // Nix names an element from its store paths; with several outputs of one
    // derivation, use the name they share, and put its default output first.
    const names = storePaths.map(storePathName);
    const drvName = commonDrvName(names);
    const first = names.indexOf(drvName);
    if (first > 0) storePaths.unshift(...storePaths.splice(first, 1));

    const pkg: ProfilePackage = {
      ...splitName(drvName),
      storePaths,
      active: element.active,
    };
    if (element.priority !== undefined) {
      if (!Number.isSafeInteger(element.priority)) {
        throw fail("has a non-integer 'priority'");
      }
      pkg.priority = element.priority as number;
    }
    const url = element[urlKey];
    if (typeof url === "string" && url !== "") {
      const originalUrl = element[originalUrlKey];
      const attrPath = element.attrPath;
      if (typeof originalUrl !== "string") {
        throw fail(`has no string '${originalUrlKey}'`);
      }
      if (typeof attrPath !== "string") throw fail("has no string 'attrPath'");
      pkg.source = url;
      pkg.originalSource = originalUrl;
      pkg.attrPath = attrPath;
      const outputs = element.outputs ?? null;
      if (outputs !== null) {
        if (
          !Array.isArray(outputs) ||
          !outputs.every((o) => typeof o === "string")
        ) {
          throw fail("has 'outputs' that is neither null nor a list of names");
        }
        pkg.outputsSpec = outputs;
      }
    }
    if (key !== undefined) pkg.elementName = key;
    return pkg;
  });
}

/** Options of {@link printManifestJson}. */
export interface PrintManifestJsonOptions {
  /**
   * Version 2 only: write `priority` and `outputs`, as Nix 2.9–2.19 do
   * (default). `false` writes version 2 as Nix 2.8 does, without them.
   */
  withPriorityAndOutputs?: boolean;
}

/**
 * Writes a `manifest.json` as Nix writes one: compact, keys sorted, no
 * trailing newline, store paths in sorted order.
 *
 * - Version 2 is Nix 2.9–2.19's: `{"elements":[…],"version":2}`, elements
 *   with `active`, `priority` (default 5), `storePaths`, and, for packages
 *   with a {@link ProfilePackage.source}, `url`, `originalUrl`, `attrPath` and
 *   `outputs`. With `withPriorityAndOutputs: false` it is Nix 2.8's, without
 *   `priority` and `outputs`.
 * - Version 3 is Nix 2.20+'s: elements in an object keyed by a unique
 *   name: {@link ProfilePackage.elementName}, or else {@link elementName}'s;
 *   a taken name gets `-1`, `-2`, … appended, as Nix does.
 *
 * Packages are written in the given order (version 3 sorts by name, since
 * Nix keeps elements in a sorted map).
 *
 * @throws {ManifestError} for a package with an invalid store path or a
 * non-integer priority.
 *
 * @example
 * ```ts
 * import { printManifestJson } from "./json_manifest.ts";
 * printManifestJson([{
 *   name: "hello",
 *   version: "2.12",
 *   storePaths: ["/nix/store/ry3wji0qjghzb55bgp6babkivblpiyim-hello-2.12"],
 * }], 3);
 * // => '{"elements":{"hello":{"active":true,"priority":5,"storePaths":["/nix/store/ry3wji0qjghzb55bgp6babkivblpiyim-hello-2.12"]}},"version":3}'
 * ```
 */
export function printManifestJson(
  pkgs: readonly ProfilePackage[],
  version: 2 | 3,
  opts: PrintManifestJsonOptions = {},
): string {
  if (version !== 2 && version !== 3) {
    throw new ManifestError(
      `Cannot write manifest.json: unsupported version ${version}`,
    );
  }
  const full = version === 3 || (opts.withPriorityAndOutputs ?? true);
  if (version === 2) {
    const elements = pkgs.map((pkg) => printElement(pkg, full));
    return `{"elements":[${elements.join(",")}],"version":2}`;
  }
  const named = new Map<string, string>();
  for (const pkg of pkgs) {
    const candidate = pkg.elementName ?? elementName(pkg);
    let name = candidate;
    for (let i = 1; named.has(name); i++) name = `${candidate}-${i}`;
    named.set(name, printElement(pkg, full));
  }
  // Built by hand: JSON.stringify would move integer-like keys ("1") first,
  // while Nix's map sorts all keys bytewise.
  const elements = [...named.keys()].sort(compareNames).map((name) =>
    `${JSON.stringify(name)}:${named.get(name)}`
  );
  return `{"elements":{${elements.join(",")}},"version":3}`;
}

/**
 * The name Nix 2.20+ gives a new element of a version 3 manifest, before
 * making it unique. A flake element is named from its flake reference and
 * attribute path by {@link nameFromFlakeRef} (`packages.x86_64-linux.hello`
 * gives `hello`); failing that, by the reference itself. Any other element is
 * named by the package names of its store paths, joined by `, `.
 *
 * @example
 * ```ts
 * import { elementName } from "./json_manifest.ts";
 * elementName({
 *   name: "hello",
 *   version: "2.12",
 *   storePaths: ["/nix/store/ry3wji0qjghzb55bgp6babkivblpiyim-hello-2.12"],
 *   source: "github:NixOS/nixpkgs/0123456789abcdef0123456789abcdef01234567",
 *   originalSource: "github:NixOS/nixpkgs/nixos-unstable",
 *   attrPath: "legacyPackages.x86_64-linux.hello",
 * }); // => "hello"
 * ```
 */
export function elementName(pkg: ProfilePackage): string {
  if (pkg.source !== undefined) {
    const ref = flakeRefWithFragment(pkg);
    return nameFromFlakeRef(ref) ?? ref;
  }
  // Nix's identifier(): the sorted set of DrvName names, joined by ", ".
  const names = [
    ...new Set(pkg.storePaths.map((p) => splitName(storePathName(p)).name)),
  ].sort(compareNames);
  while (names.length > 0 && names[0] === "") names.shift();
  return names.join(", ");
}

/**
 * A short name for an installable flake reference such as
 * `github:NixOS/nixpkgs#legacyPackages.x86_64-linux.hello^out`, as Nix's
 * `getNameFromURL` (2.20 onwards) picks it, in this order: the `dir` query
 * parameter; the last attribute of the fragment unless it is `default` or
 * follows `defaultPackage.`; the repository of a `github:`, `gitlab:` or
 * `sourcehut:` reference; the last path segment of a `git` reference; the last
 * path segment of any other. `undefined` when none applies.
 *
 * Later Nix releases changed these rules in corner cases; the names only need
 * to be unique, since Nix reads them back as written.
 *
 * @example
 * ```ts
 * import { nameFromFlakeRef } from "./json_manifest.ts";
 * nameFromFlakeRef("path:/home/me/dotfiles#packages.x86_64-linux.default");
 * // => "dotfiles"
 * ```
 */
export function nameFromFlakeRef(ref: string): string | undefined {
  const url = parseUrl(ref);
  if (url === undefined) return undefined;
  const dir = url.query.get("dir");
  if (dir !== undefined) return dir;

  const attr = /^((?:[a-zA-Z0-9_-]+\.)*)([a-zA-Z0-9_-]+)(\^.*)?$/.exec(
    url.fragment,
  );
  if (attr && attr[1] !== "defaultPackage." && attr[2] !== "default") {
    return attr[2];
  }
  const segment = "[a-zA-Z0-9_-]+";
  if (/^(?:github|gitlab|sourcehut)$/.test(url.scheme)) {
    const m = new RegExp(`^${segment}/(${segment})(?:/.*)?$`).exec(url.path);
    if (m) return m[1];
  }
  const last = new RegExp(`^.*/(${segment})$`).exec(url.path);
  // A `git` or `git+…` reference is named after its directory; so is any other.
  return last?.[1];
}

// ---------------------------------------------------------------------------

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function shapeError(message: string): ManifestSyntaxError {
  return new ManifestSyntaxError(`Cannot parse manifest.json: ${message}`);
}

// V8 says "… in JSON at position 5 (line 1 column 6)" for most errors.
function jsonErrorPosition(
  reason: string,
  text: string,
): TextPosition | undefined {
  const lineColumn = /\(line (\d+) column (\d+)\)/.exec(reason);
  if (lineColumn) {
    return { line: Number(lineColumn[1]), column: Number(lineColumn[2]) };
  }
  const position = /at position (\d+)/.exec(reason);
  const offset = position
    ? Number(position[1])
    : /end of JSON input/.test(reason)
    ? text.length
    : undefined;
  if (offset === undefined) return undefined;
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - (before.lastIndexOf("\n") + 1) + 1 };
}

// The position is reported separately; the reason reads on after a colon.
function stripPosition(reason: string): string {
  const short = reason.replace(/ in JSON at position \d+.*$/, "");
  return short.charAt(0).toLowerCase() + short.slice(1);
}

function printElement(pkg: ProfilePackage, full: boolean): string {
  const label = pkg.version === "" ? pkg.name : `${pkg.name}-${pkg.version}`;
  for (const path of pkg.storePaths) {
    if (!isStorePath(path)) {
      throw new ManifestError(
        `Cannot write manifest.json: package '${label}' has an invalid store path '${path}'`,
      );
    }
  }
  const priority = pkg.priority ?? DEFAULT_PRIORITY;
  if (full && !Number.isSafeInteger(priority)) {
    throw new ManifestError(
      `Cannot write manifest.json: package '${label}' has a non-integer priority ${priority}`,
    );
  }
  // Keys in sorted order, as nlohmann writes them.
  const element: JsonObject = { active: pkg.active ?? true };
  if (pkg.source !== undefined) {
    element.attrPath = pkg.attrPath ?? "";
    element.originalUrl = pkg.originalSource ?? pkg.source;
    if (full) element.outputs = pkg.outputsSpec ?? null;
  }
  if (full) element.priority = priority;
  // Nix keeps store paths in a set ordered by base name.
  element.storePaths = [...new Set(pkg.storePaths)].sort((a, b) =>
    compareNames(storePathBase(a), storePathBase(b))
  );
  if (pkg.source !== undefined) element.url = pkg.source;
  return JSON.stringify(element);
}

function storePathBase(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

// `<originalRef>#<attrPath>` plus `^outputs` when outputs were asked for: the
// installable Nix names elements from.
function flakeRefWithFragment(pkg: ProfilePackage): string {
  const outputs = pkg.outputsSpec === undefined ? "" : `^${pkg.outputsSpec.join(",")}`;
  return `${pkg.originalSource ?? pkg.source}#${pkg.attrPath ?? ""}${outputs}`;
}

interface ParsedUrl {
  scheme: string;
  path: string;
  query: Map<string, string>;
  fragment: string;
}

// Nix's parseURL, reduced to what naming needs: scheme, optional authority,
// path, query and fragment, with the query and fragment percent-decoded.
function parseUrl(url: string): ParsedUrl | undefined {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):(?:\/\/[^/?#]*)?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/
    .exec(url);
  if (!m) return undefined;
  try {
    const query = new Map<string, string>();
    for (const pair of (m[3] ?? "").split("&")) {
      if (pair === "") continue;
      const eq = pair.indexOf("=");
      if (eq === -1) continue;
      query.set(
        decodeURIComponent(pair.slice(0, eq)),
        decodeURIComponent(pair.slice(eq + 1)),
      );
    }
    return {
      scheme: m[1],
      path: m[2],
      query,
      fragment: decodeURIComponent(m[4] ?? ""),
    };
  } catch {
    return undefined;
  }
}
