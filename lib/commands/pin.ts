/**
 * `fprof pin`: make the nixpkgs that the profile flake is locked to the one
 * everything else resolves to (`nixpkgs#…` through the registry, `<nixpkgs>`
 * through `nix-path` and the channels profile), from the store, with no
 * channel and no network.
 *
 * Gathering reads the lock file and the files to change; {@link planPinFiles}
 * computes their new texts; apply writes them atomically after every check
 * has passed, so bad input changes nothing.
 *
 * @module
 */

import { readBytesOrNull, readTextOrNull as readOrNull } from "../fs.ts";
import { basename, dirname, join, resolve } from "../path.ts";
import { type Context, tmpRoot } from "../context.ts";
import { profileOf } from "../place.ts";
import { FprofError, NixError, UsageError } from "../errors.ts";
import { lockedInput, parseFlakeLock, sourceStorePath } from "../nix/flake_lock.ts";
import { chooseFlake, localFlakeDir } from "../nix/flake_ref.ts";
import { addGenerationToStore, contentAddressed } from "../profile/generation.ts";
import { RunRoots } from "../nix/gc_roots.ts";
import { fileMode, replaceFile, writeNewFile } from "../safe_write.ts";
import { writeOut } from "../log/log.ts";
import { isConfigReason, nixAtLeast, type NixVersion } from "../nix/nix.ts";
import {
  confFromBytes,
  confString,
  confToBytes,
  includedFiles,
  overrideSource,
  planNixPath,
  planNixPathEnv,
  setSetting,
  settingOrigin,
  settingValue,
} from "../nix/nix_conf.ts";
import {
  type ChangedFile,
  type ChannelsChange,
  describePins,
  loadPinState,
  type Pin,
  type PinFiles,
  pinFiles,
  pinRootPath,
  type PinScope,
  pinsDir,
  type PinState,
  pinStatePath,
} from "../nix/pins.ts";
import {
  followProfileLink,
  readProfile,
  switchProfileLink,
  withLockFile,
  withProfileLock,
} from "../profile/profile.ts";
import { loadRecords, recordOf, saveRecords } from "../profile/records.ts";
import {
  findEntry,
  parseRegistry,
  pathTarget,
  printRegistry,
  type Registry,
  restoreEntry,
  sameTarget,
  setEntry,
} from "../nix/registry.ts";
import { sha256 } from "../nix/store_path.ts";
import { type Env, homeDir, stateHome } from "../xdg.ts";
import { crashPoint } from "../crash.ts";
import { osErrorReport } from "../os_error.ts";

/** Options of `fprof pin`. */
export interface PinOptions {
  profile?: string;
  input?: string[];
  dryRun?: boolean;
  system?: boolean;
  status?: boolean;
  unpin?: boolean;
  json?: boolean;
  /** A generation number, or `true` for the current generation. */
  fromGeneration?: number | true;
  /** `false` with `--no-global-registry`. */
  globalRegistry?: boolean;
}

/** The directory of the local flake whose lock `fprof pin` reads; a remote flake is refused. */
export function pinFlakeDir(ref: string, env: Env): string {
  const dir = localFlakeDir(ref, Deno.cwd(), homeDir(env));
  if (dir !== null) return dir;
  throw new UsageError(`fprof pin reads the lock file of a local flake; '${ref}' is not local`, {
    hint: "pass the flake's directory, such as 'fprof pin ~/profile'",
  });
}

/** Whether the Nix understands `nixpkgs=flake:nixpkgs` in `nix-path` (2.13+, with flakes). */
export function flakeNixPathWorks(v: NixVersion, features: readonly string[]): boolean {
  const recent = v.implementation === "lix" || nixAtLeast(v, 2, 13);
  return recent && features.includes("flakes");
}

/** Whether a `flake-registry` value needs the network. */
export function registryIsRemote(value: string): boolean {
  return value !== "" && !value.startsWith("/") && !/^(path|file):/.test(value);
}

/**
 * The new texts of the registry and nix.conf; unchanged ones are returned as
 * they were. nix.conf stays bytes: only the lines pin owns change, and every
 * other byte (a comment that is not UTF-8, a CRLF line) is kept.
 */
