/**
 * `fprof switch`: build the profile's environment from a flake and make it the
 * profile's next generation, with a manifest that `nix-env` and `nix profile`
 * can read.
 *
 * The work splits into gathering (build, read the current generation), a pure
 * plan ({@link planSwitch}) and a short apply under the profile lock.
 *
 * @module
 */

import { exists } from "../fs.ts";
import { join } from "../path.ts";
import type { ManifestChoice } from "../config.ts";
import { type Context, tmpRoot, VERSION } from "../context.ts";
import { profileOf } from "../place.ts";
import { type DiffMode, diffPackages, isEmptyDiff, type PackageDiff } from "../profile/diff.ts";
import { confirmDrift, driftedDrops } from "../profile/drift.ts";
import { closureChange, showDiff } from "../term/show_diff.ts";
import { FprofError, NixError, UsageError } from "../errors.ts";
import { missingAttrError } from "../nix/attr_hint.ts";
import { checkSwitchJsonOptions, switchPlanJson } from "../term/switch_json.ts";
import {
  addGenerationToStore,
  existingReferences,
  type GenerationContents,
  type GenerationPlan,
  packagesFromReferences,
  planGeneration,
} from "../profile/generation.ts";
import {
  currentSystem,
  defaultAttrs,
  type Installable,
  machineName,
  namedAttrs,
  parseInstallable,
} from "../nix/installable.ts";
import { overrideInputArgs, parseRecordOrWarn, readEnvRecord } from "../flake/env_record.ts";
import { buildAttr, openEvalCache } from "../flake/build_attr.ts";
import { type EvalCache, type EvalEntry, type EvalFacts, evalKey } from "../flake/eval_cache.ts";
import { chooseFlake } from "../nix/flake_ref.ts";
import { type FprofRecord, packagesFromRecord } from "../flake/flake_info.ts";
import { writeOut } from "../log/log.ts";
import {
  type FlakeMetadata,
  manifestJsonVersionFor,
  nixTraits,
  type NixVersion,
  type PathInfo,
} from "../nix/nix.ts";
import type { Generation, ProfileState } from "../profile/profile.ts";
import {
  type GenerationRecord,
  loadRecords,
  parentAfterSet,
  recordOf,
  type RecordsFile,
  saveRecords,
} from "../profile/records.ts";
import { sameGroups, unchangedSince } from "../profile/unchanged.ts";
import type { ManifestKind, ProfilePackage } from "../../manifest/types.ts";
import { homeDir, stateHome } from "../xdg.ts";
import { crashPoint } from "../crash.ts";
import { BuildHostSource, LocalSource, type PathSource } from "../flake/source.ts";
import { checkHostSpec } from "../remote/host_names.ts";
import { LocalPlace, type ProfilePlace } from "../profile/place.ts";
import {
  contentsCacheDir,
  overlapCacheFiles,
  updateContentsCache,
} from "../profile/contents_cache.ts";
import { RunRoots } from "../nix/gc_roots.ts";
import { overlapLines, type OverlapWarning } from "../profile/overlaps.ts";
import { checkOverlapsCached } from "../profile/provided.ts";
import {
  clearPending,
  type PendingRecord,
  recoverPending,
  removeStaleTemps,
  tempPlaces,
  writePending,
} from "../profile/leftovers.ts";

/** How many hosts a fleet switch works on at once, unless `--jobs` says. */
export const DEFAULT_JOBS = 4;

/** Options of `fprof switch`. */
export interface SwitchOptions {
  profile?: string;
  /** `true` when `--manifest` is given bare, which means `auto`. */
  manifest?: ManifestChoice | true;
  dryRun?: boolean;
  force?: boolean;
  /** `NAME=REF` flake inputs to override, as `nix build --override-input` does. */
  overrideInput?: string[];
  /** With `dryRun`, print the plan as JSON on stdout. */
  json?: boolean;
  /** How much of the diff to print before switching (default `auto`). */
  diff?: DiffMode;
  /** Drop packages that another tool added without asking. */
  yes?: boolean;
  /** Run `fprof pin` on the flake after a successful switch (default: the config's `pin`). */
  pin?: boolean;
  /** Switch the profiles of these hosts (`[USER@]HOST` or `@GROUP`) instead of this machine's. */
  targetHost?: string[];
  /** Sign what is copied to the targets with this secret key file. */
  signKey?: string;
  /** Build on this host (`[USER@]HOST`) rather than here. */
  buildHost?: string;
  /** Never ask: several hosts switch at once, and none may wait for an answer. */
  noPrompt?: boolean;
  /** How many hosts switch at once (default {@link DEFAULT_JOBS}). */
  jobs?: number;
  /** Seconds after which a host that has not finished fails alone. */
  timeout?: number;
}

/** What a switch did, for commands built on it such as `upgrade`. */
export interface SwitchResult {
  /** `none`: the profile already had this content; `dry-run`: nothing was changed. */
  action: "switched" | "none" | "dry-run";
  /** The generation that is current afterwards (unchanged for a dry run). */
  generation: number | null;
}

