/**
 * A cache of what generations hold, under `$XDG_CACHE_HOME/fprof`.
 *
 * A generation's store path never changes its contents, so the packages read
 * from it once can be kept, keyed by that path. Parsing a manifest of 10,000
 * packages costs more than the rest of `fprof list`, and even 100 packages of
 * a `manifest.nix` cost a short command (whose parser code runs cold) more
 * than reading them back; `fprof generations` parses every generation.
 *
 * A cache file is trusted only when it proves to be the one fprof wrote for
 * this very generation: it starts with a header line naming the format, the
 * store path and the manifest file with its size, the number of packages and
 * the SHA-256 of the rest, and a SHA-256 of those fields themselves (so that
 * `fprof generations`, which only counts packages, can trust the header
 * without reading the rest). Anything else (a truncated or edited file,
 * another program's file, another generation's) is ignored and the manifest
 * is parsed again, so the cache never changes what a command prints.
 *
 * Beside it, `fprof list` keeps the listing it printed (`<path>.list.txt`,
 * the same header over the text), named by the code that made the text:
 * printing 10,000 lines again costs less than decoding 10,000 packages.
 * Under `provided/`, each profile has the files its packages provided at a
 * recent switch and what overlapped in the last one's environment (see
 * {@link readProvidedCached}), for the overlap check.
 *
 * Cache files and manifests are looked at with synchronous calls, as the
 * profile is (see profile.ts): each is one short read.
 *
 * @module
 */

import type { ProfilePackage } from "../../manifest/types.ts";
import type { GenerationContents } from "./generation.ts";
import type { Nix } from "../nix/nix.ts";
import type { Logger } from "../log/log.ts";
import { basename, dirname, join } from "../path.ts";
import { sha256 } from "../nix/store_path.ts";
import { cacheHome, type Env } from "../xdg.ts";
import { writeNewFile } from "../safe_write.ts";
import { recordsName } from "./records.ts";
import type { CollisionWarning } from "./overlaps.ts";

/** Generations with fewer packages are read every time: nothing to save. */
export const CACHE_MIN_PACKAGES = 1;

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
  /** How many packages the body holds. */
  packages: number;
  /** SHA-256 of the body, in hex. */
  sha256: string;
  /** SHA-256 of the fields above, in hex (see {@link headerCheck}). */
  check: string;
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

/** The checksum of a header's fields, in a fixed order. */
async function headerCheck(h: Omit<Header, "check">): Promise<string> {
  return toHex(
    await sha256(JSON.stringify([h.format, h.storePath, h.file, h.size, h.packages, h.sha256])),
  );
}

/**
 * The header of a cache file from its first line, or null unless it is
 * whole, unchanged, and of this format, for this store path and manifest.
 */
async function decodeHeader(
  line: Uint8Array,
  storePath: string,
  manifest: ManifestIdentity,
  format = FORMAT,
): Promise<Header | null> {
  try {
    const h = JSON.parse(new TextDecoder().decode(line)) as Partial<Header>;
    if (
      h?.format !== format || h.storePath !== storePath || h.file !== manifest.file ||
      h.size !== manifest.size || !Number.isInteger(h.packages) ||
      typeof h.sha256 !== "string" || typeof h.check !== "string"
    ) return null;
    return await headerCheck(h as Header) === h.check ? h as Header : null;
  } catch {
    return null;
  }
}

