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
import { basename, dirname, join, resolve } from "../path.ts";
import {
  collidingFiles,
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

/** The files one store path provides under `sub` (`bin`, or `share/man` and its sections). */
function filesUnder(storePath: string, sub: (typeof CHECKED_DIRS)[number]): string[] {
  if (sub === "bin") return fileNames(join(storePath, "bin")).map((n) => `bin/${n}`);
  const man = join(storePath, "share", "man");
  return dirNames(man).flatMap((section) =>
    fileNames(join(man, section)).map((n) => `share/man/${section}/${n}`)
  );
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
 * The collision warnings of an environment: each file under `bin/` or
 * `share/man/` that two packages provide, with the one `envPath` links.
 */
export function readCollisions(
  envPath: string,
  packages: readonly ProfilePackage[],
  storeDir: string,
): OverlapWarning[] {
  const providers = providersOf(packages);
  const subs = CHECKED_DIRS.filter((sub) => isMerged(envPath, sub));
  if (subs.length === 0) return [];
  const colliding = collidingFiles(
    providers.map((provider) => ({
      provider,
      files: subs.flatMap((sub) => filesUnder(provider.storePath, sub)),
    })),
  );
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
 * Where `PATH` puts the profile's `bin/`, and which of `commands` each
 * earlier directory has as executables.
 */
export function readPathFacts(
  profile: string,
  path: string | undefined,
  commands: readonly string[],
  storeDir: string,
  alsoProfile: readonly string[] = [],
): PathFacts {
  const bin = join(profile, "bin");
  const entries = pathEntries(path);
  const own = isProfileBin(profile, storeDir, alsoProfile);
  const at = entries.findIndex(own);
  if (at < 0) return { bin, onPath: false, earlier: [] };
  const wanted = new Set(commands);
  const earlier = [...new Set(entries.slice(0, at))].map((directory) => ({
    directory,
    commands: fileNamesOrLinks(directory).filter((n) =>
      wanted.has(n) && isExecutable(join(directory, n))
    ),
  })).filter((d) => d.commands.length > 0);
  return { bin: entries[at], onPath: true, earlier };
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

/**
 * Every overlap warning of the environment `envPath` as the profile at
 * `profile` would have it, against `PATH`.
 */
export function checkOverlaps(args: {
  envPath: string;
  packages: readonly ProfilePackage[];
  profile: string;
  /** Paths that count as the profile too (see {@link isProfileBin}). */
  alsoProfile?: readonly string[];
  path: string | undefined;
  storeDir: string;
}): OverlapWarning[] {
  const commands = commandsOf(args.envPath);
  return [
    ...readCollisions(args.envPath, args.packages, args.storeDir),
    ...pathWarnings(
      readPathFacts(args.profile, args.path, commands, args.storeDir, args.alsoProfile),
      commands.length > 0,
    ),
  ];
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
