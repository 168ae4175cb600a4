/**
 * `fprof pin`, applying a plan: the undo record first, then each file
 * written aside and renamed into place, so that a pin stopped at any point
 * is reported by `--status`, finished by the next pin and undone by `--unpin`.
 *
 * @module
 */

import { type Context, tmpRoot } from "../../context.ts";
import { crashPoint } from "../../crash.ts";
import { FprofError, NixError } from "../../errors.ts";
import { readBytesOrNull } from "../../fs.ts";
import { RunRoots } from "../../nix/gc_roots.ts";
import { isConfigReason } from "../../nix/nix.ts";
import {
  type ChangedFile,
  describePins,
  type Pin,
  pinFiles,
  pinRootPath,
  type PinScope,
  pinsDir,
  type PinState,
  pinStatePath,
} from "../../nix/pins.ts";
import { printRegistry } from "../../nix/registry.ts";
import { osErrorReport } from "../../os_error.ts";
import { basename, dirname, join } from "../../path.ts";
import { addGenerationToStore } from "../../profile/generation.ts";
import { readProfile, withLockFile } from "../../profile/profile.ts";
import { fileMode, replaceFile, writeNewFile } from "../../safe_write.ts";
import type { Env } from "../../xdg.ts";
import {
  type FileChange,
  hex,
  type PinOptions,
  type PinPlan,
  planPins,
  printPinDryRun,
  warnAboutPinEnvironment,
} from "./plan.ts";

/** The file fprof changes for a config file at `path`, and that file's mode. */
interface EditTarget {
  /** `path` itself, or the file it is a link to: a link is edited through, never replaced. */
  target: string;
  /** The permission bits it has, or null when there is no file yet. */
  mode: number | null;
}

/**
 * Where to write a config file: a link is followed to the file it leads to,
 * unless that file is in the Nix store (put there by another tool, and not
 * fprof's to change) or missing; both are refused before anything changes.
 */
async function editTarget(path: string, storeDir: string): Promise<EditTarget> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { target: path, mode: null };
    throw e;
  }
  if (!info.isSymlink) return { target: path, mode: info.mode! & 0o7777 };
  const link = await Deno.readLink(path);
  let target: string;
  try {
    target = await Deno.realPath(path);
  } catch (cause) {
    throw new FprofError(`'${path}' is a link to '${link}', which does not exist`, {
      cause,
      hint: "create the file it points to, or remove the link; fprof changed nothing",
    });
  }
  if (target.startsWith(storeDir + "/")) {
    throw new FprofError(`'${path}' is a link into the Nix store, which fprof cannot change`, {
      hint: "change the setting where that file is declared, or replace the link " +
        "with a copy of the file; fprof changed nothing",
    });
  }
  return { target, mode: await fileMode(target) };
}

/**
 * Writes `text` to a temporary file beside the file `path` stands for (see
 * {@link editTarget}), created exclusively with that file's mode, or the
 * mode a new file gets when there is none (`mode` overrides both).
 */