/** The environment the installable built. */
export interface BuiltEnv {
  envPath: string;
  /** The flake and attribute it came from; absent for a store path. */
  flake?: { ref: string; attr: string };
  /** The flake's metadata, read before the build to lock it. */
  meta?: FlakeMetadata;
  /**
   * The `passthru.fprof` record, as the evaluation that built it gave it;
   * `undefined` when the build did not read it.
   */
  record?: unknown;
  /** Its path info, when the build already read it. */
  info?: PathInfo;
}

/**
 * The manifest kind to write: `auto` keeps `manifest.json` for people who work
 * with `nix profile` and writes `manifest.nix` otherwise. Pure.
 */
export function chooseManifest(
  choice: ManifestChoice,
  current: ManifestKind | null,
): ManifestKind {
  if (choice !== "auto") return choice;
  return current === "json" ? "json" : "nix";
}

/** What a switch will do. */
export interface SwitchPlan {
  action: "none" | "switch";
  generation: GenerationPlan;
  diff: PackageDiff;
  /** Set when the switch would remove `bin/nix` from the profile. */
  strands: boolean;
}

/** Decides what a switch does; pure. */
export function planSwitch(args: {
  current: Generation | null;
  currentContents: GenerationContents | null;
  generation: GenerationPlan;
  packages: readonly ProfilePackage[];
  currentHasNix: boolean;
  newHasNix: boolean;
}): SwitchPlan {
  const diff = diffPackages(
    args.currentContents?.packages ?? [],
    args.packages,
  );
  return {
    action: args.current?.storePath === args.generation.storePath ? "none" : "switch",
    generation: args.generation,
    diff,
    strands: args.currentHasNix && !args.newHasNix,
  };
}

/** Runs `fprof switch`. */
export async function switchProfile(
  installableArg: string | undefined,
  opts: SwitchOptions,
  ctx: Context,
): Promise<SwitchResult> {
  checkSwitchJsonOptions({ ...opts, report: (opts.targetHost?.length ?? 0) > 0 });
  const chosen = await chooseFlake(installableArg, ctx.config.flake, ctx.env);
  const installable = await resolveInstallable(chosen.ref, ctx);
  if (installable.kind === "store") refuseFlakeOptions(opts, installable.path);
  if (opts.targetHost?.length) {
    const { switchHosts } = await import("./switch_hosts.ts");
    return await switchHosts(chosen, installable, opts, ctx);
  }
  const profile = await profileOf(ctx, opts.profile);
  const place = new LocalPlace(profile, ctx);
  // A path that is not a profile fails now rather than after the build, and
  // before the lock makes a lock file beside it; it is read again under the
  // lock.
  await place.read();
  const flakeArgs = overrideInputArgs(opts.overrideInput);
  // What an earlier, killed fprof left half-done goes first.
  await removeStaleTemps(tempPlaces({ profile, own: [tmpRoot(ctx)], env: ctx.env }));
  // Everything built or added from here on stays rooted until the profile
  // holds it, however busy the garbage collector is.
  await using roots = await RunRoots.open(ctx.nix, tmpRoot(ctx));
  const source = await sourceOf(opts, ctx, roots);
  const { built, env } = await buildAndGather(
    installable,
    flakeArgs,
    roots,
    { from: chosen.from, machine: thisMachine(), source },
    ctx,
  );
  const run: SwitchRun = { opts, ctx, place, built, env, roots, source };
  const result = await switchAt(run);
  if (!opts.profile && !ctx.config.profile && !opts.dryRun) {
    await ensureProfileLink(profile, ctx);
  }
  // After the link is made: a PATH that names ~/.nix-profile/bin finds it.
  if (!opts.json) reportOverlaps(await overlapsOf(run), ctx);
  if (!opts.dryRun && (opts.pin ?? ctx.config.pin) && built.flake) {
    const { pinAfterSwitch } = await import("./pin/mod.ts");
    await pinAfterSwitch(built.flake.ref, profile, ctx);
  }
  return result;
}

/** Refuses the options that act on a flake, for a switch to a store path. */
function refuseFlakeOptions(opts: SwitchOptions, path: string): void {
  const flag = opts.overrideInput?.length ? "--override-input" : opts.pin ? "--pin" : undefined;
  if (flag === undefined) return;
  throw new UsageError(`${flag} needs a flake, and '${path}' is a store path`, {
    hint: `give the flake it was built from instead, or drop ${flag}`,
  });
}

/**
 * The overlap warnings of the new environment in this machine's profile
 * (see overlaps.ts), from the packages the switch already read. None for
 * another machine's profile, whose PATH is not this one, nor for an
 * environment not in this store (built on a build host, in a dry run).
 */
export async function overlapsOf(run: SwitchRun): Promise<OverlapWarning[]> {
  if (run.place.host !== undefined) return [];
  const { envPath } = run.built;
  try {
    Deno.statSync(envPath);
  } catch {
    run.ctx.log.debug(`'${envPath}' is not in this store: no check of what overlaps in it`);
    return [];
  }
  // Before the first switch of the default profile (a dry run), PATH may
  // already name the link that switch will make.
  const toMake = run.opts.profile || run.ctx.config.profile ? null : await linkToMake(run.ctx);
  const { profile } = run.place;
  return await checkOverlapsCached({
    envPath,
    packages: run.env.packages,
    profile,
    alsoProfile: toMake === null ? [] : [toMake],
    path: run.ctx.env.get("PATH"),
    storeDir: run.ctx.nix.storeDir,
  }, { ...overlapCacheFiles(run.ctx.env, profile), log: run.ctx.log });
}

