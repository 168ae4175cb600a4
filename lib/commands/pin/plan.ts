/**
 * `fprof pin`, gathering and planning: the lock's pins, the files they change
 * (nix.conf, the registry, the channels profile) and their new texts, with
 * every check that must pass before anything is written.
 *
 * @module
 */

import type { Context } from "../../context.ts";
import { FprofError, UsageError } from "../../errors.ts";
import { readBytesOrNull } from "../../fs.ts";
import { writeOut } from "../../log/log.ts";
import { lockedInput, parseFlakeLock, sourceStorePath } from "../../nix/flake_lock.ts";
import { chooseFlake, localFlakeDir } from "../../nix/flake_ref.ts";
import type { NixVersion } from "../../nix/nix.ts";
import { nixTraits } from "../../nix/versions.ts";
import {
  confFromBytes,
  confString,
  confToBytes,
  includedFiles,
  planNixPath,
  planNixPathEnv,
  setSetting,
  settingOrigin,
  settingValue,
} from "../../nix/nix_conf.ts";
import {
  describePins,
  loadPinState,
  type Pin,
  type PinFiles,
  pinRootPath,
  type PinScope,
  pinsDir,
  type PinState,
} from "../../nix/pins.ts";
import {
  findEntry,
  parseRegistry,
  pathTarget,
  printRegistry,
  type Registry,
  sameTarget,
  setEntry,
} from "../../nix/registry.ts";
import { sha256 } from "../../nix/store_path.ts";
import { dirname, join, resolve } from "../../path.ts";
import { contentAddressed } from "../../profile/generation.ts";
import { followProfileLink, readProfile } from "../../profile/profile.ts";
import { type Env, homeDir, stateHome } from "../../xdg.ts";

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
  const recent = nixTraits(v).flakeNixPath;
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

/** The pins a flake's lock file asks for. */
export async function readPins(
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

export const hex = async (text: string | Uint8Array) =>
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
  if (nixTraits(v).xdgProfiles) {
    return join(stateHome(ctx.env), "nix", "profiles", "channels");
  }
  return perUser(user);
}

/** A file pin will change: its path, the bytes it has (null: none) and the bytes it gets. */
export interface FileChange {
  path: string;
  old: Uint8Array | null;
  text: Uint8Array;
}

/** Everything a pin will change, worked out before anything changes. */
export interface PinPlan {
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
export async function planPins(
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
export function warnAboutPinEnvironment(plan: PinPlan, opts: PinOptions, ctx: Context) {
  const { log, env } = ctx;
  if (env.get("NIX_PATH") !== undefined) {
    const targets = Object.fromEntries(
      plan.pins.map((p) => [p.id, plan.useFlakeRef ? `flake:${p.id}` : p.storePath]),
    );
    const line = `export NIX_PATH=${planNixPathEnv(env.get("NIX_PATH")!, targets)}`;
    log.warn(
      nixTraits(plan.version).nixPathVariableWins
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
export async function printPinDryRun(plan: PinPlan) {
  const lines = [`would pin ${describePins(plan.pins)}`];
  for (const c of plan.changes) lines.push(`  write ${c.path}`);
  if (plan.channelsChange) lines.push(`  set channels profile ${plan.channels!.profile}`);
  for (const r of plan.roots.filter((r) => !r.ok)) lines.push(`  add GC root ${r.link}`);
  await writeOut(lines.join("\n") + "\n");
}