export async function writeTemp(
  path: string,
  text: Uint8Array,
  storeDir: string,
  mode?: number,
): Promise<EditTarget & { tmp: string }> {
  const edit = await editTarget(path, storeDir);
  await Deno.mkdir(dirname(edit.target), { recursive: true });
  // An existing file that cannot be written is reported before anything changes.
  try {
    (await Deno.open(edit.target, { write: true })).close();
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const tmp = join(dirname(edit.target), `.${basename(edit.target)}.fprof-${Deno.pid}.tmp`);
  await writeNewFile(tmp, text, mode ?? edit.mode ?? undefined);
  return { ...edit, tmp };
}

/**
 * Two pins at once would each back up and rewrite registry.json and
 * nix.conf; one lock in fprof's pin state makes them take turns.
 */
export function withPinLock<T>(ctx: Context, fn: () => Promise<T>): Promise<T> {
  return withLockFile(
    join(pinsDir(ctx.env), "lock"),
    () => ctx.log.step("waiting for another fprof pin to finish"),
    fn,
  );
}

export function applyPins(
  scope: PinScope,
  pins: Pin[],
  flakeDir: string,
  opts: PinOptions,
  ctx: Context,
): Promise<void> {
  return withPinLock(ctx, () => applyPinsLocked(scope, pins, flakeDir, opts, ctx));
}

async function applyPinsLocked(
  scope: PinScope,
  pins: Pin[],
  flakeDir: string,
  opts: PinOptions,
  ctx: Context,
) {
  const { nix, log, env } = ctx;
  const files = pinFiles(scope, env);
  // What an earlier, killed fprof left half-done went first, in makeContext.
  // The channels generation stays rooted until its profile holds it.
  await using runRoots = await RunRoots.open(nix, tmpRoot(ctx));
  await checkSourcesInStore(pins, flakeDir, ctx);
  const plan = await planPins(scope, pins, files, opts, ctx);
  warnAboutPinEnvironment(plan, opts, ctx);
  // A pin that was stopped half-way is finished even when its files are in place.
  const nothing = plan.changes.length === 0 && !plan.channelsChange &&
    plan.roots.every((r) => r.ok) && plan.staleRoots.length === 0 && !plan.previous?.pending;
  if (nothing) {
    log.step(`nothing changed: already pinned (${describePins(pins)})`);
    return;
  }
  if (opts.dryRun) return await printPinDryRun(plan);

  const temps = await prepareTemps(plan, opts, ctx, runRoots);
  crashPoint("pin:temps-written");
  const state: PinState = plan.previous ?? {
    version: 1,
    scope,
    flake: flakeDir,
    pins: [],
    files: [],
    channels: null,
  };
  await recordIntent(plan, temps, state, flakeDir, ctx);
  // The channels profile goes first: if nix-env fails, no file has changed yet.
  // A failure from here on removes the temporary files not yet in place.
  const moved = new Set<PinTemp>();
  try {
    await setChannelsProfile(plan, state, ctx);
    await moveTempsInPlace(temps, moved, ctx);
  } catch (e) {
    await removeTemps(temps.filter((t) => !moved.has(t)));
    throw halfDone(e, `pin stopped before every file was in place`);
  }
  crashPoint("pin:files-written");

  for (const p of plan.staleRoots) {
    await Deno.remove(pinRootPath(scope, p.id, env)).catch(() => {});
  }
  state.pins = pins;
  try {
    await settleState(state);
    await saveState(state, env, true);
  } catch (e) {
    throw halfDone(e, `cannot note in '${pinStatePath(scope, env)}' that the pin finished`);
  }
  log.step(`pinned ${describePins(pins)}`);
}

/**
 * The error of a pin that stopped after its state noted it as pending:
 * files may have changed, and both ways out are named.
 */
function halfDone(e: unknown, what: string): FprofError {
  if (e instanceof FprofError) return e;
  return new FprofError(`${what}: ${(e as Error).message}`, {
    cause: e,
    hint: "the pin is half done and noted as such: run 'fprof pin' again to finish it, " +
      "or 'fprof pin --unpin' to undo it",
  });
}

/**
 * Notes in the state, before the first change, what the pin is about to
 * change: a backup of each file fprof has not changed before, the hashes of
 * the text each file has and will get, and the channels generation. A pin
 * killed after this is reported by `--status`, finished by `pin` and undone
 * by `--unpin`. A failure here (a full disk) leaves no backup it made and no
 * temporary file, and nothing the user sees has changed.
 */
async function recordIntent(
  plan: PinPlan,
  temps: readonly PinTemp[],
  state: PinState,
  flakeDir: string,
  ctx: Context,
) {
  const made: string[] = [];
  try {
    for (const t of temps) {
      let entry: ChangedFile | undefined = state.files.find((f) => f.path === t.path);
      if (!entry) {
        const backup = t.old === null ? null : await writeBackup(state.scope, t, ctx.env);
        if (backup) made.push(backup);
        entry = { path: t.path, backup, written: "", ...(t.mode !== null ? { mode: t.mode } : {}) };
        state.files.push(entry);
      }
      entry.before = await hex(t.old ?? new Uint8Array());
      entry.written = await hex(t.text);
    }
    if (plan.channelsChange && plan.channels) {
      const ch = plan.channels;
      const kept = state.channels?.profile === ch.profile ? state.channels : null;
      state.channels = {
        profile: ch.profile,
        previous: kept ? kept.previous : plan.channelsBefore,
        generation: null,
        storePath: plan.channelsGen.storePath,
        before: plan.channelsBeforePath,
        createdLink: ch.exists ? kept?.createdLink ?? null : ch.link,
      };
    }
    state.pending = plan.pins;
    state.flake = flakeDir || state.flake;
    await saveState(state, ctx.env);
  } catch (e) {
    await removeTemps(temps);
    await Promise.all(made.map((b) => Deno.remove(b).catch(() => {})));
    throw changedNothing(e, "cannot save the pin's state");
  }
}

/** The error of a pin that stopped before its first change, which says so. */
function changedNothing(e: unknown, what: string): FprofError {
  if (e instanceof FprofError) return e;
  const advice = osErrorReport(e)?.hint;
  return new FprofError(`${what}: ${(e as Error).message}`, {
    cause: e,
    hint: `${advice ? `${advice}; ` : ""}fprof changed nothing`,
  });
}

/** Keeps the file as it was before fprof's first change, as private as it is; returns where. */
async function writeBackup(scope: PinScope, t: PinTemp, env: Env): Promise<string> {
  const backups = join(pinsDir(env), "backups");
  await Deno.mkdir(backups, { recursive: true, mode: 0o700 });
  const backup = join(backups, `${scope}-${encodeURIComponent(t.path)}`);
  await writeNewFile(backup, t.old!, t.mode ?? 0o600);
  return backup;
}

/**
 * Turns a pending state into a finished one: each file's hash is that of
 * the text it now holds (of the two a pending pin allowed), and the channels
 * generation gets its number.
 */
async function settleState(state: PinState) {
  for (const f of state.files) {
    if (f.before === undefined) continue;
    const now = await readBytesOrNull(f.path);
    if (now !== null && await hex(now) === f.before) f.written = f.before;
    delete f.before;
  }
  const ch = state.channels;
  if (ch) {
    const current = (await readProfile(ch.profile).catch(() => null))?.current;
    if (current?.storePath === ch.storePath) ch.generation = current.number;
    delete ch.before;
  }
  delete state.pending;
}

/** Every pin's source must be in the store already: pin works offline. */
async function checkSourcesInStore(pins: readonly Pin[], flakeDir: string, ctx: Context) {
  for (const p of pins) {
    if (!(await isValidOrConfigError(p.storePath, ctx))) {
      throw new FprofError(`the source of input '${p.id}' is not in the store: ${p.storePath}`, {
        hint: `fetch it with 'nix flake archive ${flakeDir || "FLAKE"}' while online`,
      });
    }
  }
}

/**
 * Whether `path` is valid; a configuration Nix rejects (a line of nix.conf
 * or NIX_CONFIG it cannot parse, a missing include) is reported as such.
 */
async function isValidOrConfigError(path: string, ctx: Context): Promise<boolean> {
  try {
    return await ctx.nix.isValid(path);
  } catch (e) {
    if (e instanceof NixError && isConfigReason(e.reason)) {
      throw new FprofError(`Nix rejects its configuration: ${e.reason}`, {
        cause: e,
        hint: "fix that line of nix.conf (or NIX_CONFIG); fprof changed nothing",
      });
    }
    throw e;
  }
}

/** A changed file written to its temporary file, not yet in place. */
type PinTemp = EditTarget & FileChange & { tmp: string };

/**
 * Writes every file to a temporary file first, and adds the roots and the
 * channels generation: a directory or file that cannot be written fails
 * here, before anything the user sees has changed.
 */
async function prepareTemps(
  plan: PinPlan,
  opts: PinOptions,
  ctx: Context,
  runRoots: RunRoots,
): Promise<PinTemp[]> {
  const { nix, env } = ctx;
  const temps: PinTemp[] = [];
  try {
    for (const c of plan.changes) {
      try {
        temps.push({ ...c, ...await writeTemp(c.path, c.text, nix.storeDir) });
      } catch (e) {
        if (e instanceof FprofError) throw e;
        throw new FprofError(`cannot write '${c.path}': ${(e as Error).message}`, {
          cause: e,
          hint: "fprof changed nothing",
        });
      }
    }
    await Deno.mkdir(join(pinsDir(env), "roots"), { recursive: true });
    if (opts.globalRegistry === false) {
      await replaceFile(plan.emptyRegistry, printRegistry({ version: 2, flakes: [] }), {
        tmp: `${plan.emptyRegistry}.${Deno.pid}.tmp`,
      });
    }
    for (const r of plan.roots.filter((r) => !r.ok)) await nix.addRoot(r.path, r.link);
    if (plan.channelsChange) {
      await addGenerationToStore(
        nix,
        { storePath: plan.channelsGen.storePath, paths: [plan.channelsGen], manifest: "none" },
        await nix.pathInfo(plan.pins.map((p) => p.storePath), { recursive: true }),
        tmpRoot(ctx),
        runRoots,
      );
    }
  } catch (e) {
    await removeTemps(temps);
    throw changedNothing(e, "cannot prepare the pin");
  }
  return temps;
}

function removeTemps(temps: readonly PinTemp[]): Promise<unknown> {
  return Promise.all(temps.map((t) => Deno.remove(t.tmp).catch(() => {})));
}

/** Sets the channels profile to the pins' generation, as {@link recordIntent} noted in `state`. */
async function setChannelsProfile(
  plan: PinPlan,
  state: PinState,
  ctx: Context,
) {
  const { channels } = plan;
  if (!channels) {
    ctx.log.warn(`'~/.nix-defexpr/channels' is not a link to a profile; left it alone`);
    return;
  }
  if (!plan.channelsChange) return;
  await ctx.nix.setProfile(channels.profile, plan.channelsGen.storePath);
  if (!channels.exists) {
    await Deno.lstat(channels.link).catch(async () => {
      await Deno.mkdir(dirname(channels.link), { recursive: true });
      await Deno.symlink(channels.profile, channels.link);
    });
  }
  const made = (await readProfile(channels.profile)).current!;
  if (state.channels) state.channels.generation = made.number;
  ctx.log.step(`set channels profile '${channels.profile}' to generation ${made.number}`);
  crashPoint("pin:channels-set");
}

/**
 * Renames each temporary file over the file it replaces (through a link);
 * each one in place goes into `moved`.
 */
async function moveTempsInPlace(temps: readonly PinTemp[], moved: Set<PinTemp>, ctx: Context) {
  for (const t of temps) {
    await Deno.rename(t.tmp, t.target);
    moved.add(t);
    ctx.log.step(t.target === t.path ? `wrote ${t.path}` : `wrote ${t.target} (through ${t.path})`);
    if (t !== temps.at(-1)) crashPoint("pin:between-files");
  }
}

/** Saves the state; `finished` marks the save that ends a pin, where the crash point is. */
async function saveState(state: PinState, env: Env, finished = false) {
  const file = pinStatePath(state.scope, env);
  try {
    await replaceFile(file, JSON.stringify(state, null, 2) + "\n", {
      tmp: `${file}.${Deno.pid}.tmp`,
      beforeRename: () => finished && crashPoint("pin:state-temp-written"),
    });
  } catch (e) {
    await Deno.remove(`${file}.${Deno.pid}.tmp`).catch(() => {});
    throw e;
  }
}
