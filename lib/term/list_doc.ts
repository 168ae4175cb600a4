/**
 * What `fprof list` prints, as text and as `--json`, for the plain listing
 * and the one by group alike. Pure.
 *
 * @module
 */

import type { Generation } from "../profile/profile.ts";
import type { ManifestKind, ProfilePackage } from "../../manifest/types.ts";

/** Options of `fprof list`. */
export interface ListOptions {
  profile?: string;
  /** `[USER@]HOST` whose profile to list. */
  targetHost?: string;
  json?: boolean;
  long?: boolean;
  generation?: number;
  /** Show packages under their mkProfile group. */
  group?: boolean;
  /** Compare the profile with its flake's declaration instead. */
  drift?: boolean;
}

/** The `--json` document of `fprof list`. */
export interface ListJson {
  profile: string;
  /** The host, for a profile listed with `--target-host`. */
  host?: string;
  generation: number | null;
  storePath: string | null;
  manifest: ManifestKind;
  packages: {
    name: string;
    version: string;
    storePaths: string[];
    priority?: number;
    attrPath?: string;
    source?: string;
    /** `meta.description`, when the manifest has it. */
    description?: string;
  }[];
}

/** Builds the `--json` document; pure. */
export function listJson(
  profile: string,
  gen: Generation | null,
  manifest: ManifestKind,
  packages: readonly ProfilePackage[],
): ListJson {
  return {
    profile,
    generation: gen?.number ?? null,
    storePath: gen?.storePath ?? null,
    manifest,
    packages: packages.map((p) => ({
      name: p.name,
      version: p.version,
      storePaths: p.storePaths,
      ...(p.priority !== undefined ? { priority: p.priority } : {}),
      ...(p.attrPath ? { attrPath: p.attrPath } : {}),
      ...(p.source ? { source: p.source } : {}),
      ...(p.description ? { description: p.description } : {}),
    })),
  };
}

/** Formats the human listing: one package per line, aligned; pure. */
export function listText(
  packages: readonly ProfilePackage[],
  long: boolean,
): string {
  const width = Math.max(0, ...packages.map((p) => p.name.length));
  const vwidth = Math.max(0, ...packages.map((p) => p.version.length));
  return packages.map((p) => {
    const head = `${p.name.padEnd(width)}  ${long ? p.version.padEnd(vwidth) : p.version}`;
    return (long ? `${head}  ${p.storePaths.join(" ")}` : head).trimEnd() +
      "\n";
  }).join("");
}
