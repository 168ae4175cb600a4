/**
 * Where a profile lives: on this machine, or on a host reached over ssh
 * (`--target-host`). Commands read and change a profile only through a
 * {@link ProfilePlace}, so `list`, `generations`, `diff`, `rollback` and
 * `switch` work the same on both, with the target's own Nix making and
 * switching its generations.
 *
 * @module
 */

import type { Context } from "../context.ts";
import type { NixVersion } from "../nix/nix.ts";
import { contentsCacheDir, readGenerationContentsCached } from "./contents_cache.ts";
import type { GenerationContents } from "./generation.ts";
import {
  type Generation,
  type ProfileState,
  readProfile,
  switchProfileLink,
  withProfileLock,
} from "./profile.ts";

/** A profile, wherever it lives. */
export interface ProfilePlace {
  /** The profile's path on its machine. */
  readonly profile: string;
  /** How messages name it: the path here, `HOST:PATH` on another host. */
  readonly label: string;
  /** The name its records are kept under (see records.ts). */
  readonly recordsKey: string;
  /** The remote host, when it is not this machine. */
  readonly host?: string;
  /** The store directory of the profile's machine. */
  readonly storeDir: string;
  /** The Nix that reads the profile's manifests. */
  nixVersion(): Promise<NixVersion>;
  /** The profile's generations and current one. */
  read(): Promise<ProfileState>;
  /** The packages of a generation. */
  contents(storePath: string): Promise<GenerationContents>;
  /** Reads several generations at once, where one read costs a round trip. */
  prefetch?(paths: readonly string[]): Promise<void>;
  /** Whether a generation provides `bin/nix`. */
  providesNix(root: string): Promise<boolean>;
  /** Closure sizes in the profile's store. */
  closureSizes(paths: readonly string[]): Promise<Map<string, number>>;
  /**
   * Runs `fn` holding the profile's lock: Nix's own lock file here; for a
   * remote profile, a lock of this machine's records of it (the target's
   * nix-env still takes its own lock for each change).
   */
  withLock<T>(onWait: () => void, fn: () => Promise<T>): Promise<T>;
  /** Makes `gen` current; call it holding the lock. */
  switchTo(gen: Generation): Promise<void>;
  /** Makes `path`, valid in this machine's store, valid in the profile's store too. */
  receive(path: string): Promise<void>;
  /** Makes `path` the profile's next generation with `nix-env --set`. */
  set(path: string): Promise<void>;
  /** Whether `path` is valid in the profile's store. */
  isValid(path: string): Promise<boolean>;
}

/** The profile on this machine. */
export class LocalPlace implements ProfilePlace {
  readonly profile: string;
  readonly #ctx: Context;

  constructor(profile: string, ctx: Context) {
    this.profile = profile;
    this.#ctx = ctx;
  }

  get label(): string {
    return this.profile;
  }

  get recordsKey(): string {
    return this.profile;
  }

  get storeDir(): string {
    return this.#ctx.nix.storeDir;
  }

  nixVersion(): Promise<NixVersion> {
    return this.#ctx.nix.version();
  }

  read(): Promise<ProfileState> {
    return readProfile(this.profile);
  }

  // The manifest parsers load only when a command reads a manifest itself:
  // a listing served from the cache does without them.
  async contents(storePath: string): Promise<GenerationContents> {
    const { readGenerationContents } = await import("./generation.ts");
    return await readGenerationContents(this.#ctx.nix, storePath);
  }

  /** The contents through the packages cache, for listings. */
  contentsCached(storePath: string): Promise<GenerationContents> {
    return readGenerationContentsCached(
      this.#ctx.nix,
      storePath,
      contentsCacheDir(this.#ctx.env),
    );
  }

  async providesNix(root: string): Promise<boolean> {
    const { providesNix } = await import("./generation.ts");
    return await providesNix(root);
  }

  closureSizes(paths: readonly string[]): Promise<Map<string, number>> {
    return this.#ctx.nix.closureSizes(paths);
  }

  withLock<T>(onWait: () => void, fn: () => Promise<T>): Promise<T> {
    return withProfileLock(this.profile, onWait, fn);
  }

  switchTo(gen: Generation): Promise<void> {
    return switchProfileLink(this.profile, gen);
  }

  /** The profile's store is this machine's: nothing to copy. */
  receive(_path: string): Promise<void> {
    return Promise.resolve();
  }

  set(path: string): Promise<void> {
    return this.#ctx.nix.setProfile(this.profile, path);
  }

  isValid(path: string): Promise<boolean> {
    return this.#ctx.nix.isValid(path);
  }
}

/**
 * A `--json` document of `place`'s profile: for a remote one, with the host
 * right after `profile` (the path on that host). Pure.
 */
export function withHost<T extends { profile: string }>(
  doc: T,
  place: Pick<ProfilePlace, "host">,
): T & { host?: string } {
  if (place.host === undefined) return doc;
  const { profile, ...rest } = doc;
  return { profile, host: place.host, ...rest } as T & { host?: string };
}
