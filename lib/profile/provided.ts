/**
 * What a profile's packages provide, read from the store, and where `PATH`
 * puts the profile: the facts behind the overlap warnings (overlaps.ts) and
 * `fprof which`.
 *
 * Synchronous calls, as the profile is read (see profile.ts): each is one
 * short system call, and a profile of 10,000 packages takes 20,000 of them.
 *
 * @module
 */

import type { ProfilePackage } from "../../manifest/types.ts";
import type { Logger } from "../log/log.ts";
import {
  type EnvOverlaps,
  keepEnvOverlaps,
  keepProvided,
  type ProvidedLookup,
  readEnvOverlapsCached,
  readProvidedCached,
} from "./contents_cache.ts";
import { basename, dirname, join, resolve } from "../path.ts";
import {
  collidingFiles,
  type CollisionWarning,
  collisionWarnings,
  type OverlapWarning,
  type PathFacts,
  pathWarnings,
  type Provider,
  providersOf,
} from "./overlaps.ts";

/** The directories whose files the overlap checks compare. */
const CHECKED_DIRS = ["bin", "share/man"] as const;

/** The names in a directory that are not directories themselves; `[]` when it cannot be read. */
function fileNames(dir: string): string[] {
  try {
    const names: string[] = [];
    for (const e of Deno.readDirSync(dir)) if (!e.isDirectory) names.push(e.name);
    return names;
  } catch {
    return [];
  }
}

/** The subdirectories of a directory (links to one included); `[]` when it cannot be read. */
function dirNames(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].filter((e) => !e.isFile).map((e) => e.name);
  } catch {
    return [];
  }
}

/** The files one store path provides under `bin/` and `share/man/` (and its sections). */
export function filesOf(storePath: string): string[] {
  const man = join(storePath, "share", "man");
  return [
    ...fileNames(join(storePath, "bin")).map((n) => `bin/${n}`),
    ...dirNames(man).flatMap((section) =>
      fileNames(join(man, section)).map((n) => `share/man/${section}/${n}`)
    ),
  ];
}

/**
 * Whether `root/sub` is a real directory all the way down. An environment
 * links a directory only one package provides as a whole (nixpkgs' buildEnv
 * and Nix's builtin:buildenv both do), so then no two packages can collide
 * below it, and the packages need not be read.
 */
