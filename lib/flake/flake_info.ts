/**
 * The record `lib.mkProfile` attaches to a profile environment as
 * `passthru.fprof` (see `nix/lib.nix`), and how `fprof switch` turns it into
 * manifest packages. Pure: JSON in, packages out.
 *
 * The record says what the user declared: names, descriptions, priorities,
 * attribute names and groups. The environment's store references say what
 * was really built. Each declared package is matched to the references by its
 * out paths; whatever the record does not cover (a `postBuild` addition, a
 * record from an older library) is still listed, from its store path name.
 *
 * @module
 */

import type { ProfilePackage } from "../../manifest/types.ts";
import { splitName } from "../../manifest/mod.ts";
import { packagesFromReferences } from "../profile/generation.ts";

/** The `nix eval --apply` function that yields the record, or `null` without one. */
export const FPROF_RECORD_APPLY = "e: (e.passthru or { }).fprof or (e.fprof or null)";

/**
 * The `nix eval --apply` function that answers what a switch needs of the
 * profile in one evaluation: its derivation (`null` for anything that is not
 * one) and its record (as {@link FPROF_RECORD_APPLY}). Building that
 * derivation afterwards evaluates nothing.
 */
export const FPROF_EVAL_APPLY = "e: if builtins.isAttrs e then { drvPath = e.drvPath or null; " +
  "record = (e.passthru or { }).fprof or (e.fprof or null); } " +
  "else { drvPath = null; record = null; }";

/** One declared package of a schema 1 record. */
export interface FprofRecordPackage {
  /** The derivation name, `pname-version`. */
  name: string;
  pname: string;
  version: string;
  /** The installed outputs, in the order buildEnv links them. */
  outputs: string[];
  /** Store path of each of {@link outputs}. */
  outPaths: Record<string, string>;
  priority: number;
  description: string | null;
  /** The name in `paths` (or a group) when given as an attrset. */
  attrPath?: string;
  /** The `groups` entry it came from. */
  group?: string;
}

/** `passthru.fprof`, schema 1. */
export interface FprofRecord {
  schema: 1;
  packages: FprofRecordPackage[];
}

/** A record fprof cannot use: an unknown schema or a malformed field. */
export class FprofRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FprofRecordError";
  }
}

/**
 * Checks the JSON of `passthru.fprof`; `null` (no record) stays `null`.
 *
 * @example
 * ```ts
 * import { parseFprofRecord } from "./flake_info.ts";
 * parseFprofRecord(null); // => null
 * parseFprofRecord({ schema: 1, packages: [] })?.packages.length; // => 0
 * ```
 */
export function parseFprofRecord(value: unknown): FprofRecord | null {
  if (value === null || value === undefined) return null;
  const fail = (why: string): never => {
    throw new FprofRecordError(`Cannot read passthru.fprof: ${why}`);
  };
  if (typeof value !== "object" || Array.isArray(value)) fail("it is not an attrset");
  const v = value as Record<string, unknown>;
  if (v.schema !== 1) {
    fail(`unsupported schema ${JSON.stringify(v.schema)}; this fprof reads schema 1`);
  }
  if (!Array.isArray(v.packages)) fail("'packages' is not a list");
  const packages = (v.packages as unknown[]).map((p, i) => {
    const at = `package ${i + 1}`;
    if (typeof p !== "object" || p === null) return fail(`${at} is not an attrset`);
    const q = p as Record<string, unknown>;
    const str = (k: string) => {
      if (typeof q[k] !== "string") fail(`${at} has no string '${k}'`);
      return q[k] as string;
    };
    const outputs = q.outputs;
    if (!Array.isArray(outputs) || outputs.some((o) => typeof o !== "string")) {
      fail(`${at} has no list of strings 'outputs'`);
    }
    const outPaths = q.outPaths as Record<string, unknown>;
    if (typeof outPaths !== "object" || outPaths === null) fail(`${at} has no 'outPaths'`);
    for (const o of outputs as string[]) {
      if (typeof outPaths[o] !== "string") fail(`${at} has no out path for output '${o}'`);
    }
    const priority = q.priority ?? 5;
    if (!Number.isSafeInteger(priority)) fail(`${at} has a non-integer priority`);
    const pkg: FprofRecordPackage = {
      name: str("name"),
      pname: typeof q.pname === "string" ? q.pname : "",
      version: typeof q.version === "string" ? q.version : "",
      outputs: outputs as string[],
      outPaths: outPaths as Record<string, string>,
      priority: priority as number,
      description: typeof q.description === "string" ? q.description : null,
    };
    if (typeof q.attrPath === "string") pkg.attrPath = q.attrPath;
    if (typeof q.group === "string") pkg.group = q.group;
    return pkg;
  });
  return { schema: 1, packages };
}

/** Where the environment came from, for manifest.json's `url` and `attrPath`. */
export interface EnvSource {
  /** The locked flake URL. */
  url: string;
  /** The flake URL as the user gave it. */
  originalUrl: string;
  /** The attribute that built the environment, such as `packages.x86_64-linux.profile`. */
  attr: string;
}

/** Packages of an environment, with each one's group when it has one. */
export interface RecordedPackages {
  packages: ProfilePackage[];
  /** Group by the package's first store path. */
  groups: Record<string, string>;
}

/**
 * The manifest packages of environment `envPath` from its record and its
 * store references. A declared package is kept when every out path it lists
 * is a reference of the environment; references no declared package claims
 * are listed from their names, as for any buildEnv. A package declared with
 * an attribute name gets `attrPath` `<attr>.packages.<name>` and the flake's
 * URLs, which is what `nix profile upgrade` builds (mkProfile exposes each
 * named package there). Pure.
 */
export function packagesFromRecord(
  record: FprofRecord,
  envPath: string,
  references: readonly string[],
  source?: EnvSource,
): RecordedPackages {
  const refs = new Set(references);
  const claimed = new Set<string>();
  const packages: ProfilePackage[] = [];
  const groups: Record<string, string> = {};
  const seen = new Set<string>();
  for (const p of record.packages) {
    const storePaths = p.outputs.map((o) => p.outPaths[o]);
    if (storePaths.length === 0 || !storePaths.every((s) => refs.has(s))) continue;
    // The same package listed twice (in paths and a group) is one element.
    if (seen.has(storePaths[0])) continue;
    seen.add(storePaths[0]);
    storePaths.forEach((s) => claimed.add(s));
    const pkg: ProfilePackage = {
      ...splitName(p.name),
      storePaths,
      outputs: [...p.outputs],
      priority: p.priority,
    };
    if (p.description !== null && p.description !== "") pkg.description = p.description;
    if (p.attrPath !== undefined && source) {
      pkg.attrPath = `${source.attr}.packages.${p.attrPath}`;
      pkg.source = source.url;
      pkg.originalSource = source.originalUrl;
    }
    if (p.group !== undefined) groups[storePaths[0]] = p.group;
    packages.push(pkg);
  }
  const rest = packagesFromReferences(envPath, references.filter((r) => !claimed.has(r)));
  return {
    packages: [...packages, ...rest].sort((a, b) =>
      a.name.localeCompare(b.name) || a.version.localeCompare(b.version)
    ),
    groups,
  };
}
