/**
 * What a killed fprof leaves behind, and how the next run tidies it.
 *
 * fprof changes files by writing a temporary file and renaming it over the old
 * one, and adds generations through a temporary binary cache, so a crash can
 * leave only three kinds of debris, each harmless to the profile:
 *
 * - temporary files, named after the pid of the fprof that wrote them
 *   (`records.json.<pid>.tmp`, `.registry.json.fprof-<pid>.tmp`, …), cache
 *   directories `cache-<pid>-*` and GC root directories `roots-<pid>-*`:
 *   removed once that process is gone;
 * - a generation that `nix-env --set` made but whose record was not saved:
 *   before setting it, switch writes the record it is about to save to
 *   `<records>.pending`; the next switch saves it if the generation exists
 *   and drops it otherwise, so the generation is still known as fprof's;
 * - a store path that `nix copy` added but no generation uses: left to
 *   `nix-store --gc`, like any other unrooted path.
 *
 * @module
 */

import { replaceFile } from "../safe_write.ts";
import { basename, dirname, join } from "../path.ts";
import type { ProfileState } from "./profile.ts";
import { type GenerationRecord, loadRecords, recordsPath, saveRecords } from "./records.ts";
import type { Env } from "../xdg.ts";
import { pinFiles, type PinScope, pinsDir } from "../nix/pins.ts";

/**
 * Where a killed fprof may have left temporary files, and the names they
 * have there; the first group of each pattern is the pid of the writer.
 */
export interface TempPlace {
  dir: string;
  pattern: RegExp;
}

/** A name fprof gives only its own temporary files, in directories it shares. */
const FPROF_TEMP = /^\..+\.fprof-(\d+)\.tmp$/;

/**
 * The places a switch or pin may leave temporary files: beside the profile
 * (the profile link's own temporary name only), fprof's records, its cache,
 * and the given shared directories (fprof's `.NAME.fprof-PID.tmp` names
 * only). Pure.
 */
export function tempPlaces(args: {
  profile?: string;
  /** fprof's own directories, where any `NAME.PID.tmp`, `cache-PID-*` and `roots-PID-*` is fprof's. */
  own: readonly string[];
  /** Directories shared with other programs, such as `~/.config/nix`. */
  shared?: readonly string[];
  env: Env;
}): TempPlace[] {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const places: TempPlace[] = [];
  if (args.profile) {
    places.push({
      dir: dirname(args.profile),
      pattern: new RegExp(`^${escape(basename(args.profile))}\\.(\\d+)\\.tmp$`),
    });
    places.push({ dir: dirname(recordsPath(args.profile, args.env)), pattern: /\.(\d+)\.tmp$/ });
  }
  for (const dir of args.own) {
    places.push({ dir, pattern: /\.(\d+)\.tmp$/ }, { dir, pattern: /^(?:cache|roots)-(\d+)-/ });
  }
  for (const dir of args.shared ?? []) places.push({ dir, pattern: FPROF_TEMP });
  return places;
}

/** The pid in a temporary file's name, or null when the name is not one. Pure. */
export function ownerPid(name: string, pattern: RegExp): number | null {
  const m = pattern.exec(name);
  return m ? Number(m[1]) : null;
}

/** Whether a process with this pid exists; where `/proc` is missing, assume it does. */
function alive(pid: number): boolean {
  if (pid === Deno.pid) return true;
  try {
    Deno.statSync("/proc/self");
  } catch {
    return true;
  }
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes the temporary files and cache directories of fprof processes that
 * no longer run. Returns what it removed; a directory that is missing or
 * unreadable is skipped.
 */
export async function removeStaleTemps(places: readonly TempPlace[]): Promise<string[]> {
  const removed: string[] = [];
  for (const { dir, pattern } of places) {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      continue;
    }
    for (const e of entries) {
      const pid = ownerPid(e.name, pattern);
      if (pid === null || alive(pid)) continue;
      const path = join(dir, e.name);
      try {
        await Deno.remove(path, { recursive: true });
        removed.push(path);
      } catch {
        // Another run removed it first.
      }
    }
  }
  return removed;
}

/**
 * Removes what a killed fprof left where any command may tidy it: pin's
 * temporary files beside registry.json and nix.conf (the user's, and as
 * root the system's, and beside the files they link to, which pin edits
 * through the link), those in pin's state, and those in `tmp`, fprof's
 * temporary root. Every command calls it as it starts, so a kill's debris
 * lasts only until the next fprof of any kind; it never fails the command.
 */
export async function sweepStaleTemps(tmp: string, env: Env): Promise<string[]> {
  try {
    const scopes: PinScope[] = Deno.uid() === 0 ? ["user", "system"] : ["user"];
    const files = scopes.flatMap((scope) => Object.values(pinFiles(scope, env)));
    const dirs = await Promise.all(
      files.map(async (f) => dirname(await Deno.realPath(f).catch(() => f))),
    );
    return await removeStaleTemps(tempPlaces({
      own: [pinsDir(env), tmp],
      shared: [...new Set(dirs)],
      env,
    }));
  } catch {
    // No HOME, say: the command itself reports that, if it needs one.
    return [];
  }
}

/** Where switch notes the record it is about to save. */
export function pendingPath(profile: string, env: Env): string {
  return `${recordsPath(profile, env)}.pending`;
}

/** The record a switch will save once its generation exists, minus the generation's number. */
export type PendingRecord = Omit<GenerationRecord, "generation">;

/** Notes the record of a generation about to be set; call it holding the profile lock. */
export async function writePending(
  profile: string,
  record: PendingRecord,
  env: Env,
): Promise<void> {
  const file = pendingPath(profile, env);
  await replaceFile(file, JSON.stringify(record, null, 2) + "\n", {
    tmp: `${file}.${Deno.pid}.tmp`,
  });
}

/** Forgets the pending record once the real one is saved. */
export async function clearPending(profile: string, env: Env): Promise<void> {
  await Deno.remove(pendingPath(profile, env)).catch(() => {});
}

/**
 * Completes the work of a switch that died between `nix-env --set` and saving
 * its record: the newest generation pointing at the pending store path, if it
 * has no record yet, gets the pending record. Call it holding the profile
 * lock, with the profile as read under it. Returns the generation it
 * recorded, or null.
 */
export async function recoverPending(
  profile: string,
  state: ProfileState,
  env: Env,
): Promise<number | null> {
  const file = pendingPath(profile, env);
  let pending: PendingRecord;
  try {
    pending = JSON.parse(await Deno.readTextFile(file));
  } catch {
    // None, or a pending file cut short (the rename makes that unlikely):
    // either way there is nothing to complete.
    await Deno.remove(file).catch(() => {});
    return null;
  }
  const made = [...state.generations]
    .filter((g) => g.storePath === pending.storePath)
    .sort((a, b) => b.number - a.number)[0];
  let recorded: number | null = null;
  if (made) {
    const records = await loadRecords(profile, env);
    const key = String(made.number);
    if (records.generations[key]?.storePath !== made.storePath) {
      records.generations[key] = { ...pending, generation: made.number };
      await saveRecords(records, env);
      recorded = made.number;
    }
  }
  await Deno.remove(file).catch(() => {});
  return recorded;
}