/** Prints each overlap as a `warning:` with its `hint:` (a few of each kind). */
function reportOverlaps(warnings: readonly OverlapWarning[], ctx: Context): void {
  for (const line of overlapLines(warnings)) {
    ctx.log.warn(line.warning);
    if (line.hint) ctx.log.hint(line.hint);
  }
}

/** The switch of one profile, from the built environment on, under its lock. */
export function switchAt(run: SwitchRun): Promise<SwitchResult> {
  return run.place.withLock(
    () => run.ctx.log.step(`waiting for the lock on '${run.place.label}'`),
    () => switchLocked(run),
  );
}

/** What the built environment holds, as the plan needs it. */
export interface EnvFacts {
  /** Its top-level entries, sorted. */
  entries: string[];
  packages: ProfilePackage[];
  groups: Record<string, string>;
  version: NixVersion;
}

/** One switch, from the built environment on. */
export interface SwitchRun {
  opts: SwitchOptions;
  ctx: Context;
  /** The profile: here, or on a target host. */
  place: SwitchPlace;
  built: BuiltEnv;
  env: EnvFacts;
  roots: RunRoots;
  /** Where the environment was built and the generation is made. */
  source: PathSource;
  /** Secret key files that sign what goes to another machine. */
  signKeys?: readonly string[];
}

/** A profile a switch can change. */
export type SwitchPlace = ProfilePlace;

/** What the switch found under the lock. */
interface LockedState {
  state: ProfileState;
  records: RecordsFile;
  currentRecord: GenerationRecord | undefined;
  choice: ManifestChoice;
}

/** The planned switch, with what was read to plan it. */
interface PlannedSwitch extends LockedState {
  currentContents: GenerationContents | null;
  manifest: ManifestKind;
  generation: GenerationPlan;
  plan: SwitchPlan;
}

/**
 * Builds the environment and reads it. Rooted as the build's result is, a
 * busy collector was seen to take it before it was read (Nix 2.8, with
 * `nix-store --gc` in a loop); then it is built again, a few times at most,
 * rather than judged by what a missing path seems to hold.
 */
export async function buildAndGather(
  installable: Installable,
  flakeArgs: readonly string[],
  roots: RunRoots,
  how: { from?: string; machine: Machine; source: PathSource },
  ctx: Context,
): Promise<{ built: BuiltEnv; env: EnvFacts }> {
  for (let attempt = 1;; attempt++) {
    const built = await buildEnv(installable, ctx, flakeArgs, roots, how);
    crashPoint("switch:after-build");
    const env = await gatherEnv(built, flakeArgs, how.source, ctx);
    if (env !== null) return { built, env };
    if (attempt >= 3) {
      throw new FprofError(`'${built.envPath}' was collected each time it was built`, {
        hint: "run the command again when the garbage collector is idle",
      });
    }
    ctx.log.debug(`'${built.envPath}' was collected before it was read: building it again`);
  }
}

/**
 * Reads the built environment: independent questions, asked at once (each
 * is a short nix process). `null` when the environment is no longer in the
 * store.
 */
async function gatherEnv(
  built: BuiltEnv,
  flakeArgs: readonly string[],
  source: PathSource,
  ctx: Context,
): Promise<EnvFacts | null> {
  const { envPath, meta } = built;
  const [listed, envInfo, version, envRecord] = await Promise.all([
    readEnvEntries(envPath, source).then((names) => ({ names }), (error: unknown) => ({ error })),
    built.info ? Promise.resolve([built.info]) : source.pathInfo([envPath]),
    ctx.nix.version(),
    // lib.mkProfile's record of the declared packages (descriptions, attr
    // names, groups); null for any other buildEnv.
    envRecordOf(built, flakeArgs, ctx),
  ]);
  const info = envInfo.find((i) => i.path === envPath);
  if (!info) return null;
  if ("error" in listed) throw listed.error;
  const entries = listed.names;
  const references = info.references;
  const { packages, groups } = envRecord
    ? packagesFromRecord(
      envRecord,
      envPath,
      references,
      built.flake && meta?.url
        ? {
          url: meta.url,
          originalUrl: meta.originalUrl || built.flake.ref,
          attr: built.flake.attr,
        }
        : undefined,
    )
    : { packages: packagesFromReferences(envPath, references), groups: {} };
  refuseSinglePackage(built, entries, packages);
  return { entries, packages, groups, version };
}

/**
 * The record of the built environment: from the evaluation that built it
 * when it read one, else with an evaluation of its own.
 */
function envRecordOf(
  built: BuiltEnv,
  flakeArgs: readonly string[],
  ctx: Context,
): Promise<FprofRecord | null> {
  if (!built.flake) return Promise.resolve(null);
  const flake = { ...built.flake, ref: lockedRef(built) };
  if (built.record === undefined) return readEnvRecord(ctx, flake, flakeArgs);
  return Promise.resolve(parseRecordOrWarn(built.record, `${flake.ref}#${flake.attr}`, ctx.log));
}

