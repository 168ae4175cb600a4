/**
 * Generation records: what fprof remembers about every generation it makes.
 *
 * Nix keeps no parent for a generation, so `nix-env --rollback` goes to the
 * next lower number, which after a rollback and a new switch is not the
 * generation the user came from (NixOS/nix#311). fprof writes, for each
 * generation it makes, the generation that was current at the time.
 *
 * Records live in `$XDG_STATE_HOME/fprof/profiles/<profile path, URI-encoded>.json`
 * (a hash and the path's end when that name would be too long),
 * outside the profile directory, so `nix-env`, `nix profile` and
 * `nix-collect-garbage` never see them. A record is trusted only while its
 * generation link still points to the store path it names: another tool may
 * delete a generation or reuse its number.
 *
 * @module
 */

import { replaceFile } from "../safe_write.ts";
import { sha256HexSync } from "../hash.ts";
import { join } from "../path.ts";
import { FprofError } from "../errors.ts";
import type { Generation, ProfileState } from "./profile.ts";
import { type Env, stateHome } from "../xdg.ts";
import type { ManifestKind } from "../../manifest/types.ts";
import type { Pin } from "../nix/pins.ts";
import { crashPoint } from "../crash.ts";

/** What fprof knows about one generation it made. */
export interface GenerationRecord {
  generation: number;
  /** The store path the generation link points to. */
  storePath: string;
  /** The generation that was current when this one was made. */
  parent: number | null;
  /** The store path of {@link parent} at that time. */
  parentStorePath: string | null;
  /** The flake reference the user gave, such as `path:/home/u/profile`. */
  flake?: string;
  /** The locked flake URL it was built from. */
  lockedUrl?: string;
  /** The flake's revision (a git commit), when it has one. */
  revision?: string;
  /** The attribute that was built, such as `packages.x86_64-linux.profile`. */
  attr?: string;
  /** The environment the flake built, before fprof added a manifest. */
  envPath: string;
  /** Which manifest fprof wrote into the generation. */
  manifest: ManifestKind;
  /**
   * The `groups` of `lib.mkProfile` each package came from, by the package's
   * first store path, for `fprof list --group`.
   */
  groups?: Record<string, string>;
  /** ISO 8601 time of the switch. */
  createdAt: string;
  /** fprof version that made it. */
  fprofVersion: string;
  /**
   * The flake inputs `fprof switch --pin` (or the `pin` setting) pinned
   * after making this generation, so `fprof rollback` can tell when the pins
   * differ and `fprof pin --from-generation` can restore them.
   */
  pins?: Pin[];
}

/** The records file of one profile. */
export interface RecordsFile {
  version: 1;
  profile: string;
  generations: Record<string, GenerationRecord>;
}

/** The longest a file name may be on the file systems fprof runs on, in bytes. */
const NAME_MAX = 255;

/**
 * Room for what is added to a records file's name: `.json`, then
 * `.pending`, `.lock` or `.<pid>.tmp` (a pid has at most 7 digits).
 */
const SUFFIX_ROOM = ".json.pending.4194304.tmp".length + 7;

/** How much of the profile path a hashed records name keeps, to be read by people. */
const READABLE_TAIL = 100;

/**
 * The name (without `.json`) of the records of `profile`: the path
 * URI-encoded, or, when that with its suffixes would pass the file system's
 * limit of 255 bytes, the SHA-256 of the path (its first 32 hex digits)
 * followed by the encoded end of the path; pure.
 */
export function recordsName(profile: string): string {
  const encoded = encodeURIComponent(profile);
  if (encoded.length + SUFFIX_ROOM <= NAME_MAX) return encoded;
  let tail = "";
  for (const c of Array.from(profile).reverse()) {
    const next = encodeURIComponent(c) + tail;
    if (next.length > READABLE_TAIL) break;
    tail = next;
  }
  return `${sha256HexSync(profile).slice(0, 32)}-${tail}`;
}

/** Where the records of `profile` are kept. */
export function recordsPath(profile: string, env: Env = Deno.env): string {
  return join(stateHome(env), "fprof", "profiles", `${recordsName(profile)}.json`);
}

/**
 * Where an older fprof kept the records of `profile`, when that is not
 * {@link recordsPath} and could exist: a URI-encoded name short enough for
 * `.json` but too long for the files beside it.
 */
function legacyRecordsPath(profile: string, env: Env): string | null {
  const encoded = `${encodeURIComponent(profile)}.json`;
  const path = join(stateHome(env), "fprof", "profiles", encoded);
  return encoded.length <= NAME_MAX && path !== recordsPath(profile, env) ? path : null;
}

/** An empty records file for `profile`. */
export function emptyRecords(profile: string): RecordsFile {
  return { version: 1, profile, generations: {} };
}

