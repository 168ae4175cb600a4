/**
 * Flake registries (`registry.json`, version 2): reading them, and setting one
 * entry while leaving every other entry as it was. Pure.
 *
 * @module
 */

import { FprofError } from "../errors.ts";

/** One registry entry: `from` is resolved to `to`. */
export interface RegistryEntry {
  from: Record<string, unknown>;
  to: Record<string, unknown>;
  exact?: boolean;
  [key: string]: unknown;
}

/** A registry file's contents. */
export interface Registry {
  version: 2;
  flakes: RegistryEntry[];
  [key: string]: unknown;
}

/** The `to` of an exact pin, as NixOS's `nix.registry.<n>.flake` writes it. */
export interface PathTarget {
  type: "path";
  path: string;
  narHash: string;
  lastModified?: number;
  rev?: string;
}

/**
 * Parses a registry file; an empty text (a missing file) is an empty registry.
 *
 * @example
 * ```ts
 * import { parseRegistry } from "./registry.ts";
 * parseRegistry("", "registry.json").flakes.length; // => 0
 * ```
 */
export function parseRegistry(text: string, file: string): Registry {
  if (text.trim() === "") return { version: 2, flakes: [] };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new FprofError(`cannot parse registry '${file}': ${(e as Error).message}`, {
      cause: e,
      hint: "fix or move the file; fprof changed nothing",
    });
  }
  const d = data as Partial<Registry> | null;
  if (typeof d !== "object" || d === null || Array.isArray(d)) {
    throw new FprofError(`registry '${file}' does not hold an object`, {
      hint: "fix or move the file; fprof changed nothing",
    });
  }
  if (d.version !== 2) {
    throw new FprofError(`registry '${file}' has unsupported version ${d.version}`, {
      hint: "fprof writes version 2 registries, as Nix 2.4 and later do",
    });
  }
  if (
    !Array.isArray(d.flakes) ||
    d.flakes.some((f) =>
      typeof f !== "object" || f === null || typeof f.from !== "object" || f.from === null ||
      typeof f.to !== "object" || f.to === null
    )
  ) {
    throw new FprofError(`registry '${file}': 'flakes' must be a list of {from, to} entries`, {
      hint: "fix or move the file; fprof changed nothing",
    });
  }
  return d as Registry;
}

/** Whether an entry maps the plain indirect reference `id` (no ref or rev). */
export function isIndirectId(entry: RegistryEntry, id: string): boolean {
  const keys = Object.keys(entry.from).sort();
  return entry.from.type === "indirect" && entry.from.id === id &&
    keys.join(",") === "id,type";
}

/** The entry of `registry` for indirect id `id`, if any. */
export function findEntry(registry: Registry, id: string): RegistryEntry | undefined {
  return registry.flakes.find((e) => isIndirectId(e, id));
}

/**
 * A copy of `registry` where `id` maps exactly to `to`. An existing entry for
 * `id` is replaced in place (as `nix registry add` replaces an entry with the
 * same `from`); every other entry is kept as it is.
 *
 * @example
 * ```ts
 * import { setEntry } from "./registry.ts";
 * const r = setEntry({ version: 2, flakes: [] }, "nixpkgs", {
 *   type: "path", path: "/nix/store/x-source", narHash: "sha256-…",
 * });
 * r.flakes[0].exact; // => true
 * ```
 */
export function setEntry(registry: Registry, id: string, to: PathTarget): Registry {
  const entry: RegistryEntry = { from: { type: "indirect", id }, to: { ...to }, exact: true };
  let placed = false;
  const flakes: RegistryEntry[] = [];
  for (const e of registry.flakes) {
    if (!isIndirectId(e, id)) flakes.push(e);
    else if (!placed) {
      flakes.push(entry);
      placed = true;
    }
  }
  if (!placed) flakes.push(entry);
  return { ...registry, flakes };
}

/**
 * A copy of `registry` with `id` mapped back to `previous` (the entry it had
 * before fprof pinned it), or with no entry for `id` when it had none.
 */
export function restoreEntry(
  registry: Registry,
  id: string,
  previous: RegistryEntry | undefined,
): Registry {
  const at = registry.flakes.findIndex((e) => isIndirectId(e, id));
  const flakes = registry.flakes.filter((e) => !isIndirectId(e, id));
  if (previous) flakes.splice(at < 0 ? flakes.length : at, 0, previous);
  return { ...registry, flakes };
}

/** The registry as Nix writes it: two-space JSON and a final newline. */
export function printRegistry(registry: Registry): string {
  return JSON.stringify(registry, null, 2) + "\n";
}

/** Builds the exact `path` target for a locked source in the store. */
export function pathTarget(args: {
  storePath: string;
  narHash: string;
  lastModified?: number;
  rev?: string;
}): PathTarget {
  return {
    type: "path",
    path: args.storePath,
    narHash: args.narHash,
    ...(args.lastModified !== undefined ? { lastModified: args.lastModified } : {}),
    ...(args.rev !== undefined ? { rev: args.rev } : {}),
  };
}

/** Whether two targets are the same pin. */
export function sameTarget(a: Record<string, unknown> | undefined, b: PathTarget): boolean {
  if (!a) return false;
  const norm = (t: Record<string, unknown>) =>
    JSON.stringify(Object.keys(t).sort().map((k) => [k, t[k]]));
  return norm(a) === norm(b as unknown as Record<string, unknown>);
}