/** The switch under the profile lock: read, plan, show, confirm, apply. */
async function switchLocked(run: SwitchRun): Promise<SwitchResult> {
  crashPoint("switch:locked");
  const locked = await readLocked(run);
  const { state, currentRecord } = locked;
  if (!run.opts.json && currentRecord && isUnchanged(run, locked)) {
    run.ctx.log.step(`no changes: generation ${state.current!.number} already has this content`);
    return { action: "none", generation: state.current!.number };
  }
  const planned = await planLocked(run, locked);
  const drift = () =>
    driftedDrops(
      run.ctx,
      state,
      locked.records,
      planned.plan.diff.removed,
      (path) => run.place.contents(path),
    );
  if (run.opts.json) {
    return await printJsonPlan(run, planned, planned.plan.action === "none" ? null : await drift());
  }
  if (planned.plan.action === "none") return await recordNewGroups(run, planned);
  const dropped = await drift();
  if (run.opts.dryRun) return await printDryRun(run, planned, dropped);
  await confirmSwitch(run, planned, dropped);
  return await applySwitch(run, planned);
}

/** The profile, its records and the manifest choice, read under the lock. */
async function readLocked(run: SwitchRun): Promise<LockedState> {
  const { place, opts, ctx } = run;
  const state = await place.read();
  const recovered = await recoverPending(place.recordsKey, state, ctx.env);
  if (recovered !== null) {
    ctx.log.step(`recorded generation ${recovered}, which an interrupted switch made`);
  }
  const choice = opts.manifest === true ? "auto" : opts.manifest ?? ctx.config.manifest ?? "auto";
  const records = await loadRecords(place.recordsKey, ctx.env);
  const currentRecord = state.current ? recordOf(records, state.current) : undefined;
  return { state, records, currentRecord, choice };
}

/**
 * Whether the current generation was made from this very environment, source
 * and choice; then planning is skipped (which is why `--json`, which prints
 * the plan, never takes this shortcut).
 */
function isUnchanged(run: SwitchRun, locked: LockedState): boolean {
  const source: { flake?: string; lockedUrl?: string; attr?: string } = run.built.flake
    ? recordSource(run.built.flake, run.built.meta)
    : {};
  return unchangedSince(locked.currentRecord!, {
    envPath: run.built.envPath,
    choice: locked.choice,
    flake: source.flake,
    lockedUrl: source.lockedUrl,
    attr: source.attr,
    groups: run.env.groups,
    fprofVersion: VERSION,
  });
}

/** Plans the new generation against the current one. */
async function planLocked(run: SwitchRun, locked: LockedState): Promise<PlannedSwitch> {
  const { ctx, env, built, place } = run;
  const { state } = locked;
  const currentContents = state.current ? await readCurrent(state.current, run) : null;
  const manifest = chooseManifest(locked.choice, currentContents?.manifest ?? null);
  // The manifest is written for the Nix that will read it: the target's.
  const reader = await place.nixVersion();
  const generation = await planGeneration({
    envPath: built.envPath,
    entries: env.entries,
    packages: env.packages,
    manifest,
    jsonVersion: manifestJsonVersionFor(reader),
    jsonPriorityAndOutputs: nixTraits(reader).jsonPriorityAndOutputs,
    storeDir: ctx.nix.storeDir,
  });
  const plan = planSwitch({
    current: state.current,
    currentContents,
    generation,
    packages: env.packages,
    currentHasNix: state.current ? await place.providesNix(state.current.storePath) : false,
    newHasNix: await run.source.providesNix(built.envPath),
  });
  return { ...locked, currentContents, manifest, generation, plan };
}

/** `--dry-run --json`: the plan on stdout, nothing changed. */
async function printJsonPlan(
  run: SwitchRun,
  p: PlannedSwitch,
  drift: Awaited<ReturnType<typeof driftedDrops>>,
): Promise<SwitchResult> {
  const doc = switchPlanJson({
    profile: run.place.profile,
    ...(run.place.host !== undefined ? { host: run.place.host } : {}),
    current: p.state.current,
    action: p.plan.action,
    storePath: p.generation.storePath,
    envPath: run.built.envPath,
    manifest: p.manifest,
    diff: p.plan.diff,
    dropsNix: p.plan.strands,
    drift,
    warnings: await overlapsOf(run),
  });
  await writeOut(JSON.stringify(doc, null, 2) + "\n");
  return {
    action: p.plan.action === "none" ? "none" : "dry-run",
    generation: p.state.current?.number ?? null,
  };
}

/**
 * The same generation again: regrouping the same packages makes the same
 * generation, so only the record, which is where groups live, can change.
 */
async function recordNewGroups(run: SwitchRun, p: PlannedSwitch): Promise<SwitchResult> {
  const { log, env } = run.ctx;
  const { groups } = run.env;
  const number = p.state.current!.number;
  if (p.currentRecord && !sameGroups(p.currentRecord.groups, groups)) {
    if (Object.keys(groups).length > 0) p.currentRecord.groups = groups;
    else delete p.currentRecord.groups;
    await saveRecords(p.records, env);
    log.step(`no changes to packages: recorded the new groups of generation ${number}`);
  } else {
    log.step(`no changes: generation ${number} already has this content`);
  }
  return { action: "none", generation: number };
}

