/**
 * fprof's own cache of evaluations: which environment a locked flake builds.
 *
 * Nix's eval cache does not answer what a switch asks. `nix eval` (with
 * `--apply`, `--json` or `--raw`) is never served from it, and a `nix build`
 * of a newly locked flake evaluates in full the first two times, so a no-op
 * switch would pay a whole nixpkgs evaluation each time. What the answer
 * depends on is known before any evaluation, though: a flake locked by
 * `narHash` or `rev` (its inputs locked too, as `nix flake metadata` reports
 * them) evaluates purely to the same derivation, so the built environment
 * and its package record can be kept under a key of exactly those facts.
 *
 * An entry is only ever a hint: it is used when the environment it names is
 * still valid in the store (and rooted for the run), and a flake that is not
 * locked by content, or `--impure`, gets no key at all.
 *
 * Entries live in `$XDG_CACHE_HOME/fprof/eval/`, one JSON file per key. They
 * are read only when the directory and the file belong to this user and no
 * one else may write them (root may run with another user's `HOME`), and
 * written through an exclusive temporary file, so a planted link is never
 * followed.
 *
 * @module
 */

import { join } from "../path.ts";
import { cacheHome, type Env } from "../xdg.ts";
import { replaceFile } from "../safe_write.ts";
import type { FlakeMetadata } from "../nix/nix.ts";

/** Bumped when an entry's meaning changes, so old entries are never read. */
const SCHEMA = 1;

/** How many entries are kept: the oldest beyond this are removed. */
const KEEP = 64;

/** What one evaluation of a profile found. */
export interface EvalEntry {
  /** The attribute that exists, such as `packages.x86_64-linux.profile`. */
  attr: string;
  /** The environment's store path. */
  envPath: string;
  /** Its `passthru.fprof` record as Nix gave it, or `null`. */
  record: unknown;
}

/** The facts an evaluation depends on. */
export interface EvalFacts {
  meta: FlakeMetadata;
  /** The attributes tried, in order. */
  attrs: readonly string[];
  flakeArgs: readonly string[];
  /** `nix --version`'s line. */
  nixVersion: string;
  storeDir: string;
}

/**
 * The key of an evaluation, or `null` when its result may change without its
 * facts changing: a flake not locked by content (a dirty git tree, say) or
 * an impure evaluation.
 *
 * @example
 * ```ts
 * import { evalKey } from "./eval_cache.ts";
 * const facts = {
 *   meta: { originalUrl: "path:/p", url: "path:/p?narHash=sha256-x" },
 *   attrs: ["packages.x86_64-linux.profile"],
 *   flakeArgs: [],
 *   nixVersion: "nix (Nix) 2.8.0",
 *   storeDir: "/nix/store",
 * };
 * (await evalKey(facts))?.length; // => 64
 * await evalKey({ ...facts, meta: { originalUrl: "git+file:///p", url: "git+file:///p" } }); // => null
 * ```
 */
export async function evalKey(facts: EvalFacts): Promise<string | null> {
  const { meta, attrs, flakeArgs, nixVersion, storeDir } = facts;
  if (!/[?&](narHash|rev)=/.test(meta.url)) return null;
  if (flakeArgs.includes("--impure")) return null;
  const text = JSON.stringify([
    SCHEMA,
    meta.url,
    meta.locks ?? null,
    attrs,
    flakeArgs,
    nixVersion,
    storeDir,
  ]);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Checks an entry read from disk. Pure.
 *
 * @example
 * ```ts
 * import { parseEvalEntry } from "./eval_cache.ts";
 * parseEvalEntry({ schema: 1, attr: "a", envPath: "/s/e", record: null })?.envPath; // => "/s/e"
 * parseEvalEntry({ schema: 2, attr: "a", envPath: "/s/e" }); // => null
 * ```
 */
export function parseEvalEntry(value: unknown): EvalEntry | null {
  if (typeof value !== "object" || value === null) return null;
  const v = value as Record<string, unknown>;
  if (v.schema !== SCHEMA || typeof v.attr !== "string" || typeof v.envPath !== "string") {
    return null;
  }
  return { attr: v.attr, envPath: v.envPath, record: v.record ?? null };
}

/** The cache directory of this user. */
export function evalCacheDir(env: Env): string {
  return join(cacheHome(env), "fprof", "eval");
}

/** One user's cache of evaluations. */
export class EvalCache {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** The entry under `key`, or `null` when there is none this user can trust. */
  async read(key: string): Promise<EvalEntry | null> {
    if (!(await ownedBySelf(this.dir, true))) return null;
    const file = join(this.dir, `${key}.json`);
    if (!(await ownedBySelf(file, false))) return null;
    try {
      return parseEvalEntry(JSON.parse(await Deno.readTextFile(file)));
    } catch {
      return null;
    }
  }

  /**
   * Keeps `entry` under each of `keys`. A cache that cannot be written only
   * costs an evaluation next time, so failures are ignored.
   */
  async write(keys: readonly string[], entry: EvalEntry): Promise<void> {
    try {
      await Deno.mkdir(this.dir, { recursive: true, mode: 0o700 });
      if (!(await ownedBySelf(this.dir, true))) return;
      const text = JSON.stringify({ schema: SCHEMA, ...entry }) + "\n";
      for (const key of new Set(keys)) {
        const tmp = join(this.dir, `.${key}.${Deno.pid}.${crypto.randomUUID()}.tmp`);
        await replaceFile(join(this.dir, `${key}.json`), text, { tmp, mode: 0o600 });
      }
      await this.#prune();
    } catch {
      // An unwritable cache is no error: the next run evaluates again.
    }
  }

  /** Removes the oldest entries beyond {@link KEEP}. */
  async #prune(): Promise<void> {
    const entries: { name: string; mtime: number }[] = [];
    for await (const e of Deno.readDir(this.dir)) {
      if (!e.isFile || !e.name.endsWith(".json")) continue;
      const info = await Deno.lstat(join(this.dir, e.name)).catch(() => null);
      if (info) entries.push({ name: e.name, mtime: info.mtime?.getTime() ?? 0 });
    }
    entries.sort((a, b) => b.mtime - a.mtime);
    for (const e of entries.slice(KEEP)) {
      await Deno.remove(join(this.dir, e.name)).catch(() => {});
    }
  }
}

/**
 * Whether `path` is this user's own directory or regular file, not a link,
 * and writable by no one else.
 */
async function ownedBySelf(path: string, dir: boolean): Promise<boolean> {
  const info = await Deno.lstat(path).catch(() => null);
  if (!info || info.isSymlink || (dir ? !info.isDirectory : !info.isFile)) return false;
  return info.uid === Deno.uid() && ((info.mode ?? 0) & 0o022) === 0;
}
