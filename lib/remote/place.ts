/**
 * A profile on another host, read and changed over ssh with the host's own
 * Nix (see {@link ProfilePlace}).
 *
 * Its records (each generation's parent and source) stay on this machine,
 * under `ssh://USER@HOST/PATH`, with USER and HOST as the host reports them,
 * so that a host named by an alias or an address keeps one history. They
 * stay here because this machine holds what they describe: the flake, its
 * lock and the build; the target needs nothing but Nix, and a switch makes
 * one change there (`nix-env --set`), which cannot be half done.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { FprofError } from "../errors.ts";
import type { NixVersion } from "../nix/nix.ts";
import {
  type GenerationContents,
  manifestNixPackages,
  packagesFromReferences,
} from "../profile/generation.ts";
import type { ProfilePlace } from "../profile/place.ts";
import { type Generation, type ProfileState, withLockFile } from "../profile/profile.ts";
import { recordsPath } from "../profile/records.ts";
import { ManifestError, parseManifestJson } from "../../manifest/mod.ts";
import { join } from "../path.ts";
import { RemoteHost } from "./host.ts";
import { checkRemoteProfile } from "./host_names.ts";
import type { RemotePathInfo, RemoteState } from "./inspect.ts";

/** A profile on a remote host. */
export class RemotePlace implements ProfilePlace {
  readonly remote: RemoteHost;
  readonly profile: string;
  readonly #ctx: Context;
  /** What was read of each store path in this run; a store path never changes. */
  readonly #paths = new Map<string, RemotePathInfo>();
  #first?: ProfileState;

  constructor(remote: RemoteHost, found: RemoteState, ctx: Context) {
    this.remote = remote;
    this.profile = found.state.profile;
    this.#first = found.state;
    this.#seed(found.paths);
    this.#ctx = ctx;
  }

  get host(): string {
    return this.remote.spec;
  }

  get label(): string {
    return `${this.remote.spec}:${this.profile}`;
  }

  get recordsKey(): string {
    const f = this.remote.facts;
    return `ssh://${f.user}@${f.host}${this.profile}`;
  }

  get storeDir(): string {
    return this.remote.facts.storeDir;
  }

  nixVersion(): Promise<NixVersion> {
    return Promise.resolve(this.remote.facts.nixVersion);
  }

  /**
   * Reads the profile, with the current generation's contents in the same
   * round trip. The first call returns the state read while finding the
   * profile, a moment earlier.
   */
  async read(): Promise<ProfileState> {
    if (this.#first) {
      const state = this.#first;
      this.#first = undefined;
      return state;
    }
    const { state, paths } = await this.remote.readState(this.profile, "current");
    this.#seed(paths);
    return state;
  }

  #seed(paths: Map<string, RemotePathInfo>): void {
    for (const [p, info] of paths) this.#paths.set(p, info);
  }

  async #info(storePath: string): Promise<RemotePathInfo> {
    let info = this.#paths.get(storePath);
    if (!info) {
      this.#seed((await this.remote.readState(this.profile, "none", [storePath])).paths);
      info = this.#paths.get(storePath);
    }
    if (!info || info.missing) {
      throw new FprofError(`'${storePath}' is missing from the store of '${this.host}'`);
    }
    return info;
  }

  async prefetch(paths: readonly string[]): Promise<void> {
    const wanted = [...new Set(paths)].filter((p) => !this.#paths.has(p));
    if (wanted.length > 0) {
      this.#seed((await this.remote.readState(this.profile, "none", wanted)).paths);
    }
  }

  async contents(storePath: string): Promise<GenerationContents> {
    const info = await this.#info(storePath);
    const m = info.manifest;
    if (m === null) {
      return { manifest: "none", packages: packagesFromReferences(storePath, info.references) };
    }
    const file = join(storePath, `manifest.${m.kind}`);
    const label = `${this.host}:${file}`;
    if (m.kind === "nix") {
      // What fprof's parser does not understand, the host's Nix reads.
      const host = { evalJson: this.remote.evalJson.bind(this.remote), log: this.#ctx.log };
      return { manifest: "nix", packages: await manifestNixPackages(m.text, file, label, host) };
    }
    try {
      return { manifest: "json", packages: parseManifestJson(m.text) };
    } catch (e) {
      if (!(e instanceof ManifestError)) throw e;
      throw new FprofError(`cannot read '${label}': ${e.message}`, { cause: e });
    }
  }

  async providesNix(root: string): Promise<boolean> {
    return (await this.#info(root)).hasNix;
  }

  closureSizes(paths: readonly string[]): Promise<Map<string, number>> {
    return this.remote.closureSizes(paths);
  }

  withLock<T>(onWait: () => void, fn: () => Promise<T>): Promise<T> {
    return withLockFile(`${recordsPath(this.recordsKey, this.#ctx.env)}.lock`, onWait, fn);
  }

  switchTo(gen: Generation): Promise<void> {
    return this.remote.switchGeneration(this.profile, gen.number);
  }

  /** Makes `path` valid on the host, copying what it lacks. */
  receive(path: string): Promise<void> {
    return this.remote.receive(path);
  }

  /** After the first switch of the host's default profile, links `~/.nix-profile` to it. */
  ensureProfileLink(): Promise<void> {
    return this.remote.linkProfile(this.profile);
  }

  /** `nix-env --set` on the host. */
  set(path: string): Promise<void> {
    return this.remote.setProfile(this.profile, path);
  }

  /** Whether `path` is valid on the host. */
  isValid(path: string): Promise<boolean> {
    return this.remote.isValid(path);
  }
}

/** Connects to `host` and finds its profile: `explicit`, or the one its Nix uses. */
export async function remotePlace(
  ctx: Context,
  host: string,
  explicit: string | undefined,
): Promise<RemotePlace> {
  if (explicit !== undefined) checkRemoteProfile(explicit);
  const remote = await RemoteHost.connect(host, ctx.nix, ctx.env);
  const found = await remote.readState(remote.profileStart(explicit), "current");
  return new RemotePlace(remote, found, ctx);
}