/** How the closure grows or shrinks, computed only when the diff shows it. */
function closureOf(run: SwitchRun, p: PlannedSwitch) {
  return () =>
    closureChange(run.ctx, p.state.current?.storePath ?? null, {
      basePath: run.built.envPath,
      extraBytes: p.generation.paths.reduce((n, path) => n + path.nar.length, 0),
    }, {
      from: (paths) => run.place.closureSizes(paths),
      to: (paths) => run.source.closureSizes(paths),
    });
}

/** `--dry-run`: what would happen, nothing changed. */
async function printDryRun(
  run: SwitchRun,
  p: PlannedSwitch,
  dropped: Awaited<ReturnType<typeof driftedDrops>>,
): Promise<SwitchResult> {
  const { opts, ctx } = run;
  const profile = run.place.label;
  const { state } = p;
  const head = state.current
    ? `would switch '${profile}' from generation ${state.current.number} to a new generation`
    : `would create '${profile}' with its first generation`;
  await writeOut(
    [head, `  ${p.plan.generation.storePath} (manifest: ${p.manifest})`].join("\n") + "\n",
  );
  await showDiff(ctx, {
    diff: p.plan.diff,
    mode: opts.diff ?? "auto",
    dryRun: true,
    closure: closureOf(run, p),
  });
  if (dropped) {
    await confirmDrift(ctx, {
      current: state.current!,
      dropped,
      yes: opts.yes ?? false,
      dryRun: true,
    });
  }
  if (p.plan.strands) ctx.log.warn("this switch would remove 'bin/nix' from the profile");
  return { action: "dry-run", generation: state.current?.number ?? null };
}

/**
 * Everything before the change: the `bin/nix` refusal, the diff, and the
 * confirmation of dropping packages that another tool added.
 */
async function confirmSwitch(
  run: SwitchRun,
  p: PlannedSwitch,
  dropped: Awaited<ReturnType<typeof driftedDrops>>,
): Promise<void> {
  const { opts, ctx } = run;
  if (p.plan.strands && !opts.force) {
    throw new FprofError(
      `refusing to switch: the current generation provides 'bin/nix' and the new one does not`,
      {
        hint: "without it you may lose the nix command from your PATH; add Nix to the profile, " +
          "or pass --force if Nix is installed elsewhere",
      },
    );
  }
  const diffMode = opts.diff ?? "auto";
  await showDiff(ctx, {
    diff: p.plan.diff,
    mode: diffMode,
    dryRun: false,
    closure: closureOf(run, p),
  });
  if (dropped) {
    await confirmDrift(ctx, {
      current: p.state.current!,
      dropped,
      yes: opts.yes ?? false,
      dryRun: false,
      ...(opts.noPrompt ? { interactive: false } : {}),
    });
  }
  if (isEmptyDiff(p.plan.diff) && diffMode !== "never") {
    const was = p.currentContents?.manifest;
    ctx.log.step(
      was && was !== p.manifest
        ? `the packages are the same; the manifest changes from ${was} to ${p.manifest}`
        : "the packages are the same; their environment changed",
    );
  }
}

/**
 * Adds the generation to the store (rooted), notes its record as pending,
 * sets it with `nix-env --set`, and saves the record.
 */
async function applySwitch(run: SwitchRun, p: PlannedSwitch): Promise<SwitchResult> {
  const { place, ctx, built, source } = run;
  const { nix, log } = ctx;
  const { generation, manifest } = p;
  const profile = place.label;
  const addGeneration = async () => {
    if (manifest !== "none" && !(await source.keepIfValid(generation.storePath))) {
      log.step(`writing manifest.${manifest}`);
      const closure = await source.pathInfo(existingReferences(generation), { recursive: true });
      await addGenerationToStore(nix, generation, closure, tmpRoot(ctx), source);
    }
    await source.sendTo(place, generation.storePath, run.signKeys ?? []);
  };
  await addGeneration();
  // Noted before the switch, so that if fprof dies between nix-env and
  // saving the record, the next switch still knows the generation as its own.
  const groups = run.env.groups;
  const record: PendingRecord = {
    storePath: generation.storePath,
    parent: p.state.current?.number ?? null,
    parentStorePath: p.state.current?.storePath ?? null,
    ...(built.flake ? recordSource(built.flake, built.meta) : {}),
    envPath: built.envPath,
    manifest,
    ...(Object.keys(groups).length > 0 ? { groups } : {}),
    createdAt: new Date().toISOString(),
    fprofVersion: VERSION,
  };
  await writePending(place.recordsKey, record, ctx.env);
  crashPoint("switch:before-set");
  try {
    await setAddingAgain(run, generation.storePath, manifest, addGeneration);
  } catch (e) {
    await clearPending(place.recordsKey, ctx.env);
    throw e;
  }
  crashPoint("switch:after-set");
  const after = await place.read();
  const made = after.current!;
  log.step(`switched '${profile}' to generation ${made.number}`);
  const { parent, foreign } = parentAfterSet(p.state, after, made);
  if (foreign.length > 0) {
    log.warn(
      `generation ${foreign.map((g) => g.number).join(", ")} of '${profile}' was made by another ` +
        `tool while fprof worked; recorded ${parent!.number} as the parent of ${made.number}`,
    );
    record.parent = parent!.number;
    record.parentStorePath = parent!.storePath;
  }

  // Still the records read under the lock: it keeps other fprof runs from
  // writing them meanwhile.
  p.records.generations[String(made.number)] = {
    generation: made.number,
    ...record,
    storePath: made.storePath,
  };
  await saveRecords(p.records, ctx.env);
  await clearPending(place.recordsKey, ctx.env);
  crashPoint("switch:after-records");
  // Read now, so that the first list of the new generation finds it cached;
  // collected generations leave the cache. The cache is of this machine's
  // store only.
  if (manifest !== "none" && place.host === undefined) {
    await updateContentsCache(nix, made.storePath, contentsCacheDir(ctx.env));
  }
  return { action: "switched", generation: made.number };
}

