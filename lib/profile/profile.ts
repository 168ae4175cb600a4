/**
 * Profiles on disk: finding the user's profile the way Nix finds it, reading
 * its generations, and locking it the way Nix's own tools do.
 *
 * A profile `P` is a symlink to `P-N-link`, which points to a store path.
 * Every `P-N-link` is a generation and, because Nix made it, a GC root.
 *
 * A profile is read with synchronous calls: a few links and a directory,
 * each read faster than an asynchronous call hands it to another thread and
 * back, which on a busy machine waits for a core each way. Every command
 * reads the profile first, so this is start-up time.
 *
 * @module
 */

import { basename, dirname, join, resolve } from "../path.ts";
import { FprofError } from "../errors.ts";
import { type Env, homeDir, stateHome } from "../xdg.ts";
import type { NixVersion } from "../nix/nix.ts";
import { nixTraits } from "../nix/versions.ts";
import { openNoFollow } from "../safe_write.ts";

/** One generation of a profile. */
export interface Generation {
  number: number;
  /** `P-N-link`. */
  link: string;
  /** The store path it points to. */
  storePath: string;
  /** When the link was made (its mtime, which is what Nix shows). */
  date: Date;
}

/** Expands a leading `~/` and makes a path absolute. */
export function expandPath(path: string, env: Env = Deno.env): string {
  if (path === "~") return homeDir(env);
  if (path.startsWith("~/")) return join(homeDir(env), path.slice(2));
  return resolve(path);
}

/** What the default profile resolution needs to know; `nixVersion` is asked only if needed. */
export interface ProfileContext {
  env: Env;
  stateDir: string;
  uid: number;
  user: string;
  nixVersion: () => Promise<NixVersion>;
}

/**
 * The profile to work on: `--profile`, else the config, else the link the
 * user's Nix already follows (`~/.nix-profile`, or `$XDG_STATE_HOME/nix/profile`
 * under `use-xdg-base-directories`), else the default of the installed Nix.
 */
export async function resolveProfilePath(
  explicit: string | undefined,
  configured: string | undefined,
  ctx: ProfileContext,
): Promise<string> {
  const given = explicit ?? configured;
  if (given) return followProfileLink(expandPath(given, ctx.env));
  for (
    const link of [
      join(homeDir(ctx.env), ".nix-profile"),
      join(stateHome(ctx.env), "nix", "profile"),
    ]
  ) {
    if (readLinkOrNull(link) !== null) return followProfileLink(link);
  }
  // Nix's own default can itself be a link to a profile (root's
  // `profiles/default`, since 2.14).
  return followProfileLink(defaultProfileFor(await ctx.nixVersion(), ctx));
}

/**
 * Follows links such as `~/.nix-profile` to the profile itself: the first
 * link whose target is one of its own generation links (`P -> P-N-link`).
 * Anything else (a missing path, a file) is returned as it is, for
 * {@link readProfile} to judge.
 */
export function followProfileLink(path: string): string {
  let current = path;
  for (let hops = 0; hops < 40; hops++) {
    const target = readLinkOrNull(current);
    if (target === null) return current;
    const next = resolve(dirname(current), target);
    if (
      dirname(next) === dirname(current) &&
      generationNumber(basename(current), basename(next)) !== null
    ) {
      return current;
    }
    current = next;
  }
  throw new FprofError(`cannot resolve profile '${path}': too many levels of symbolic links`, {
    hint: "--profile must name a profile link (or a new name), not a loop of links",
  });
}

/**
 * Nix's own default when no profile link exists yet. Before Nix 2.14, root
 * uses `<state>/profiles/default` and other users
 * `<state>/profiles/per-user/USER/profile`. Since 2.14 (and on Lix), root
 * uses `<state>/profiles/per-user/root/profile`, which Nix also links as
 * `profiles/default`, and other users `$XDG_STATE_HOME/nix/profiles/profile`.
 */
export function defaultProfileFor(
  v: NixVersion,
  ctx: Omit<ProfileContext, "nixVersion">,
): string {
  const recent = nixTraits(v).xdgProfiles;
  if (ctx.uid === 0) {
    return recent
      ? join(ctx.stateDir, "profiles", "per-user", "root", "profile")
      : join(ctx.stateDir, "profiles", "default");
  }
  if (recent) return join(stateHome(ctx.env), "nix", "profiles", "profile");
  return join(ctx.stateDir, "profiles", "per-user", ctx.user, "profile");
}

function readLinkOrNull(path: string): string | null {
  try {
    return Deno.readLinkSync(path);
  } catch (e) {
    if (
      e instanceof Deno.errors.NotFound || e instanceof Deno.errors.InvalidData
    ) return null;
    // EINVAL (not a link) surfaces differently across platforms.
    if ((e as { code?: string }).code === "EINVAL") return null;
    throw e;
  }
}

/** Parses `P-N-link` names of profile `P`; pure. */
export function generationNumber(
  profileName: string,
  entry: string,
): number | null {
  if (!entry.startsWith(profileName + "-") || !entry.endsWith("-link")) {
    return null;
  }
  const middle = entry.slice(profileName.length + 1, -"-link".length);
  return /^[0-9]+$/.test(middle) ? Number(middle) : null;
}

/** The state of a profile on disk. */
export interface ProfileState {
  profile: string;
  generations: Generation[];
  /** The generation the profile link points to, or null for a new profile. */
  current: Generation | null;
  /**
   * The number of the generation the profile link names when that link was
   * deleted by hand (then `current` is null). As for `nix-env`, the profile
   * still works: a rollback goes below it, a switch makes a new one.
   */
  missing?: number;
}

