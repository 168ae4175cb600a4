/**
 * A cache of what big generations hold, under `$XDG_CACHE_HOME/fprof`.
 *
 * A generation's store path never changes its contents, so the packages read
 * from it once can be kept, keyed by that path. Parsing a manifest of 10,000
 * packages costs more than the rest of `fprof list`; reading them back from
 * the cache costs a fraction of it.
 *
 * A cache file is trusted only when it proves to be the one fprof wrote for
 * this very generation: it starts with a header line naming the format, the
 * store path and the manifest file with its size, and carrying the SHA-256 of
 * the rest. Anything else (a truncated or edited file, another program's
 * file, another generation's) is ignored and the manifest is parsed again, so
 * the cache never changes what a command prints.
 *
 * @module
 */

import type { ProfilePackage } from "../manifest/types.ts";
import { type GenerationContents, readGenerationContents } from "./generation.ts";
import type { Nix } from "./nix.ts";
import { basename, join } from "./path.ts";
import { sha256 } from "./store_path.ts";
import { cacheHome, type Env } from "./xdg.ts";

/** Generations with fewer packages are parsed every time: it is cheap enough. */
export const CACHE_MIN_PACKAGES = 1000;

/** The format of a cache file; a file of another format is ignored. */
const FORMAT = "fprof-generation-contents/1";

/** The manifest a generation's packages were read from, as it is on disk. */
export interface ManifestIdentity {
  file: "manifest.json" | "manifest.nix" | null;
  size: number;
}

interface Header extends ManifestIdentity {
  format: string;
  storePath: string;
  sha256: string;
}

/** Where the cache files live. */
export function contentsCacheDir(env: Env): string {
  return join(cacheHome(env), "fprof", "generations");
}

/** The cache file of one generation. */
export function cacheFileOf(cacheDir: string, storePath: string): string {
  return join(cacheDir, `${basename(storePath)}.json`);
}

const toHex = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** The bytes of a cache file for a generation's contents. */
export async function encodeContentsCache(
  storePath: string,
  manifest: ManifestIdentity,
  contents: GenerationContents,
): Promise<Uint8Array> {
  const body = new TextEncoder().encode(
    JSON.stringify({ manifest: contents.manifest, packages: contents.packages }),
  );
  const header: Header = {
    format: FORMAT,
    storePath,
    file: manifest.file,
    size: manifest.size,
    sha256: toHex(await sha256(body)),
  };
  const head = new TextEncoder().encode(JSON.stringify(header) + "\n");
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/**
 * The contents a cache file holds, or null unless it is a whole, unchanged
 * file that fprof wrote for this store path and manifest.
 */
export async function decodeContentsCache(
  bytes: Uint8Array,
  storePath: string,
  manifest: ManifestIdentity,
): Promise<GenerationContents | null> {
  const newline = bytes.indexOf(10);
  if (newline < 0) return null;
  // The body's hash is checked before it is decoded, so a lenient decoder
  // (faster than a validating one) sees only what fprof wrote.
  const decoder = new TextDecoder();
  try {
    const header = JSON.parse(decoder.decode(bytes.subarray(0, newline))) as Partial<Header>;
    if (
      header?.format !== FORMAT || header.storePath !== storePath ||
      header.file !== manifest.file || header.size !== manifest.size ||
      typeof header.sha256 !== "string"
    ) return null;
    const body = bytes.subarray(newline + 1);
    if (toHex(await sha256(body)) !== header.sha256) return null;
    const data = JSON.parse(decoder.decode(body));
    if (!isContents(data)) return null;
    return data;
  } catch {
    return null;
  }
}

function isContents(data: unknown): data is GenerationContents {
  const d = data as GenerationContents;
  return typeof d === "object" && d !== null &&
    ["json", "nix", "none"].includes(d.manifest) &&
    Array.isArray(d.packages) && d.packages.every(isPackage);
}

function isPackage(p: ProfilePackage): boolean {
  return typeof p === "object" && p !== null && typeof p.name === "string" &&
    typeof p.version === "string" && Array.isArray(p.storePaths) &&
    p.storePaths.every((s) => typeof s === "string");
}

/** Which manifest file a generation has, and its size (following links). */
async function manifestIdentity(storePath: string): Promise<ManifestIdentity> {
  for (const file of ["manifest.json", "manifest.nix"] as const) {
    try {
      return { file, size: (await Deno.stat(join(storePath, file))).size };
    } catch {
      // Not there: the next one, as readGenerationContents looks.
    }
  }
  return { file: null, size: 0 };
}

/**
 * {@link readGenerationContents}, through the cache for generations of at
 * least {@link CACHE_MIN_PACKAGES} packages. A cache that cannot be read or
 * written only costs the time of parsing.
 */
export async function readGenerationContentsCached(
  nix: Nix,
  storePath: string,
  cacheDir: string,
): Promise<GenerationContents> {
  const file = cacheFileOf(cacheDir, storePath);
  const [manifest, cached] = await Promise.all([
    manifestIdentity(storePath),
    Deno.readFile(file).catch(() => null),
  ]);
  if (cached !== null) {
    const contents = await decodeContentsCache(cached, storePath, manifest);
    if (contents !== null) return contents;
    nix.log.debug(`ignoring the cache file '${file}': it is not one for this generation`);
  }
  const contents = await readGenerationContents(nix, storePath);
  if (contents.packages.length >= CACHE_MIN_PACKAGES) {
    // Written aside and renamed, so a reader never sees half a file.
    const tmp = `${file}.${Deno.pid}.tmp`;
    try {
      await Deno.mkdir(cacheDir, { recursive: true });
      await Deno.writeFile(tmp, await encodeContentsCache(storePath, manifest, contents));
      await Deno.rename(tmp, file);
    } catch (e) {
      nix.log.debug(`cannot write the cache file '${file}': ${(e as Error).message}`);
      await Deno.remove(tmp).catch(() => {});
    }
  }
  return contents;
}