/**
 * `nix-env --set` of the new generation. Rooted as it is, a busy collector
 * was seen to take it before nix-env set it (on 2.8 as root, and through a
 * daemon on 2.26); then it is added again, a few times at most.
 */
async function setAddingAgain(
  run: SwitchRun,
  storePath: string,
  manifest: ManifestKind,
  add: () => Promise<void>,
): Promise<void> {
  const { place, ctx } = run;
  for (let attempt = 1;; attempt++) {
    try {
      return await place.set(storePath);
    } catch (e) {
      if (
        !(e instanceof NixError) || (manifest === "none" && place.host === undefined) ||
        attempt >= 4 || await place.isValid(storePath)
      ) {
        throw e;
      }
      ctx.log.debug(`'${storePath}' was collected before nix-env set it: adding it again`);
      await add();
    }
  }
}

/**
 * Refuses an installable that built one package rather than an environment
 * of packages: it refers to no package, yet has files of its own (such as
 * `bin/hello`), so its generation would have an empty manifest beside a
 * populated `bin/`.
 */
function refuseSinglePackage(
  built: BuiltEnv,
  entries: readonly string[],
  packages: readonly ProfilePackage[],
): void {
  if (packages.length > 0 || entries.every((e) => /^manifest\.(nix|json)$/.test(e))) return;
  const label = built.flake ? `${built.flake.ref}#${built.flake.attr}` : built.envPath;
  throw new FprofError(
    `'${label}' is a single package, not a profile environment: it refers to no packages`,
    {
      hint: "build an environment that lists the packages (buildEnv, or fprof's lib.mkProfile)",
    },
  );
}

function recordSource(
  flake: { ref: string; attr: string },
  meta: FlakeMetadata | undefined,
) {
  return {
    flake: meta?.originalUrl || flake.ref,
    ...(meta?.url ? { lockedUrl: meta.url } : {}),
    ...(meta?.revision ? { revision: meta.revision } : {}),
    attr: flake.attr,
  };
}

/** The current generation's contents; an unreadable one only warns, since it is being replaced. */
async function readCurrent(
  gen: Generation,
  run: SwitchRun,
): Promise<GenerationContents | null> {
  try {
    return await run.place.contents(gen.storePath);
  } catch (e) {
    if (!(e instanceof FprofError)) throw e;
    run.ctx.log.warn(
      `cannot read the current generation ${gen.number}: ${e.message}`,
    );
    return null;
  }
}

/** Parses an installable; a link into the store, such as `./result`, is a store path. */
export async function resolveInstallable(
  text: string,
  ctx: Context,
): Promise<Installable> {
  const storeDir = ctx.nix.storeDir;
  const parsed = parseInstallable(text, storeDir);
  if (parsed.kind === "store" || text.includes("#") || text.includes(":")) {
    return parsed;
  }
  // A link into the store, such as ./result, is a store path too.
  try {
    const real = await Deno.realPath(text);
    if (real.startsWith(storeDir + "/")) {
      return parseInstallable(real, storeDir);
    }
  } catch {
    // Not a local path: let Nix resolve it as a flake reference.
  }
  return parsed;
}

/** Where to build: `--build-host`, or this machine. */
export async function sourceOf(
  opts: SwitchOptions,
  ctx: Context,
  roots: RunRoots,
): Promise<PathSource> {
  if (opts.buildHost === undefined) return new LocalSource(ctx.nix, roots);
  const { RemoteHost } = await import("../remote/host.ts");
  const host = await RemoteHost.connect(checkHostSpec(opts.buildHost), ctx.nix, ctx.env);
  host.requireStoreDir(ctx.nix.storeDir);
  return new BuildHostSource(host, ctx.nix, roots);
}

/** A machine a profile is built for: its Nix system and short host name. */
export interface Machine {
  system: string;
  host?: string;
}

/** This machine. */
export function thisMachine(): Machine {
  return { system: currentSystem(), host: machineName(Deno.hostname()) };
}

/**
 * Builds an installable, trying the default attributes in order when it names
 * none. With `roots`, the result stays rooted there until they are disposed of.
 */