/**
 * Reads a profile's generations. A profile that does not exist yet has none;
 * a path that exists but is not a profile symlink is an error.
 */
// Asynchronous for its callers, as any read of a profile may have to be;
// its own reads are synchronous (see the module's note).
// deno-lint-ignore require-await
export async function readProfile(profile: string): Promise<ProfileState> {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(profile);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return {
        profile,
        generations: readGenerations(profile),
        current: null,
      };
    }
    throw new FprofError(
      `cannot read profile '${profile}': ${(e as Error).message}`,
      { cause: e },
    );
  }
  if (!info.isSymlink) {
    throw new FprofError(`'${profile}' is not a profile: it is not a symlink`, {
      hint: "pass the path of a Nix profile with --profile, such as ~/.nix-profile",
    });
  }
  const target = Deno.readLinkSync(profile);
  const generations = readGenerations(profile);
  const name = basename(target);
  const n = generationNumber(basename(profile), name);
  const sameDir = dirname(resolve(dirname(profile), target)) === dirname(profile);
  const current = n !== null && sameDir ? generations.find((g) => g.number === n) ?? null : null;
  if (n !== null && sameDir && current === null) {
    return { profile, generations, current: null, missing: n };
  }
  if (n === null || current === null) {
    throw new FprofError(
      `'${profile}' is not a profile: it points to '${target}', not to a generation link`,
      {
        hint: "pass the path of a Nix profile with --profile, such as ~/.nix-profile",
      },
    );
  }
  return { profile, generations, current };
}

/**
 * The current generation, or, when its link was deleted, a stand-in with its
 * number and no store path (`""`); null for a new profile. Pure.
 */
export function currentOrMissing(state: ProfileState): Generation | null {
  if (state.current || state.missing === undefined) return state.current;
  return {
    number: state.missing,
    link: join(dirname(state.profile), `${basename(state.profile)}-${state.missing}-link`),
    storePath: "",
    date: new Date(0),
  };
}

function readGenerations(profile: string): Generation[] {
  const dir = dirname(profile);
  const name = basename(profile);
  const out: Generation[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw new FprofError(
      `cannot read profile directory '${dir}': ${(e as Error).message}`,
      { cause: e },
    );
  }
  for (const entry of entries) {
    const number = generationNumber(name, entry.name);
    if (number === null || !entry.isSymlink) continue;
    const link = join(dir, entry.name);
    try {
      const target = Deno.readLinkSync(link);
      out.push({
        number,
        link,
        storePath: resolve(dir, target),
        date: Deno.lstatSync(link).mtime ?? new Date(0),
      });
    } catch (e) {
      // Another tool deleted it between readDir and here.
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return out.sort((a, b) => a.number - b.number);
}

/**
 * Makes `gen` the current generation of `profile`: the same atomic step Nix's
 * `switchLink` takes (a new relative symlink renamed over the profile link).
 * The generation link itself already exists and is already a GC root.
 * Call it holding the profile lock; `nix-env --switch-generation` would wait
 * for that same lock.
 */
export async function switchProfileLink(
  profile: string,
  gen: Generation,
): Promise<void> {
  const tmp = `${profile}.${Deno.pid}.tmp`;
  await Deno.remove(tmp).catch(() => {});
  await Deno.symlink(basename(gen.link), tmp);
  await Deno.rename(tmp, profile);
}

/**
 * Runs `fn` holding `<profile>.lock`, the lock file Nix's tools (`nix-env -i`,
 * `nix profile`) take: an exclusive `flock`. A lock file that Nix deleted while
 * we waited is marked by a non-zero size; then we retry with a fresh one, as
 * Nix does.
 */
export function withProfileLock<T>(
  profile: string,
  onWait: () => void,
  fn: () => Promise<T>,
): Promise<T> {
  return withLockFile(`${profile}.lock`, onWait, fn);
}

/**
 * Runs `fn` holding an exclusive `flock` on `lockPath` (created with its
 * directory if missing), with the same protocol as Nix's lock files so that
 * fprof and Nix can share one: a lock file found non-empty after locking was
 * deleted by its holder, and a fresh one is taken instead. `onWait` is called
 * once if the lock is not free within a moment.
 */
export async function withLockFile<T>(
  lockPath: string,
  onWait: () => void,
  fn: () => Promise<T>,
): Promise<T> {
  await Deno.mkdir(dirname(lockPath), { recursive: true });
  let told = false;
  const wait = () => {
    if (!told) onWait();
    told = true;
  };
  for (;;) {
    const file = await openNoFollow(lockPath);
    try {
      const locked = file.lock(true).then(() => true);
      const quick = await Promise.race([locked, delay(250).then(() => false)]);
      if (!quick) {
        wait();
        await locked;
      }
      const st = await file.stat();
      if (st.size !== 0) {
        // Nix writes into a lock file it is about to delete: open the new
        // one. One that stays (its deleter died, or it was made by hand) is
        // waited on, without spinning, until someone removes it.
        const stale = await Deno.stat(lockPath).then((p) => p.ino === st.ino, () => false);
        file.close();
        if (stale) {
          wait();
          await delay(1000, { keepAlive: true });
        }
        continue;
      }
    } catch (e) {
      file.close();
      throw e;
    }
    try {
      return await fn();
    } finally {
      try {
        await file.unlock();
      } finally {
        file.close();
      }
    }
  }
}

function delay(ms: number, opts: { keepAlive?: boolean } = {}): Promise<void> {
  return new Promise((r) => {
    const id = setTimeout(r, ms);
    // Do not keep the process alive for a timer nobody waits on.
    if (!opts.keepAlive) Deno.unrefTimer(id);
  });
}