function isMerged(root: string, sub: string): boolean {
  let at = root;
  for (const part of sub.split("/")) {
    at = join(at, part);
    try {
      const st = Deno.lstatSync(at);
      if (!st.isDirectory) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * The store path of `packages` that `root/file` comes from: links are
 * followed one at a time until one leads into a package. `null` when none
 * does (the file is missing, or the environment made it itself).
 */
export function linkedProvider(
  root: string,
  file: string,
  storePaths: ReadonlySet<string>,
  storeDir: string,
): string | null {
  const packageOf = (path: string) => {
    if (!path.startsWith(storeDir + "/")) return null;
    const top = join(storeDir, path.slice(storeDir.length + 1).split("/")[0]);
    return storePaths.has(top) ? top : null;
  };
  let at = root;
  let hops = 0;
  for (const part of file.split("/")) {
    at = join(at, part);
    for (;;) {
      const found = packageOf(at);
      if (found !== null) return found;
      let target: string;
      try {
        target = Deno.readLinkSync(at);
      } catch {
        break;
      }
      if (++hops > 40) return null;
      at = resolve(dirname(at), target);
    }
  }
  return null;
}

/**
 * The files of each store path of `providers`: from `known` when it has
 * them, else read from the store; with how many were read.
 */
export function readProvided(
  providers: readonly Provider[],
  known: ProvidedLookup = () => undefined,
): { provided: Map<string, readonly string[]>; read: number } {
  const provided = new Map<string, readonly string[]>();
  let read = 0;
  for (const { storePath } of providers) {
    let files = known(storePath);
    if (files === undefined) {
      files = filesOf(storePath);
      read++;
    }
    provided.set(storePath, files);
  }
  return { provided, read };
}

/**
 * The collision warnings of an environment: each file under `bin/` or
 * `share/man/` that two packages provide (`provided`: their files, by store
 * path), with the one `envPath` links.
 */
export function readCollisions(
  envPath: string,
  providers: readonly Provider[],
  provided: ReadonlyMap<string, readonly string[]>,
  storeDir: string,
): CollisionWarning[] {
  const subs = CHECKED_DIRS.filter((sub) => isMerged(envPath, sub));
  if (subs.length === 0) return [];
  const all = subs.length === CHECKED_DIRS.length;
  const inSubs = (f: string) => subs.some((sub) => f.startsWith(`${sub}/`));
  const colliding = collidingFiles(
    providers.map((provider) => {
      const files = provided.get(provider.storePath) ?? [];
      return { provider, files: all ? files : files.filter(inSubs) };
    }),
  );
  if (colliding.size === 0) return [];
  const paths = new Set(providers.map((p) => p.storePath));
  const linked = new Map(
    [...colliding.keys()].map((file) => [file, linkedProvider(envPath, file, paths, storeDir)]),
  );
  return collisionWarnings(colliding, linked);
}

/**
 * The paths a link leads through, starting with `path` itself, up to the
 * first one in the store: `~/.nix-profile`, then the profile, then its
 * generation link.
 */
function linkChain(path: string, storeDir: string): string[] {
  const chain: string[] = [];
  let at = resolve(path);
  while (chain.length < 40 && !at.startsWith(storeDir + "/")) {
    chain.push(at);
    try {
      at = resolve(dirname(at), Deno.readLinkSync(at));
    } catch {
      break;
    }
  }
  return chain;
}

/**
 * A test of `PATH` entries: whether one is `profile`'s `bin/`, through any
 * link that leads to the profile (`~/.nix-profile/bin` for
 * `…/profiles/per-user/alice/profile`), but not one to another profile that
 * happens to be at the same store path.
 */
export function isProfileBin(
  profile: string,
  storeDir: string,
  /** Paths that count as the profile too, such as a link not made yet. */
  also: readonly string[] = [],
): (entry: string) => boolean {
  const own = new Set([...linkChain(profile, storeDir), ...also.map((p) => resolve(p))]);
  return (entry) => {
    const e = resolve(entry);
    if (basename(e) !== "bin") return false;
    return linkChain(dirname(e), storeDir).some((p) => own.has(p));
  };
}

/** Whether `path` is a file that someone may execute. */
function isExecutable(path: string): boolean {
  try {
    const st = Deno.statSync(path);
    return st.isFile && ((st.mode ?? 0) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** The absolute entries of `PATH`, in order; an empty or relative one names no fixed place. */
export function pathEntries(path: string | undefined): string[] {
  return (path ?? "").split(":").filter((e) => e.startsWith("/"));
}

/**
 * Where `PATH` puts the profile's `bin/`, and which of the profile's
 * commands (those `isCommand` says yes to) each earlier directory has as
 * executables.
 */
export function readPathFacts(
  profile: string,
  path: string | undefined,
  isCommand: (name: string) => boolean,
  storeDir: string,
  alsoProfile: readonly string[] = [],
): PathFacts {
  const bin = join(profile, "bin");
  const entries = pathEntries(path);
  const own = isProfileBin(profile, storeDir, alsoProfile);
  const at = entries.findIndex(own);
  if (at < 0) return { bin, onPath: false, earlier: [] };
  const earlier = [...new Set(entries.slice(0, at))].map((directory) => ({
    directory,
    commands: fileNamesOrLinks(directory).filter((n) =>
      isCommand(n) && isExecutable(join(directory, n))
    ),
  })).filter((d) => d.commands.length > 0);
  return { bin: entries[at], onPath: true, earlier };
}

/** The names under `bin/` of the packages' files. */
function binNames(provided: ReadonlyMap<string, readonly string[]>): string[] {
  const names = new Set<string>();
  for (const files of provided.values()) {
    for (const f of files) if (f.startsWith("bin/")) names.add(f.slice(4));
  }
  return [...names];
}

/**
 * A test of names: whether one is a command of the environment `envPath`.
 * Asked of the names in the `PATH` directories before the profile, it
 * looks first among the packages' own `bin/` files (`commands`), and only
 * then in the environment, which spares reading a `bin/` of 10,000 links.
 */
function commandTest(envPath: string, commands: readonly string[]): (name: string) => boolean {
  const names = new Set(commands);
  return (name) => names.has(name) && existsFollowing(join(envPath, "bin", name));
}

/** Whether `path` leads to something, through every link. */
export function existsFollowing(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Every name in a directory; `[]` when it cannot be read. */
function fileNamesOrLinks(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name);
  } catch {
    return [];
  }
}

/** The commands an environment's `bin/` holds. */
export function commandsOf(root: string): string[] {
  return fileNamesOrLinks(join(root, "bin"));
}

/** What {@link checkOverlaps} is asked about. */
export interface OverlapQuestion {
  envPath: string;
  packages: readonly ProfilePackage[];
  profile: string;
  /** Paths that count as the profile too (see {@link isProfileBin}). */
  alsoProfile?: readonly string[];
  path: string | undefined;
  storeDir: string;
}

/**
 * What overlaps in the environment `envPath` whatever `PATH` is, from the
 * files of every package (`known` ones not read again).
 */
export function envOverlaps(
  q: OverlapQuestion,
  known?: ProvidedLookup,
): EnvOverlaps & { provided: Map<string, readonly string[]>; read: number } {
  const providers = providersOf(q.packages);
  const { provided, read } = readProvided(providers, known);
  const collisions = readCollisions(q.envPath, providers, provided, q.storeDir);
  return { collisions, commands: binNames(provided), provided, read };
}

/** The warnings about `PATH`, for an environment with these `commands`. */
function pathOverlaps(q: OverlapQuestion, commands: readonly string[]): OverlapWarning[] {
  const isCommand = commandTest(q.envPath, commands);
  return pathWarnings(
    readPathFacts(q.profile, q.path, isCommand, q.storeDir, q.alsoProfile),
    existsFollowing(join(q.envPath, "bin")),
  );
}

/** Every overlap warning of the environment `envPath` as the profile at `profile` has it. */
export function checkOverlaps(q: OverlapQuestion): OverlapWarning[] {
  const { collisions, commands } = envOverlaps(q);
  return [...collisions, ...pathOverlaps(q, commands)];
}

/**
 * {@link checkOverlaps} through the profile's caches (see
 * {@link overlapCacheFiles}): an environment checked last time is not looked
 * at again, and of another one only the packages new since the files were
 * kept are read. Those are kept again when more than one package in a
 * hundred had to be read: writing them costs more than reading a few
 * packages again, which is all that a switch that adds or upgrades one of
 * 10,000 packages needs.
 */
export async function checkOverlapsCached(
  q: OverlapQuestion,
  cache: { files: string; env: string; log: Logger },
): Promise<OverlapWarning[]> {
  const seen = await readEnvOverlapsCached(cache.env, q.envPath);
  if (seen !== null) return [...seen.collisions, ...pathOverlaps(q, seen.commands)];
  const known = await readProvidedCached(cache.files, q.profile, q.storeDir) ?? undefined;
  const { collisions, commands, provided, read } = envOverlaps(q, known);
  if (read > provided.size / 100) {
    await keepProvided(cache.log, cache.files, q.profile, provided, q.storeDir);
  }
  await keepEnvOverlaps(cache.log, cache.env, q.envPath, { collisions, commands });
  return [...collisions, ...pathOverlaps(q, commands)];
}

/** The first executable `command` on `PATH`, or null. */
export function firstOnPath(command: string, path: string | undefined): string | null {
  for (const dir of pathEntries(path)) {
    const candidate = join(dir, command);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

/** Each provider of `packages` that has `bin/<command>`. */
export function providersOfCommand(
  command: string,
  packages: readonly ProfilePackage[],
): Provider[] {
  return providersOf(packages).filter((p) => {
    try {
      Deno.lstatSync(join(p.storePath, "bin", command));
      return true;
    } catch {
      return false;
    }
  });
}