export async function buildEnv(
  installable: Installable,
  ctx: Context,
  flakeArgs: readonly string[] = [],
  roots?: RunRoots,
  how: {
    /** Why this flake, when the user did not name it, for the first status line. */
    from?: string;
    /** The machine whose default attributes are tried. */
    machine?: Machine;
    /** Where to build: here by default. */
    source?: PathSource;
  } = {},
): Promise<BuiltEnv> {
  const { from, machine = thisMachine(), source } = how;
  // A build host's result cannot have a link here: nothing roots it there.
  const remote = source?.host !== undefined;
  const { nix, log } = ctx;
  if (installable.kind === "store") {
    if (!(await nix.isValid(installable.path))) {
      throw new FprofError(`'${installable.path}' is not a valid store path`, {
        hint: "build it first (nix-build or nix build print the path), or give a flake",
      });
    }
    await roots?.keep(installable.path);
    return { envPath: installable.path };
  }
  const attrs = installable.attr
    ? namedAttrs(installable.attr, machine.system)
    : defaultAttrs(machine.system, machine.host);
  // Lock the flake first, then name it by its locked URL: Nix finds a locked
  // flake in the store by its hash, where every call on the unlocked one
  // copies and hashes the whole source again (1.4 s for 30,000 files).
  // Asked now, beside the lock: the eval cache's key needs it.
  nix.version().catch(() => {});
  let meta = await nix.flakeMetadata(installable.ref, flakeArgs);
  // Without an attribute, each candidate that does not exist costs one
  // failed evaluation; only the one found is named to the user.
  // Which flake, and which inputs replaced, so that neither is a surprise.
  const overrides: string[] = [];
  for (let i = 0; i < flakeArgs.length - 2; i++) {
    if (flakeArgs[i] === "--override-input") {
      overrides.push(`${flakeArgs[i + 1]} from ${flakeArgs[i + 2]}`);
    }
  }
  log.step(
    `building ${installable.attr ? `${installable.ref}#${installable.attr}` : installable.ref}` +
      (from ? ` (${from})` : "") + (overrides.length ? `, with input ${overrides.join(", ")}` : ""),
  );
  const cache = remote ? null : await cacheFor(meta, attrs, flakeArgs, ctx);
  const hit = cache && await cachedEnv(cache, roots, ctx);
  if (hit) {
    if (hit.attr !== installable.attr) log.step(`built ${hit.attr}`);
    log.debug(`'${hit.envPath}' is what this locked flake built before: nothing to evaluate`);
    return {
      envPath: hit.envPath,
      flake: { ref: installable.ref, attr: hit.attr },
      meta,
      record: hit.record,
      info: hit.info,
    };
  }
  // Only an evaluation needs the source: rooted now, it stays for the build.
  await keepSource(meta, ctx, roots);
  for (const [i, attr] of attrs.entries()) {
    const target = `${installable.ref}#${attr}`;
    if (attrs.length > 1) log.debug(`trying ${target}`);
    try {
      for (let attempt = 1;; attempt++) {
        const locked = lockedRef({ flake: { ref: installable.ref, attr: "" }, meta });
        try {
          const { envPath, record } = await buildAttr(`${locked}#${attr}`, {
            flakeArgs,
            label: target,
            outLink: remote ? undefined : roots?.link("env"),
            storeArgs: source?.buildArgs ?? [],
            collected: collectedMeanwhile,
          }, ctx);
          if (attr !== installable.attr) log.step(`built ${attr}`);
          const built = { envPath, flake: { ref: installable.ref, attr }, meta, record };
          if (cache) await remember(cache, built);
          return built;
        } catch (e) {
          if (!roots || attempt >= 3 || !collectedMeanwhile(e)) throw e;
          log.debug(`a garbage collection took the flake's source: locking it again`);
          meta = await lockFlake(installable.ref, flakeArgs, ctx, roots);
        }
      }
    } catch (e) {
      const missing = e instanceof NixError &&
        /does not provide attribute/.test(e.stderr);
      if (!missing) throw e;
      if (i === attrs.length - 1) {
        // Named by what the user typed; the machine of that name is a guess.
        const wanted = installable.attr ? [installable.attr] : attrs;
        throw await missingAttrError(nix, installable.ref, wanted, machine.system, e);
      }
    }
  }
  throw new Error("unreachable");
}

/** Where a build of `attrs` of the locked flake is kept in the eval cache. */
interface CacheSlot {
  cache: EvalCache;
  /** The key of this very call; `null` when the flake is not locked by content. */
  key: string;
  /** The facts of the key, for the key of the attribute found. */
  facts: EvalFacts;
}

/** The cache slot of this build, or `null` when it cannot be cached. */
async function cacheFor(
  meta: FlakeMetadata,
  attrs: readonly string[],
  flakeArgs: readonly string[],
  ctx: Context,
): Promise<CacheSlot | null> {
  const facts: EvalFacts = {
    meta,
    attrs,
    flakeArgs,
    nixVersion: (await ctx.nix.version()).raw,
    storeDir: ctx.nix.storeDir,
  };
  const key = await evalKey(facts);
  return key === null ? null : { cache: openEvalCache(ctx), key, facts };
}

/**
 * The cached environment of this build, with its path info, when it is still
 * in the store (and now rooted): one `path-info` tells both, and the switch
 * then needs no other.
 */
