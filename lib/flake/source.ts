/**
 * Where a switch builds the environment and makes the new generation: this
 * machine's store, or a build host's (`--build-host`). Evaluation always
 * happens here; with a build host Nix copies the derivations there and builds
 * them there (`--store ssh-ng://HOST --eval-store auto`), fprof adds the
 * generation to that store, and the closure goes from the build host to each
 * target without passing through this machine.
 *
 * @module
 */

import { readDirNames } from "../fs.ts";
import { FprofError } from "../errors.ts";
import type { RunRoots } from "../nix/gc_roots.ts";
import { type Nix, nixArgv, type PathInfo } from "../nix/nix.ts";
import { providesNix } from "../profile/generation.ts";
import type { ProfilePlace } from "../profile/place.ts";
import type { RemoteHost } from "../remote/host.ts";
import { RemotePlace } from "../remote/place.ts";
import { copyFailure } from "../remote/ssh.ts";

/** The store a switch's new paths are made in. */
export interface PathSource {
  /** The build host, when it is not this machine. */
  readonly host?: RemoteHost;
  /** Extra arguments of `nix build`. */
  readonly buildArgs: string[];
  /** The top-level names of a directory in the store. */
  entries(path: string): Promise<string[]>;
  pathInfo(paths: readonly string[], opts?: { recursive?: boolean }): Promise<PathInfo[]>;
  providesNix(path: string): Promise<boolean>;
  closureSizes(paths: readonly string[]): Promise<Map<string, number>>;
  /** Whether `path` is valid there, rooting it for the run where that can be done. */
  keepIfValid(path: string): Promise<boolean>;
  /** Adds `path` from the local binary cache `dir`; `anchor` is a valid path it refers to. */
  addFromCache(path: string, dir: string, anchor: string): Promise<void>;
  /** Makes `path` and its closure valid where `place` lives, signed with `keys`. */
  sendTo(place: ProfilePlace, path: string, keys: readonly string[]): Promise<void>;
}

/**
 * `nix store sign` of `path` and its closure with a secret key file, in this
 * machine's store or in `storeUrl`'s (Nix signs here with the local file and
 * stores the signatures there). The argv names the key file, never its
 * contents. Pure.
 */
export function signArgv(key: string, path: string, storeUrl?: string): string[] {
  const store = storeUrl === undefined ? [] : ["--store", storeUrl];
  return nixArgv(["store", "sign", ...store, "--key-file", key, "--recursive", path]);
}

/** This machine's store. */
export class LocalSource implements PathSource {
  readonly buildArgs: string[] = [];
  readonly #nix: Nix;
  readonly #roots: RunRoots;

  constructor(nix: Nix, roots: RunRoots) {
    this.#nix = nix;
    this.#roots = roots;
  }

  async entries(path: string): Promise<string[]> {
    return (await readDirNames(path)).sort();
  }

  pathInfo(paths: readonly string[], opts: { recursive?: boolean } = {}): Promise<PathInfo[]> {
    return this.#nix.pathInfo(paths, opts);
  }

  providesNix(path: string): Promise<boolean> {
    return providesNix(path);
  }

  closureSizes(paths: readonly string[]): Promise<Map<string, number>> {
    return this.#nix.closureSizes(paths);
  }

  keepIfValid(path: string): Promise<boolean> {
    return this.#roots.keepIfValid(path);
  }

  addFromCache(path: string, dir: string, anchor: string): Promise<void> {
    return this.#roots.addFromCache(path, dir, anchor);
  }

  async sendTo(place: ProfilePlace, path: string, keys: readonly string[]): Promise<void> {
    if (!(place instanceof RemotePlace)) return;
    for (const key of keys) {
      await this.#nix.run(signArgv(key, path), { context: `cannot sign '${path}' with '${key}'` });
    }
    await place.receive(path);
  }
}

/** A build host's store, reached with Nix's ssh-ng transport. */
export class BuildHostSource implements PathSource {
  readonly host: RemoteHost;
  readonly #nix: Nix;
  readonly #roots: RunRoots;

  constructor(host: RemoteHost, nix: Nix, roots: RunRoots) {
    this.host = host;
    this.#nix = nix;
    this.#roots = roots;
  }

  get buildArgs(): string[] {
    return ["--store", this.host.storeUrl, "--eval-store", "auto"];
  }

  async entries(path: string): Promise<string[]> {
    const { stdout } = await this.host.run(["ls", "-A", path], `cannot read '${path}'`);
    return stdout.split("\n").filter((n) => n !== "").sort();
  }

  pathInfo(paths: readonly string[], opts: { recursive?: boolean } = {}): Promise<PathInfo[]> {
    return this.host.pathInfo(paths, opts);
  }

  async providesNix(path: string): Promise<boolean> {
    const { stdout } = await this.host.run(
      [
        "sh",
        "-c",
        'test -e "$1" || exit 1; test -e "$1/bin/nix" && echo yes || echo no',
        "sh",
        path,
      ],
      `'${path}' is missing from the store of '${this.host.spec}'`,
    );
    return stdout.trim() === "yes";
  }

  closureSizes(paths: readonly string[]): Promise<Map<string, number>> {
    return this.host.closureSizes(paths);
  }

  /** Valid on the build host; nothing can root it there for this run. */
  keepIfValid(path: string): Promise<boolean> {
    return this.host.isValid(path);
  }

  async addFromCache(path: string, dir: string, _anchor: string): Promise<void> {
    await this.#copy(["--from", `file://${dir}`, "--to", this.host.storeUrl, path]);
  }

  async sendTo(place: ProfilePlace, path: string, keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      await this.#run(
        signArgv(key, path, this.host.storeUrl),
        `cannot sign '${path}' on '${this.host.spec}' with '${key}'`,
      );
    }
    if (place instanceof RemotePlace) {
      // From the build host straight to the target, under the target's name.
      await this.host.run(
        nixArgv(["copy", "--no-check-sigs", "--to", place.remote.storeUrl, path]),
        `cannot copy from '${this.host.spec}' to '${place.host}'`,
      );
      return;
    }
    await this.#copy(["--no-check-sigs", "--from", this.host.storeUrl, path]);
    if (!(await this.#roots.keepIfValid(path))) {
      throw new FprofError(`'${path}' is missing after copying it from '${this.host.spec}'`);
    }
  }

  async #copy(args: string[]): Promise<void> {
    await this.#run(nixArgv(["copy", ...args]), `cannot copy through '${this.host.spec}'`);
  }

  /** Runs Nix here on the build host's store; a dropped connection says so. */
  async #run(argv: string[], context: string): Promise<void> {
    try {
      await this.#nix.run(argv, { context, env: this.host.sshEnv });
    } catch (e) {
      throw copyFailure(this.host.spec, e);
    }
  }
}
