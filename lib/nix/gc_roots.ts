/**
 * Garbage-collector roots that keep what one fprof run builds or adds alive
 * until a generation holds it.
 *
 * A `nix build --no-link` result, or a path added with `nix copy`, is rooted
 * only while the Nix process that made it runs: a collection in the moment
 * between that process and `nix-env --set` deletes it. So each run keeps a
 * private directory of links, registered as indirect roots, and removes it
 * once the profile holds the paths (or the run fails). A run killed before
 * that leaves the directory behind; the next run removes it, as it does a
 * dead run's temporary files, and the collector then ignores the dangling
 * roots.
 *
 * @module
 */

import { join } from "../path.ts";
import type { Nix } from "./nix.ts";
import { FprofError, NixError } from "../errors.ts";

/** The name of a run's root directory starts with this, then `<pid>-`. */
export const ROOTS_PREFIX = "roots-";

/** One run's private directory of indirect GC roots; dispose of it when the profile holds the paths. */
export class RunRoots implements AsyncDisposable {
  readonly dir: string;
  readonly #nix: Nix;
  #count = 0;

  private constructor(nix: Nix, dir: string) {
    this.#nix = nix;
    this.dir = dir;
  }

  /** Makes the directory (mode 0700) under `parent`, named after this process. */
  static async open(nix: Nix, parent: string): Promise<RunRoots> {
    await Deno.mkdir(parent, { recursive: true });
    const dir = await Deno.makeTempDir({ dir: parent, prefix: `${ROOTS_PREFIX}${Deno.pid}-` });
    return new RunRoots(nix, dir);
  }

  /** A fresh link name in the directory, for `nix build --out-link`. */
  link(label: string): string {
    return join(this.dir, `${this.#count++}-${label.replace(/[^A-Za-z0-9._-]/g, "_")}`);
  }

  /** Roots a valid store path; throws a {@link NixError} when it is not valid. */
  async keep(path: string): Promise<void> {
    await this.#nix.addRoot(path, this.link("path"));
  }

  /**
   * Roots `path` when it is valid; returns whether it did. A path that is not
   * valid is never handed to `nix-store --realise`, which would ask the
   * user's substituters for it.
   */
  async keepIfValid(path: string): Promise<boolean> {
    if (!(await this.#nix.isValid(path))) return false;
    try {
      await this.keep(path);
      return true;
    } catch (e) {
      if (e instanceof NixError) return false;
      throw e;
    }
  }

  /**
   * Adds `path` from the local binary cache `cacheDir` and roots it. Where
   * Nix lets this user choose substituters (root, or the owner of a local
   * store), one `nix-store --realise` does both, so no collection can come
   * between them. Otherwise the path is copied with `nix copy`, and a root
   * registered beforehand (for `anchor`, a valid path) is pointed at it the
   * moment the copy ends: a rename, with no process to start in between.
   * A collection that still takes it makes the copy run again.
   */
  async addFromCache(path: string, cacheDir: string, anchor: string): Promise<void> {
    if (await this.#nix.choosesSubstituters()) {
      try {
        return await this.#nix.realiseFromCache(path, cacheDir, this.link("generation"));
      } catch (e) {
        if (!(e instanceof NixError)) throw e;
        this.#nix.log.debug(`substituting '${path}' failed: copying it instead`);
      }
    }
    for (let attempt = 1;; attempt++) {
      const link = this.link("generation");
      await this.#nix.addRoot(anchor, link);
      await this.#nix.copyFromCache(cacheDir, path);
      const next = `${link}.next`;
      await Deno.symlink(path, next);
      await Deno.rename(next, link);
      if (await this.#nix.isValid(path)) return;
      if (attempt >= 5) {
        throw new FprofError(`'${path}' was collected each time it was added to the store`, {
          hint: "run the command again when the garbage collector is idle",
        });
      }
      this.#nix.log.debug(`'${path}' was collected before it was rooted: adding it again`);
    }
  }

  /**
   * Adds a path with `add` and roots it. A collection between the two can
   * delete the path again, so `add` is repeated (a few times) when the root
   * cannot be made because the path is gone; a path already valid is only
   * rooted.
   */
  async addAndKeep(path: string, add: () => Promise<void>): Promise<void> {
    for (let attempt = 1;; attempt++) {
      if (!(await this.#nix.isValid(path))) await add();
      try {
        return await this.keep(path);
      } catch (e) {
        if (!(e instanceof NixError) || attempt >= 5 || await this.#nix.isValid(path)) throw e;
        this.#nix.log.debug(`'${path}' was collected before it was rooted: adding it again`);
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}