/** Parses a records file; pure. */
export function parseRecords(
  text: string,
  file: string,
  profile: string,
): RecordsFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new FprofError(
      `cannot parse generation records '${file}': ${(e as Error).message}`,
      {
        cause: e,
        hint: "move the file away; fprof then treats every generation as made by another tool",
      },
    );
  }
  const d = data as Partial<RecordsFile>;
  if (
    typeof d !== "object" || d === null || d.version !== 1 ||
    typeof d.generations !== "object"
  ) {
    throw new FprofError(
      `generation records '${file}' have an unknown format`,
      {
        hint: "move the file away; fprof then treats every generation as made by another tool",
      },
    );
  }
  return { version: 1, profile, generations: d.generations ?? {} };
}

/** Reads the records of `profile`; none yet is an empty file. */
export async function loadRecords(
  profile: string,
  env: Env = Deno.env,
): Promise<RecordsFile> {
  const file = recordsPath(profile, env);
  try {
    return parseRecords(await Deno.readTextFile(file), file, profile);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const legacy = legacyRecordsPath(profile, env);
  if (legacy === null) return emptyRecords(profile);
  try {
    return parseRecords(await Deno.readTextFile(legacy), legacy, profile);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return emptyRecords(profile);
    throw e;
  }
}

/**
 * Writes the records atomically: a temporary file, created exclusively,
 * renamed over the old one.
 */
export async function saveRecords(
  records: RecordsFile,
  env: Env = Deno.env,
): Promise<void> {
  const file = recordsPath(records.profile, env);
  await replaceFile(file, JSON.stringify(records, null, 2) + "\n", {
    tmp: `${file}.${Deno.pid}.tmp`,
    beforeRename: () => crashPoint("records:temp-written"),
  });
  const legacy = legacyRecordsPath(records.profile, env);
  if (legacy !== null) await Deno.remove(legacy).catch(() => {});
}

/** The record of `gen`, if fprof made it and its link still points where it did. */
export function recordOf(
  records: RecordsFile,
  gen: Generation,
): GenerationRecord | undefined {
  const r = records.generations[String(gen.number)];
  return r && r.storePath === gen.storePath ? r : undefined;
}

/** Where a rollback goes, and why. */
export interface RollbackPlan {
  from: Generation;
  to: Generation;
  /**
   * `parent`: the recorded parent; `ancestor`: the parent was deleted, so the
   * nearest living recorded ancestor; `previous`: no record, so the next lower
   * number, as nix-env does.
   */
  reason: "parent" | "ancestor" | "previous";
  /** Recorded ancestors that no longer exist and were skipped. */
  skipped: number[];
}

/**
 * Chooses the rollback target of a profile; pure. Returns null when there is
 * nothing to roll back to.
 */
export function planRollback(
  state: ProfileState,
  records: RecordsFile,
): RollbackPlan | null {
  const from = state.current;
  if (!from) return null;
  const byNumber = new Map(state.generations.map((g) => [g.number, g]));
  const rec = recordOf(records, from);
  const skipped: number[] = [];
  if (rec) {
    let parent = rec.parent;
    let parentPath = rec.parentStorePath;
    const seen = new Set<number>([from.number]);
    while (parent !== null && !seen.has(parent)) {
      seen.add(parent);
      const g = byNumber.get(parent);
      if (g && (parentPath === null || g.storePath === parentPath)) {
        return {
          from,
          to: g,
          reason: skipped.length ? "ancestor" : "parent",
          skipped,
        };
      }
      skipped.push(parent);
      const up = records.generations[String(parent)];
      if (!up || (parentPath !== null && up.storePath !== parentPath)) break;
      parent = up.parent;
      parentPath = up.parentStorePath;
    }
    if (parent === null && skipped.length === 0) return null;
  }
  // No usable record: do what nix-env --rollback does.
  const lower = state.generations.filter((g) => g.number < from.number);
  const to = lower.at(-1);
  return to ? { from, to, reason: "previous", skipped } : null;
}

/**
 * The parent of `made`, the generation a switch just set, judged from the
 * profile as the switch planned it (`planned`) and as it is now (`after`).
 * fprof holds the profile lock, but `nix-env --set` does not take it: a
 * generation another tool added meanwhile (numbered between the planned
 * profile's last one and `made`) was current when `made` was set, so the
 * newest of them is the parent, and all of them are returned as `foreign`
 * for a warning. Pure.
 */
export function parentAfterSet(
  planned: ProfileState,
  after: ProfileState,
  made: Generation,
): { parent: Generation | null; foreign: Generation[] } {
  const known = new Set(planned.generations.map((g) => g.number));
  const foreign = after.generations.filter((g) => g.number < made.number && !known.has(g.number))
    .sort((a, b) => a.number - b.number);
  return { parent: foreign.at(-1) ?? planned.current, foreign };
}