/** The bytes of a cache file: its header line, then `body`. */
async function encodeCacheFile(
  format: string,
  storePath: string,
  manifest: ManifestIdentity,
  packages: number,
  body: Uint8Array,
): Promise<Uint8Array> {
  const fields = {
    format,
    storePath,
    file: manifest.file,
    size: manifest.size,
    packages,
    sha256: toHex(await sha256(body)),
  };
  const header: Header = { ...fields, check: await headerCheck(fields) };
  const head = new TextEncoder().encode(JSON.stringify(header) + "\n");
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/**
 * The header and body of a cache file, or null unless it is a whole,
 * unchanged file of this format that fprof wrote for this store path and
 * manifest.
 */
async function decodeCacheFile(
  bytes: Uint8Array,
  format: string,
  storePath: string,
  manifest: ManifestIdentity,
): Promise<{ header: Header; body: Uint8Array } | null> {
  const newline = bytes.indexOf(10);
  if (newline < 0) return null;
  const header = await decodeHeader(bytes.subarray(0, newline), storePath, manifest, format);
  if (header === null) return null;
  const body = bytes.subarray(newline + 1);
  if (toHex(await sha256(body)) !== header.sha256) return null;
  return { header, body };
}

/** The bytes of a cache file for a generation's contents. */
export function encodeContentsCache(
  storePath: string,
  manifest: ManifestIdentity,
  contents: GenerationContents,
): Promise<Uint8Array> {
  const body = new TextEncoder().encode(
    JSON.stringify({ manifest: contents.manifest, packages: contents.packages }),
  );
  return encodeCacheFile(FORMAT, storePath, manifest, contents.packages.length, body);
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
  const file = await decodeCacheFile(bytes, FORMAT, storePath, manifest);
  if (file === null) return null;
  try {
    // The hash is checked first, so a lenient decoder (faster than a
    // validating one) sees only what fprof wrote.
    const data = JSON.parse(new TextDecoder().decode(file.body));
    if (!isContents(data) || data.packages.length !== file.header.packages) return null;
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
function manifestIdentity(storePath: string): ManifestIdentity {
  for (const file of ["manifest.json", "manifest.nix"] as const) {
    try {
      return { file, size: Deno.statSync(join(storePath, file)).size };
    } catch {
      // Not there: the next one, as readGenerationContents looks.
    }
  }
  return { file: null, size: 0 };
}

/**
 * `readGenerationContents()` (generation.ts), through the cache for generations of at
 * least {@link CACHE_MIN_PACKAGES} package. A cache that cannot be read or
 * written only costs the time of parsing.
 */
export async function readGenerationContentsCached(
  nix: Nix,
  storePath: string,
  cacheDir: string,
): Promise<GenerationContents> {
  const file = cacheFileOf(cacheDir, storePath);
  const manifest = manifestIdentity(storePath);
  const cached = readFileOrNull(file);
  if (cached !== null) {
    const contents = await decodeContentsCache(cached, storePath, manifest);
    if (contents !== null) return contents;
    nix.log.debug(`ignoring the cache file '${file}': it is not one for this generation`);
  }
  return await parseAndKeep(nix, storePath, file, manifest);
}

/**
 * After a switch: reads the new generation through the cache, so that the
 * next command to read it (the first `fprof list`) finds it there, and
 * removes the files of generations the store no longer holds, so that the
 * cache does not grow with every generation ever made. A generation that
 * cannot be read is left for that command to report.
 */
export async function updateContentsCache(
  nix: Nix,
  storePath: string,
  cacheDir: string,
): Promise<void> {
  try {
    await readGenerationContentsCached(nix, storePath, cacheDir);
  } catch (e) {
    nix.log.debug(`cannot read '${storePath}' into the cache: ${(e as Error).message}`);
  }
  await pruneContentsCache(nix.log, cacheDir, dirname(storePath));
}

/**
 * Removes the cache files (contents and listings) of store paths that are no
 * longer in `storeDir`, the garbage collector's leftovers; returns how many.
 * Files being written (`*.tmp`) are left alone.
 */
export async function pruneContentsCache(
  log: Logger,
  cacheDir: string,
  storeDir: string,
): Promise<number> {
  let removed = 0;
  try {
    for await (const entry of Deno.readDir(cacheDir)) {
      const name = /^(.+?)(?:\.json|\.list\.txt)$/.exec(entry.name)?.[1];
      if (!entry.isFile || name === undefined) continue;
      try {
        await Deno.lstat(join(storeDir, name));
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) continue;
        await Deno.remove(join(cacheDir, entry.name));
        removed++;
      }
    }
  } catch (e) {
    log.debug(`cannot prune the cache '${cacheDir}': ${(e as Error).message}`);
  }
  return removed;
}

/** Reads a generation's contents and writes its cache file, unless it is empty. */
async function parseAndKeep(
  nix: Nix,
  storePath: string,
  file: string,
  manifest: ManifestIdentity,
): Promise<GenerationContents> {
  // Loaded only on a miss: a command that finds the cache does not evaluate
  // the manifest parsers.
  const { readGenerationContents } = await import("./generation.ts");
  const contents = await readGenerationContents(nix, storePath);
  if (contents.packages.length >= CACHE_MIN_PACKAGES) {
    await writeCacheFile(nix.log, file, await encodeContentsCache(storePath, manifest, contents));
  }
  return contents;
}

/**
 * Writes a cache file aside and renames it, so a reader never sees half a
 * file. The temporary file is created exclusively and the rename replaces
 * whatever is at the final name, so a link planted at either (the cache may
 * sit in another user's HOME) is never written through.
 */
async function writeCacheFile(log: Logger, file: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${file}.${Deno.pid}.tmp`;
  try {
    await Deno.mkdir(dirname(file), { recursive: true });
    await writeNewFile(tmp, bytes);
    await Deno.rename(tmp, file);
  } catch (e) {
    log.debug(`cannot write the cache file '${file}': ${(e as Error).message}`);
    await Deno.remove(tmp).catch(() => {});
  }
}

/**
 * A cache file opened for reading, or null unless it is a regular file of
 * this user's that no other user may write, the same one at the name and
 * when open: a link, a FIFO or a device planted in the cache is not read,
 * nor a file someone else wrote (its check is a plain SHA-256 that anyone
 * can compute, so root running with another user's `HOME` would otherwise
 * list what that user chose).
 */
function openCacheFile(path: string): Deno.FsFile | null {
  let file: Deno.FsFile | null = null;
  try {
    const at = Deno.lstatSync(path);
    if (!at.isFile || at.uid !== Deno.uid() || ((at.mode ?? 0) & 0o002) !== 0) return null;
    file = Deno.openSync(path);
    const open = file.statSync();
    if (open.ino === at.ino && open.dev === at.dev) return file;
  } catch {
    // Not there or not readable: no cache.
  }
  file?.close();
  return null;
}

/** A whole cache file, or null when it cannot be read (see {@link openCacheFile}). */
function readFileOrNull(path: string): Uint8Array | null {
  const file = openCacheFile(path);
  if (file === null) return null;
  try {
    const size = file.statSync().size;
    const bytes = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      const n = file.readSync(bytes.subarray(done));
      if (n === null) break;
      done += n;
    }
    return done === size ? bytes : null;
  } catch {
    return null;
  } finally {
    file.close();
  }
}

/** The first line of a file (at most 4 KiB), or null. */
function readFirstLine(path: string): Uint8Array | null {
  const file = openCacheFile(path);
  if (file === null) return null;
  try {
    const buf = new Uint8Array(4096);
    const n = file.readSync(buf);
    const newline = n === null ? -1 : buf.subarray(0, n).indexOf(10);
    return newline < 0 ? null : buf.subarray(0, newline);
  } catch {
    return null;
  } finally {
    file.close();
  }
}

/**
 * How many packages a generation holds: from the cache file's header when it
 * is valid (the rest of the file is not read), else as
 * {@link readGenerationContentsCached} finds them.
 */
export async function countGenerationPackagesCached(
  nix: Nix,
  storePath: string,
  cacheDir: string,
): Promise<number> {
  const file = cacheFileOf(cacheDir, storePath);
  const manifest = manifestIdentity(storePath);
  const line = readFirstLine(file);
  const header = line === null ? null : await decodeHeader(line, storePath, manifest);
  if (header !== null) return header.packages;
  return (await parseAndKeep(nix, storePath, file, manifest)).packages.length;
}

/** The cache file of the listing of one generation. */
export function listingCacheFileOf(cacheDir: string, storePath: string): string {
  return join(cacheDir, `${basename(storePath)}.list.txt`);
}

/**
 * The text `fprof list` printed for a generation, as {@link keepListing}
 * kept it with the same `format`, or null unless its cache file is whole,
 * unchanged, and for this generation. Printing it again skips reading and
 * decoding the packages, most of the time of a list of 10,000.
 */
export async function readListingCached(
  storePath: string,
  cacheDir: string,
  format: string,
): Promise<string | null> {
  const manifest = manifestIdentity(storePath);
  const bytes = readFileOrNull(listingCacheFileOf(cacheDir, storePath));
  const file = bytes === null ? null : await decodeCacheFile(bytes, format, storePath, manifest);
  return file === null ? null : new TextDecoder().decode(file.body);
}

/**
 * Keeps `text`, the listing of a generation of `packages` packages, for
 * {@link readListingCached}. `format` names the code that made the text, so
 * that a listing made by another version of it is never printed.
 */
export async function keepListing(
  log: Logger,
  storePath: string,
  cacheDir: string,
  format: string,
  packages: number,
  text: string,
): Promise<void> {
  if (packages < CACHE_MIN_PACKAGES) return;
  const body = new TextEncoder().encode(text);
  const bytes = await encodeCacheFile(
    format,
    storePath,
    manifestIdentity(storePath),
    packages,
    body,
  );
  await writeCacheFile(log, listingCacheFileOf(cacheDir, storePath), bytes);
}

/** The format of a cache file of the files packages provide (see {@link readProvidedCached}). */
const PROVIDED_FORMAT = "fprof-provided-files/1";

/** The format of a cache file of one environment's overlaps (see {@link readEnvOverlapsCached}). */
const ENV_OVERLAPS_FORMAT = "fprof-env-overlaps/1";

/** No manifest: what the caches of the overlap check are checked against instead. */
const NO_MANIFEST: ManifestIdentity = { file: null, size: 0 };

/**
 * Where the overlap check of `profile` keeps what it read between switches:
 * the files of the packages of one switch (`files`), and what overlaps in
 * the environment of the last one (`env`). One of each per profile, replaced
 * as switches go, so they hold only what a recent switch had.
 */
export function overlapCacheFiles(env: Env, profile: string): { files: string; env: string } {
  const base = join(cacheHome(env), "fprof", "provided", recordsName(profile));
  return { files: `${base}.json`, env: `${base}.env.json` };
}

/** The JSON value of a cache file of `format` kept for `key`, or null (see {@link decodeCacheFile}). */
async function readCachedJson(
  file: string,
  format: string,
  key: string,
): Promise<{ value: unknown; count: number } | null> {
  const bytes = readFileOrNull(file);
  const decoded = bytes === null ? null : await decodeCacheFile(bytes, format, key, NO_MANIFEST);
  if (decoded === null) return null;
  try {
    return {
      value: JSON.parse(new TextDecoder().decode(decoded.body)),
      count: decoded.header.packages,
    };
  } catch {
    return null;
  }
}

/** Keeps `value` as JSON in a cache file of `format` for `key`, for {@link readCachedJson}. */
async function keepCachedJson(
  log: Logger,
  file: string,
  format: string,
  key: string,
  count: number,
  value: unknown,
): Promise<void> {
  const body = new TextEncoder().encode(JSON.stringify(value));
  await writeCacheFile(log, file, await encodeCacheFile(format, key, NO_MANIFEST, count, body));
}

/** The files a store path provides, as a cache knows them; `undefined` for one it does not. */
export type ProvidedLookup = (storePath: string) => readonly string[] | undefined;

/**
 * The files each package of an earlier switch of `profile` provides, by
 * store path, as {@link keepProvided} kept them; null unless the cache file
 * is whole, unchanged, and this user's. A store path never changes its
 * contents, so a switch reads from the store only the packages that are new
 * since then: listing 10,000 packages' `bin/` costs more than a tenth of a
 * switch. The entries are looked up where they were parsed: copying 10,000
 * of them into a map costs more, in a process that runs once, than parsing.
 */
export async function readProvidedCached(
  file: string,
  profile: string,
  storeDir: string,
): Promise<ProvidedLookup | null> {
  const cached = await readCachedJson(file, PROVIDED_FORMAT, profile);
  const data = cached?.value as Record<string, unknown> | undefined;
  if (typeof data !== "object" || data === null || Array.isArray(data)) return null;
  if (Object.keys(data).length !== cached!.count) return null;
  const prefix = `${storeDir}/`;
  return (storePath) => {
    if (!storePath.startsWith(prefix)) return undefined;
    const name = storePath.slice(prefix.length);
    const files = Object.hasOwn(data, name) ? data[name] : undefined;
    return Array.isArray(files) ? files : undefined;
  };
}

/**
 * Keeps the files of each store path for {@link readProvidedCached}, named
 * without the store directory, which would be most of the file.
 */
export async function keepProvided(
  log: Logger,
  file: string,
  profile: string,
  provided: ReadonlyMap<string, readonly string[]>,
  storeDir: string,
): Promise<void> {
  const byName: Record<string, readonly string[]> = {};
  for (const [path, files] of provided) {
    if (dirname(path) === storeDir) byName[basename(path)] = files;
  }
  await keepCachedJson(log, file, PROVIDED_FORMAT, profile, Object.keys(byName).length, byName);
}

/** What overlaps in one environment, whatever `PATH` is. */
export interface EnvOverlaps {
  collisions: CollisionWarning[];
  /** The names under `bin/` of its packages. */
  commands: string[];
}

/**
 * What {@link keepEnvOverlaps} kept for `envPath`, or null. An environment
 * never changes either, so a switch that changes nothing (or goes back to
 * the environment of the last check) need not look at its packages.
 */
export async function readEnvOverlapsCached(
  file: string,
  envPath: string,
): Promise<EnvOverlaps | null> {
  const value = (await readCachedJson(file, ENV_OVERLAPS_FORMAT, envPath))?.value as
    | EnvOverlaps
    | undefined;
  return Array.isArray(value?.collisions) && Array.isArray(value?.commands) ? value : null;
}

/** Keeps what overlaps in `envPath` for {@link readEnvOverlapsCached}. */
export async function keepEnvOverlaps(
  log: Logger,
  file: string,
  envPath: string,
  overlaps: EnvOverlaps,
): Promise<void> {
  await keepCachedJson(log, file, ENV_OVERLAPS_FORMAT, envPath, overlaps.commands.length, overlaps);
}