export function planPinFiles(args: {
  pins: readonly Pin[];
  registryText: string;
  registryFile: string;
  nixConf: Uint8Array;
  nixConfFile: string;
  /** The texts (see `confFromBytes`) of the files nix.conf includes, by path; null: missing. */
  included?: ReadonlyMap<string, string | null>;
  /** What each pin's NIX_PATH entry points to: `flake:<id>` or the store path. */
  nixPathTarget: (pin: Pin) => string;
  /** Nix's default `nix-path`, used when the file sets none. */
  nixPathDefault: readonly string[];
  /** Set to point `flake-registry` at a local file, or undefined to leave it. */
  flakeRegistry?: string;
}): { registry: string; nixConf: Uint8Array } {
  let registry: Registry = parseRegistry(args.registryText, args.registryFile);
  let registryChanged = false;
  for (const p of args.pins) {
    const target = pathTarget(p);
    const old = findEntry(registry, p.id);
    if (old && old.exact === true && sameTarget(old.to, target)) continue;
    registry = setEntry(registry, p.id, target);
    registryChanged = true;
  }
  const conf = confFromBytes(args.nixConf);
  const current = includedNixPath(conf, args.nixConfFile, args.included ?? new Map());
  const wanted = planNixPath(
    current,
    args.nixPathDefault.map(confString),
    Object.fromEntries(args.pins.map((p) => [p.id, confString(args.nixPathTarget(p))])),
  );
  let nixConf = current === wanted ? conf : setSetting(conf, "nix-path", wanted);
  const flakeRegistry = args.flakeRegistry === undefined
    ? undefined
    : confString(args.flakeRegistry);
  if (flakeRegistry !== undefined && settingValue(nixConf, "flake-registry") !== flakeRegistry) {
    nixConf = setSetting(nixConf, "flake-registry", flakeRegistry);
  }
  return {
    registry: registryChanged ? printRegistry(registry) : args.registryText,
    nixConf: nixConf === conf ? args.nixConf : confToBytes(nixConf),
  };
}

/**
 * The `nix-path` that nix.conf, with the files it includes, gives, which
 * pin's line keeps after the pins. One set in an include after nix.conf's
 * own line would override pin's line, so that is refused. Pure.
 */
function includedNixPath(
  conf: string,
  file: string,
  included: ReadonlyMap<string, string | null>,
): string | undefined {
  const origin = settingOrigin(conf, file, "nix-path", (f) => included.get(f) ?? null);
  if (origin?.from && origin.ownLineBefore) {
    throw new FprofError(
      `nix-path is set in '${origin.from}', which '${file}' includes after its own nix-path line, so the pins would not take effect`,
      {
        hint: `move that nix-path line into '${file}', or the include above its nix-path line; ` +
          "fprof changed nothing",
      },
    );
  }
  return origin?.value;
}

/** The texts of the files a nix.conf includes, and those they include, by path (null: missing). */
async function readIncludes(conf: string, file: string): Promise<Map<string, string | null>> {
  const texts = new Map<string, string | null>();
  const queue = includedFiles(conf, file);
  while (queue.length > 0 && texts.size < 64) {
    const path = queue.shift()!;
    if (texts.has(path)) continue;
    const bytes = await readBytesOrNull(path);
    const text = bytes && confFromBytes(bytes);
    texts.set(path, text);
    if (text !== null) queue.push(...includedFiles(text, path));
  }
  return texts;
}

/** Runs `fprof pin`. */
export async function pin(flakeArg: string | undefined, opts: PinOptions, ctx: Context) {
  const scope: PinScope = opts.system ? "system" : "user";
  const modes = [opts.status, opts.unpin, opts.fromGeneration !== undefined].filter(Boolean);
  if (modes.length > 1) {
    throw new UsageError("--status, --unpin and --from-generation cannot be combined");
  }
  if (opts.system && Deno.uid() !== 0) {
    throw new UsageError("--system changes the system-wide registry and is only allowed as root");
  }
  if (opts.status) return await status(scope, opts, ctx);
  if (opts.unpin) return await withPinLock(ctx, () => unpin(scope, opts, ctx));
  if (opts.fromGeneration !== undefined) {
    const profile = await profileOf(ctx, opts.profile);
    const state = await readProfile(profile);
    const n = opts.fromGeneration === true ? state.current?.number : opts.fromGeneration;
    const gen = state.generations.find((g) => g.number === n);
    if (!gen) throw new UsageError(`profile '${profile}' has no generation ${n ?? ""}`.trim());
    const rec = recordOf(await loadRecords(profile, ctx.env), gen);
    if (!rec?.pins?.length) {
      throw new FprofError(`generation ${gen.number} has no recorded pins`, {
        hint: "pins are recorded by 'fprof switch --pin' or the config's \"pin\": true",
      });
    }
    await applyPins(scope, rec.pins, rec.flake ?? "", opts, ctx);
    return;
  }
  const { dir, pins } = await readPins(flakeArg, opts.input, ctx);
  await applyPins(scope, pins, dir, opts, ctx);
}