async function cachedEnv(
  slot: CacheSlot,
  roots: RunRoots | undefined,
  ctx: Context,
): Promise<(EvalEntry & { info: PathInfo }) | null> {
  const entry = await slot.cache.read(slot.key);
  if (!entry) return null;
  const gone = (e: unknown) => {
    if (e instanceof NixError) return null;
    throw e;
  };
  const info = await ctx.nix.pathInfo([entry.envPath])
    .then((infos) => infos.find((i) => i.path === entry.envPath) ?? null, gone);
  if (!info) return null;
  if (roots && await roots.keep(entry.envPath).then(() => false, gone) === null) return null;
  return { ...entry, info };
}

/**
 * Keeps a build in the cache, under this call's key and under the key of the
 * attribute it found, so that naming that attribute later is served too.
 */
async function remember(
  slot: CacheSlot,
  built: Required<Pick<BuiltEnv, "envPath" | "flake">> & { record?: unknown },
): Promise<void> {
  if (built.record === undefined) return;
  const own = await evalKey({ ...slot.facts, attrs: [built.flake.attr] });
  const entry = { attr: built.flake.attr, envPath: built.envPath, record: built.record };
  await slot.cache.write(own === null ? [slot.key] : [slot.key, own], entry);
}

/**
 * The flake's metadata, with its source rooted in `roots` when it can be: a
 * collection may take the source in the moment after Nix added it, and then
 * the build adds it again (or fails and is retried, see
 * {@link collectedMeanwhile}).
 */
async function lockFlake(
  ref: string,
  flakeArgs: readonly string[],
  ctx: Context,
  roots: RunRoots | undefined,
): Promise<FlakeMetadata> {
  const meta = await ctx.nix.flakeMetadata(ref, flakeArgs);
  await keepSource(meta, ctx, roots);
  return meta;
}

/** Roots the locked flake's source in `roots`, when there are roots and it is still there. */
async function keepSource(
  meta: FlakeMetadata,
  ctx: Context,
  roots: RunRoots | undefined,
): Promise<void> {
  if (roots && meta.path && !(await roots.keepIfValid(meta.path))) {
    ctx.log.debug(`'${meta.path}' was collected before it was rooted`);
  }
}

/**
 * Whether a build failed because a path Nix had just added was collected
 * before the build used it: Nix 2.8 trusts its cache of fetched flakes
 * without checking, and then finds the path either unregistered ("is not
 * valid") or registered but already deleted ("getting status of …: No such
 * file or directory"). Pure.
 *
 * @example
 * ```ts
 * import { collectedMeanwhile } from "./switch.ts";
 * import { NixError } from "../errors.ts";
 * const e = (stderr: string) => new NixError(["nix", "build"], 1, stderr);
 * collectedMeanwhile(e("error: path '/s/x-source' is not valid\n")); // true
 * collectedMeanwhile(e("error: getting status of '/s/x-source': No such file or directory\n")); // true
 * collectedMeanwhile(e("error: attribute 'x' missing\n")); // false
 * ```
 */
export function collectedMeanwhile(e: unknown): boolean {
  return e instanceof NixError &&
    /path '[^']*' is not valid|getting status of '[^']*': No such file or directory/.test(e.stderr);
}

/**
 * The flake reference to hand to Nix after the build: the locked URL when it
 * pins the content (a `narHash` or a `rev`), else the reference as given.
 */
function lockedRef(built: Pick<BuiltEnv, "flake" | "meta">): string {
  const url = built.meta?.url ?? "";
  return /[?&](narHash|rev)=/.test(url) ? url : built.flake?.ref ?? url;
}

async function readEnvEntries(envPath: string, source: PathSource): Promise<string[]> {
  try {
    return await source.entries(envPath);
  } catch (e) {
    throw new FprofError(
      `'${envPath}' is not a profile environment: ${(e as Error).message}`,
      {
        cause: e,
        hint: "the flake attribute must build a directory, such as a buildEnv",
      },
    );
  }
}

/**
 * Nix creates `~/.nix-profile` when it is missing; fprof does the same after
 * the first switch of the default profile, so the new packages are on the
 * user's PATH. For root, Nix 2.14 and later also link `profiles/default`
 * (what NixOS and the installers' scripts read) to root's own profile.
 */
async function ensureProfileLink(profile: string, ctx: Context): Promise<void> {
  const link = await linkToMake(ctx);
  if (link !== null) {
    await Deno.symlink(profile, link);
    ctx.log.step(`created '${link}' pointing to '${profile}'`);
  }
  const global = join(ctx.nix.stateDir, "profiles", "default");
  if (Deno.uid() === 0 && profile !== global && !(await taken(global))) {
    await Deno.symlink(profile, global).catch(() => {});
  }
}

/** `~/.nix-profile`, when a switch of the default profile is to make it: neither link Nix follows exists. */
async function linkToMake(ctx: Context): Promise<string | null> {
  const link = join(homeDir(ctx.env), ".nix-profile");
  const taken_ = await taken(link) || await taken(join(stateHome(ctx.env), "nix", "profile"));
  return taken_ ? null : link;
}

/** Whether anything, even a dangling link, is at `path`; an unreadable place counts as taken. */
function taken(path: string): Promise<boolean> {
  return exists(path).catch(() => true);
}