/** Pins the inputs of the flake a switch used, and notes them in the new generation's record. */
export async function pinAfterSwitch(flakeRef: string, profile: string, ctx: Context) {
  const { dir, pins } = await readPins(flakeRef, undefined, ctx);
  await applyPins("user", pins, dir, {}, ctx);
  // The records are shared with concurrent switches, which write them under
  // the profile lock; so does this.
  await withProfileLock(profile, () => {}, async () => {
    const state = await readProfile(profile);
    if (!state.current) return;
    const records = await loadRecords(profile, ctx.env);
    const rec = recordOf(records, state.current);
    if (!rec) return;
    rec.pins = pins;
    await saveRecords(records, ctx.env);
  });
}

/** The pins a flake's lock file asks for. */
async function readPins(
  flakeArg: string | undefined,
  inputs: string[] | undefined,
  ctx: Context,
): Promise<{ dir: string; pins: Pin[] }> {
  const chosen = await chooseFlake(flakeArg, ctx.config.flake, ctx.env);
  const dir = pinFlakeDir(chosen.ref, ctx.env);
  if (chosen.from) ctx.log.step(`reading the lock file of '${dir}' (${chosen.from})`);
  const lockFile = join(dir, "flake.lock");
  let text: string;
  try {
    text = await Deno.readTextFile(lockFile);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new FprofError(`flake '${dir}' has no lock file`, {
        hint: `run 'nix flake lock ${dir}' first`,
      });
    }
    throw new FprofError(`cannot read '${lockFile}': ${(e as Error).message}`, { cause: e });
  }
  const lock = parseFlakeLock(text, lockFile);
  const names = inputs?.length ? [...new Set(inputs)] : ["nixpkgs"];
  const pins = await Promise.all(names.map(async (name) => {
    const i = lockedInput(lock, name, lockFile);
    return {
      id: name,
      storePath: await sourceStorePath(i.narHash, ctx.nix.storeDir),
      narHash: i.narHash,
      ...(i.lastModified !== undefined ? { lastModified: i.lastModified } : {}),
      ...(i.rev !== undefined ? { rev: i.rev } : {}),
    };
  }));
  return { dir, pins };
}

const hex = async (text: string | Uint8Array) =>
  Array.from(await sha256(text), (b) => b.toString(16).padStart(2, "0")).join("");

/** The settings of Nix that pin looks at, asked once. */
async function nixSettings(ctx: Context) {
  const all = await ctx.nix.settings();
  const list = (v: unknown) => Array.isArray(v) ? v.map(String) : [];
  return {
    features: list(all["experimental-features"]?.value),
    nixPathDefault: list(all["nix-path"]?.defaultValue),
    flakeRegistry: String(all["flake-registry"]?.value ?? ""),
  };
}

/** The channels profile `~/.nix-defexpr/channels` leads to, and whether that link exists. */
async function channelsProfile(
  ctx: Context,
): Promise<{ link: string; profile: string; exists: boolean } | null> {
  const link = join(homeDir(ctx.env), ".nix-defexpr", "channels");
  try {
    const target = await Deno.readLink(link);
    return { link, profile: await followProfileLink(resolve(dirname(link), target)), exists: true };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return { link, profile: defaultChannelsProfile(await ctx.nix.version(), ctx), exists: false };
    }
    // A real directory, as some installers leave: not a profile fprof can set.
    return null;
  }
}

/**
 * The channels profile nix-env links `~/.nix-defexpr/channels` to on its first
 * run: up to Nix 2.13 `<state>/profiles/per-user/<user>/channels`; since 2.14
 * (and on Lix) `$XDG_STATE_HOME/nix/profiles/channels`, except for root, whose
 * profiles stay under `<state>/profiles/per-user/root`.
 */
export function defaultChannelsProfile(
  v: NixVersion,
  ctx: Pick<Context, "env"> & { nix: { stateDir: string } },
  uid: number = Deno.uid() ?? 0,
): string {
  const user = ctx.env.get("USER") ?? ctx.env.get("LOGNAME") ?? "root";
  const perUser = (name: string) =>
    join(ctx.nix.stateDir, "profiles", "per-user", name, "channels");
  if (uid === 0) return perUser("root");
  if (v.implementation === "lix" || nixAtLeast(v, 2, 14)) {
    return join(stateHome(ctx.env), "nix", "profiles", "channels");
  }
  return perUser(user);
}

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
async function writeTemp(
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
function withPinLock<T>(ctx: Context, fn: () => Promise<T>): Promise<T> {
  return withLockFile(
    join(pinsDir(ctx.env), "lock"),
    () => ctx.log.step("waiting for another fprof pin to finish"),
    fn,
  );
}

function applyPins(
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

/** A file pin will change: its path, the bytes it has (null: none) and the bytes it gets. */
interface FileChange {
  path: string;
  old: Uint8Array | null;
  text: Uint8Array;
}

/** Everything a pin will change, worked out before anything changes. */
interface PinPlan {
  pins: Pin[];
  version: NixVersion;
  settings: Awaited<ReturnType<typeof nixSettings>>;
  useFlakeRef: boolean;
  emptyRegistry: string;
  changes: FileChange[];
  channels: Awaited<ReturnType<typeof channelsProfile>>;
  channelsGen: Awaited<ReturnType<typeof contentAddressed>>;
  channelsBefore: number | null;
  /** The store path the channels profile has now, or null. */
  channelsBeforePath: string | null;
  channelsChange: boolean;
  roots: { link: string; path: string; ok: boolean }[];
  staleRoots: Pin[];
  previous: PinState | null;
}

/** Reads the files, settings and profiles a pin touches, and plans the change. */
async function planPins(
  scope: PinScope,
  pins: Pin[],
  files: PinFiles,
  opts: PinOptions,
  ctx: Context,
): Promise<PinPlan> {
  const { nix, env } = ctx;
  const [version, settings, registryBytes, nixConfBytes, previous] = await Promise.all([
    nix.version(),
    nixSettings(ctx),
    readBytesOrNull(files.registry),
    readBytesOrNull(files.nixConf),
    loadPinState(scope, env),
  ]);
  const registryText = registryBytes && new TextDecoder().decode(registryBytes);
  const useFlakeRef = flakeNixPathWorks(version, settings.features);
  const emptyRegistry = join(pinsDir(env), "empty-registry.json");
  const planned = planPinFiles({
    pins,
    registryText: registryText ?? "",
    registryFile: files.registry,
    nixConf: nixConfBytes ?? new Uint8Array(),
    nixConfFile: files.nixConf,
    included: await readIncludes(confFromBytes(nixConfBytes ?? new Uint8Array()), files.nixConf),
    nixPathTarget: (p) => useFlakeRef ? `flake:${p.id}` : p.storePath,
    nixPathDefault: settings.nixPathDefault,
    flakeRegistry: opts.globalRegistry === false ? emptyRegistry : undefined,
  });
  const changes: FileChange[] = [];
  if (planned.registry !== (registryText ?? "")) {
    changes.push({
      path: files.registry,
      old: registryBytes,
      text: new TextEncoder().encode(planned.registry),
    });
  }
  if (nixConfBytes === null ? planned.nixConf.length > 0 : planned.nixConf !== nixConfBytes) {
    changes.push({ path: files.nixConf, old: nixConfBytes, text: planned.nixConf });
  }

  // The channels profile gets a generation holding `<id> -> <source>`.
  const channels = await channelsProfile(ctx);
  const channelsGen = await contentAddressed(
    {
      type: "directory",
      entries: Object.fromEntries(
        pins.map((p) => [p.id, { type: "symlink" as const, target: p.storePath }]),
      ),
    },
    "user-environment",
    pins.map((p) => p.storePath),
    nix.storeDir,
  );
  const channelsState = channels ? await readProfile(channels.profile).catch(() => null) : null;
  const roots = await Promise.all(pins.map(async (p) => {
    const link = pinRootPath(scope, p.id, env);
    const now = await Deno.readLink(link).catch(() => null);
    return { link, path: p.storePath, ok: now === p.storePath };
  }));
  return {
    pins,
    version,
    settings,
    useFlakeRef,
    emptyRegistry,
    changes,
    channels,
    channelsGen,
    channelsBefore: channelsState?.current?.number ?? null,
    channelsBeforePath: channelsState?.current?.storePath ?? null,
    channelsChange: channels !== null &&
      channelsState?.current?.storePath !== channelsGen.storePath,
    roots,
    staleRoots: [...previous?.pins ?? [], ...previous?.pending ?? []]
      .filter((p) => !pins.some((q) => q.id === p.id)),
    previous,
  };
}

/** Warns about what in the user's environment works against the pins. */
function warnAboutPinEnvironment(plan: PinPlan, opts: PinOptions, ctx: Context) {
  const { log, env } = ctx;
  if (env.get("NIX_PATH") !== undefined) {
    const targets = Object.fromEntries(
      plan.pins.map((p) => [p.id, plan.useFlakeRef ? `flake:${p.id}` : p.storePath]),
    );
    const line = `export NIX_PATH=${planNixPathEnv(env.get("NIX_PATH")!, targets)}`;
    log.warn(
      nixAtLeast(plan.version, 2, 24)
        ? `NIX_PATH is set in your environment and overrides the nix-path setting fprof writes`
        : `NIX_PATH is set in your environment; this Nix ignores it while nix.conf sets nix-path, so other tools may disagree`,
    );
    log.hint(`put this line in your shell profile instead: ${line}`);
  }
  if (opts.globalRegistry !== false && registryIsRemote(plan.settings.flakeRegistry)) {
    log.warn(
      `'nixpkgs#…' also loads the global registry from '${plan.settings.flakeRegistry}', which needs the network`,
    );
    log.hint("pass --no-global-registry to use an empty local one instead");
  }
}

/** `--dry-run`: what pin would change. */
async function printPinDryRun(plan: PinPlan) {
  const lines = [`would pin ${describePins(plan.pins)}`];
  for (const c of plan.changes) lines.push(`  write ${c.path}`);
  if (plan.channelsChange) lines.push(`  set channels profile ${plan.channels!.profile}`);
  for (const r of plan.roots.filter((r) => !r.ok)) lines.push(`  add GC root ${r.link}`);
  await writeOut(lines.join("\n") + "\n");
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

/** Puts back what was there before fprof's first pin. */
async function unpin(scope: PinScope, opts: PinOptions, ctx: Context) {
  const { log, env } = ctx;
  const state = await loadPinState(scope, env);
  if (!state) {
    log.step("nothing changed: nothing is pinned");
    return;
  }
  const pinned = shownPins(state);
  if (opts.dryRun) {
    const lines = [`would unpin ${describePins(pinned)}`];
    for (const f of state.files) lines.push(`  restore ${f.path}`);
    if (state.channels) lines.push(`  restore channels profile ${state.channels.profile}`);
    await writeOut(lines.join("\n") + "\n");
    return;
  }
  // Work out every file's old bytes first, so a surprise stops before any write.
  const restores: Restore[] = [];
  for (const f of state.files) {
    const original = f.backup === null ? null : await Deno.readFile(f.backup);
    const now = await readBytesOrNull(f.path);
    // A pending pin may have left either text; both are fprof's.
    const own = [f.written, ...f.before !== undefined ? [f.before] : []];
    if (now === null || own.includes(await hex(now))) {
      restores.push({ path: f.path, bytes: original, mode: f.mode, whole: true });
      continue;
    }
    // Changed since fprof wrote it: take back only fprof's own changes.
    log.warn(`'${f.path}' changed since fprof wrote it; restoring only what fprof changed`);
    const bytes = undoOwnChanges(f.path, now, original ?? new Uint8Array(), state);
    restores.push({ path: f.path, bytes, mode: f.mode, whole: sameBytes(bytes, original) });
  }
  for (const r of restores) await restoreFile(r, ctx);
  if (state.channels) await restoreChannels(state.channels, ctx);
  for (const p of [...state.pins, ...state.pending ?? []]) {
    await Deno.remove(pinRootPath(scope, p.id, env)).catch(() => {});
  }
  await Promise.all(state.files.map((f) => f.backup && Deno.remove(f.backup).catch(() => {})));
  await Deno.remove(pinStatePath(scope, env));
  log.step(`unpinned ${describePins(pinned)}`);
}

/** A file as unpin puts it back; `whole` when that is byte for byte the file before fprof. */
interface Restore {
  path: string;
  bytes: Uint8Array | null;
  mode?: number;
  whole: boolean;
}

/** Writes a file back (through a link, as pin wrote it, with the mode it had before). */
async function restoreFile(r: Restore, ctx: Context) {
  if (r.bytes === null) await Deno.remove(r.path).catch(() => {});
  else {
    const t = await writeTemp(r.path, r.bytes, ctx.nix.storeDir, r.mode);
    await Deno.rename(t.tmp, t.target);
  }
  ctx.log.step(
    r.whole
      ? `restored ${r.path}`
      : `took fprof's entries out of ${r.path}; the rest is as you changed it`,
  );
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The pins the files hold, or are being given by a pin that has not finished. */
function shownPins(state: PinState): Pin[] {
  return state.pending ?? state.pins;
}

/** A file's bytes with fprof's entries replaced by what the original had. Pure. */
function undoOwnChanges(
  path: string,
  nowBytes: Uint8Array,
  originalBytes: Uint8Array,
  state: PinState,
): Uint8Array {
  if (path.endsWith("registry.json")) {
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    const before = parseRegistry(decode(originalBytes), path);
    let reg = parseRegistry(decode(nowBytes), path);
    for (const p of [...state.pins, ...state.pending ?? []]) {
      reg = restoreEntry(reg, p.id, findEntry(before, p.id));
    }
    return new TextEncoder().encode(printRegistry(reg));
  }
  const original = confFromBytes(originalBytes);
  let text = confFromBytes(nowBytes);
  for (const name of ["nix-path", "flake-registry"]) {
    const old = settingValue(original, name);
    if (old !== undefined) text = setSetting(text, name, old);
    else if (settingValue(text, name) !== undefined && settingValue(original, name) === undefined) {
      const lines = text.split("\n");
      const at = lines.findLastIndex((l) => new RegExp(`^\\s*${name}\\s*=`).test(l));
      lines.splice(at, 1);
      text = lines.join("\n");
    }
  }
  return confToBytes(text);
}

/**
 * Switches the channels profile back, when it still holds fprof's
 * generation (by store path: a pin killed after nix-env never noted the
 * number), or the one a pending pin had not replaced yet.
 */
async function restoreChannels(ch: ChannelsChange, ctx: Context) {
  const state = await readProfile(ch.profile).catch(() => null);
  const now = state?.current?.storePath ?? null;
  if (now !== ch.storePath && (ch.before === undefined || now !== ch.before)) {
    ctx.log.warn(`channels profile '${ch.profile}' changed since fprof set it; left it alone`);
    return;
  }
  if (state?.current && now === ch.storePath) {
    const prev = state.generations.find((g) => g.number === ch.previous);
    if (prev) {
      await switchProfileLink(ch.profile, prev);
      ctx.log.step(`switched channels profile '${ch.profile}' back to generation ${prev.number}`);
    } else {
      // It had no generation before: remove the profile fprof made.
      await Deno.remove(ch.profile);
      await Deno.remove(state.current.link).catch(() => {});
      ctx.log.step(`removed channels profile '${ch.profile}'`);
    }
  }
  const link = ch.createdLink;
  if (link && (await Deno.readLink(link).catch(() => null)) === ch.profile) await Deno.remove(link);
}

/**
 * Nix's search path as Nix itself resolves it (settings, `NIX_CONFIG`,
 * `NIX_PATH`, includes and all), or null when it cannot be asked.
 */
async function effectiveNixPath(ctx: Context): Promise<{ prefix: string; path: string }[] | null> {
  try {
    const value = await ctx.nix.evalJson("builtins.nixPath", "cannot read Nix's search path");
    return Array.isArray(value) ? value : null;
  } catch (e) {
    if (!(e instanceof NixError)) throw e;
    ctx.log.warn(`cannot ask Nix for its search path: ${e.message}`);
    return null;
  }
}

/** One pin as `--status --json` shows it. */
export interface PinStatus extends Pin {
  /** The store path the lock file has now, or null when it no longer has the input. */
  lockStorePath: string | null;
  stale: boolean;
  inStore: boolean;
  rooted: boolean;
  inRegistry: boolean;
  /** Whether `<id>` resolves to the pin in Nix's effective search path (null: Nix was not asked). */
  inNixPath: boolean | null;
  /** What sets the search path instead, when something does. */
  nixPathOverride: string | null;
}

async function status(scope: PinScope, opts: PinOptions, ctx: Context) {
  const { nix, env } = ctx;
  const state = await loadPinState(scope, env);
  const files = pinFiles(scope, env);
  if (!state) {
    if (opts.json) {
      await writeOut(
        JSON.stringify({ scope, flake: null, pending: false, pins: [] }, null, 2) + "\n",
      );
    } else await writeOut("nothing is pinned\n");
    return;
  }
  let lockPins: Pin[] | null = null;
  try {
    lockPins = (await readPins(state.flake, shownPins(state).map((p) => p.id), ctx)).pins;
  } catch (e) {
    if (!(e instanceof FprofError)) throw e;
    ctx.log.warn(`cannot compare with the lock file: ${e.message}`);
  }
  let registry: Registry | null = null;
  try {
    registry = parseRegistry((await readOrNull(files.registry)) ?? "", files.registry);
  } catch (e) {
    if (!(e instanceof FprofError)) throw e;
    ctx.log.warn(e.message);
  }
  const [nixPath, nixConf, version] = await Promise.all([
    effectiveNixPath(ctx),
    readOrNull(files.nixConf),
    nix.version(),
  ]);
  const override = overrideSource({
    name: "nix-path",
    nixConf: nixConf ?? "",
    env: { NIX_CONFIG: env.get("NIX_CONFIG"), NIX_PATH: env.get("NIX_PATH") },
    nixPathVariableWins: nixAtLeast(version, 2, 24),
  });
  const rows: PinStatus[] = await Promise.all(
    shownPins(state).map(async (p) => {
      const lock = lockPins?.find((l) => l.id === p.id) ?? null;
      const entry = registry ? findEntry(registry, p.id) : undefined;
      const inNixPath = nixPath === null ? null : [p.storePath, `flake:${p.id}`].includes(
        nixPath.find((e) => e.prefix === p.id)?.path ?? "",
      );
      return {
        inNixPath,
        nixPathOverride: inNixPath === false ? override : null,
        ...p,
        lockStorePath: lock?.storePath ?? null,
        stale: lock?.storePath !== p.storePath,
        inStore: await nix.isValid(p.storePath),
        rooted: (await Deno.readLink(pinRootPath(scope, p.id, env)).catch(() => null)) ===
          p.storePath,
        inRegistry: entry !== undefined && sameTarget(entry.to, pathTarget(p)),
      };
    }),
  );
  const pending = state.pending !== undefined;
  if (opts.json) {
    await writeOut(
      JSON.stringify({ scope, flake: state.flake, pending, pins: rows }, null, 2) + "\n",
    );
  } else await writeOut(statusText(state.flake, rows, pending));
  // A stale pin exits 1, so that a script or a login check can act on it.
  const stale = rows.filter((r) => r.stale).map((r) => r.id);
  if (stale.length > 0) {
    throw new FprofError(`stale pin: the lock file has moved on from ${stale.join(", ")}`, {
      hint: `run 'fprof pin ${state.flake}' to move it to the lock`,
    });
  }
}

/** The text of `pin --status`: one line per pin with what holds for it. */
function statusText(flake: string, rows: PinStatus[], pending: boolean): string {
  const lines = [
    ...pending
      ? [
        "a pin was stopped before it finished: run 'fprof pin' to finish it, " +
        "or 'fprof pin --unpin' to undo it",
      ]
      : [],
    `pins from ${join(flake, "flake.lock")}:`,
  ];
  for (const r of rows) {
    const notes = [
      r.stale
        ? `stale: the lock has ${r.lockStorePath ?? "no such input"}; run 'fprof pin' to move it`
        : "up to date with the lock",
      ...(r.inStore ? [] : ["missing from the store"]),
      ...(r.rooted ? [] : ["no GC root"]),
      ...(r.inRegistry
        ? []
        : [pending ? "not in the registry yet" : "registry entry changed outside fprof"]),
      ...(r.inNixPath === false
        ? [
          `<${r.id}> does not resolve to it: ${
            r.nixPathOverride
              ? `nix-path is overridden by ${r.nixPathOverride}`
              : "Nix's nix-path differs"
          }`,
        ]
        : []),
    ];
    lines.push(`  ${r.id}  ${r.storePath}  (${notes.join("; ")})`);
  }
  return lines.join("\n") + "\n";
}
