/**
 * `fprof add NAME…` and `fprof remove NAME…`: change the list of packages a
 * flake declares with one command, then switch to it, so that the list stays
 * the declaration and nothing is installed beside it.
 *
 * The plan is pure: find the list (see `lib/flake/nix_locate.ts`), decide
 * the edit, and refuse what cannot be edited surely. The apply, under a lock
 * on the file, checks the names against the flake's locked nixpkgs, writes
 * the file only if nobody changed it since it was read, switches, and puts
 * the file back byte for byte when the switch fails.
 *
 * @module
 */

import { basename, dirname, join } from "../path.ts";
import type { Context } from "../context.ts";
import { profileOf } from "../place.ts";
import { FprofError, UsageError } from "../errors.ts";
import { machineName, parseInstallable } from "../nix/installable.ts";
import { chooseFlake, localFlakeDir } from "../nix/flake_ref.ts";
import { parseFlakeLock } from "../nix/flake_lock.ts";
import { readBytesOrNull, sameBytes } from "../fs.ts";
import { replaceFile, restoreBytes, writeNewFile } from "../safe_write.ts";
import { sha256HexSync } from "../hash.ts";
import { homeDir, stateHome } from "../xdg.ts";
import { readProfile, withLockFile } from "../profile/profile.ts";
import { readGenerationContents } from "../profile/generation.ts";
import {
  appendEntries,
  type Binding,
  type Choice,
  chooseList,
  lineOf,
  type ListWanted,
  locate,
  type Located,
  type PackageList,
  removeEntries,
} from "../flake/nix_locate.ts";
import { NixLexError } from "../flake/nix_lexer.ts";
import { type NameCheck, packageCheckExpr, readPackageCheck } from "../flake/package_check.ts";
import { nearest } from "../term/did_you_mean.ts";
import { unifiedDiff } from "../term/unified_diff.ts";
import { writeOut } from "../log/log.ts";
import { type SwitchOptions, switchProfile, type SwitchResult } from "./switch.ts";

/** Options of `fprof add` and `fprof remove`. */
export interface EditOptions extends SwitchOptions {
  /** The flake to edit (default: the one `switch` would choose). */
  flake?: string;
  /** A group of the machine's profile, instead of the list every machine gets. */
  group?: string;
  /** Another machine's entry under `profiles`. */
  host?: string;
  /** Edit the file, and do not switch. */
  switch?: boolean;
  /** `add`: also update the input the names come from, as `fprof upgrade --input` does. */
  upgrade?: boolean;
}

/** Which way the list changes. */
export type EditOp = "add" | "remove";

/** What an add or remove will do to the file. */
export interface EditPlan {
  list: PackageList;
  /** The names the edit adds or removes. */
  changed: string[];
  /** Names asked for that need nothing (declared already, for `add`). */
  already: string[];
  /** The file's text after the edit (the same text when nothing changes). */
  after: string;
}

const NAME = /^[A-Za-z_][\w'-]*(\.[A-Za-z_][\w'-]*)*$/;

/** Refuses names that are not attribute paths, before anything is read. Pure. */
export function checkNameSyntax(names: readonly string[]): void {
  for (const name of names) {
    if (name.includes("#")) {
      throw new UsageError(
        `'${name}' names another flake's package; fprof add takes names of the flake's nixpkgs`,
        {
          hint: "declare a package of another input in flake.nix by hand, as " +
            "inputs.NAME.packages.${system}.ATTR, and run 'fprof switch'",
        },
      );
    }
    if (!NAME.test(name)) {
      throw new UsageError(
        `'${name}' is not an attribute name, such as ripgrep or python3Packages.black`,
        {
          hint:
            "name packages by their attribute in nixpkgs, as 'nix search nixpkgs WORD' shows them",
        },
      );
    }
  }
}

/**
 * Decides the edit of the located source of `file`. Pure. Throws, with the
 * place and what to do, when there is no one literal list to edit.
 */
export function planEdit(args: {
  located: Located;
  file: string;
  op: EditOp;
  names: readonly string[];
  want: ListWanted;
}): EditPlan {
  const { source } = args.located;
  const choice = chooseList(args.located, args.want);
  if (choice.kind !== "list") throw noList(choice, args.file, args.want);
  const { list } = choice;
  const declared = new Set(list.entries.map((e) => e.name));
  const names = [...new Set(args.names)];
  if (args.op === "add") {
    const changed = names.filter((n) => !declared.has(n));
    const dotted = list.shape === "inherit" ? changed.find((n) => n.includes(".")) : undefined;
    if (dotted !== undefined) {
      throw new UsageError(
        `'${dotted}' cannot go into ${where(args.file, list.binding)}: inherit takes plain names`,
        { hint: "declare that list as 'with pkgs; [ … ]', which takes any attribute path" },
      );
    }
    const after = appendEntries(source, list, changed);
    return { list, changed, already: names.filter((n) => declared.has(n)), after };
  }
  const missing = names.filter((n) => !declared.has(n));
  if (missing.length) throw notDeclared(missing, list, args);
  return { list, changed: names, already: [], after: removeEntries(source, list, names) };
}

/** Locates the bindings of `source`, the text of `file`; a text Nix would not read is refused. */
export function locateSource(source: string, file: string): Located {
  try {
    return locate(source);
  } catch (e) {
    if (!(e instanceof NixLexError)) throw e;
    throw new FprofError(
      `cannot read '${file}': ${e.message} at ${file}:${lineOf(source, e.offset)}`,
      { hint: "fix the file so that 'nix flake check' reads it, then run fprof again" },
    );
  }
}

function noList(choice: Exclude<Choice, { kind: "list" }>, file: string, want: ListWanted) {
  const wanted = want.group !== undefined
    ? `group '${want.group}' of '${want.host ?? "profile"}'`
    : want.host !== undefined
    ? `the entry of '${want.host}'`
    : "the list every machine gets (a 'paths' or 'shared' binding)";
  if (choice.kind === "ambiguous") {
    return new UsageError(
      `more than one list fits ${wanted}: ${
        choice.candidates.map((b) => where(file, b)).join(", ")
      }`,
      { hint: "choose one with --group NAME (and --host NAME for another machine's)" },
    );
  }
  if (choice.kind === "computed") {
    return new FprofError(
      `${where(file, choice.at[0])} is computed, not a list fprof can edit`,
      {
        hint: "edit it by hand, or declare the packages there as '{ inherit (pkgs) a b; }', " +
          "'with pkgs; [ a b ]' or '[ pkgs.a pkgs.b ]'",
      },
    );
  }
  const near = choice.near.map((b) => b.path.at(-1)!);
  const hosts = choice.near.filter((b) => b.path.at(-1) === want.group).map((b) => b.path.at(-2)!);
  return new UsageError(`'${file}' has no ${wanted}`, {
    hint: hosts.length
      ? `group '${want.group}' is declared for ${hosts.join(", ")}: choose one with --host`
      : near.length
      ? `its lists there are: ${near.join(", ")}`
      : "name the list with --group (and --host), or declare one as 'paths = with pkgs; [ … ];'",
  });
}

function notDeclared(
  missing: string[],
  list: PackageList,
  args: { file: string; located: Located },
) {
  const others = args.located.bindings.filter((b) =>
    b.value.kind === "list" && b.value.list.binding !== list.binding &&
    b.value.list.entries.some((e) => missing.includes(e.name))
  );
  const near = nearest(missing[0], list.entries.map((e) => e.name), 1);
  return new UsageError(
    `${missing.map((n) => `'${n}'`).join(", ")} ${
      missing.length > 1 ? "are" : "is"
    } not declared ` +
      `in ${where(args.file, list.binding)}`,
    {
      hint: others.length
        ? `it is declared in ${others.map((b) => where(args.file, b.binding)).join(", ")}; ` +
          "choose that list with --group (and --host)"
        : near.length
        ? `did you mean '${near[0]}'?`
        : `that list declares: ${list.entries.map((e) => e.name).join(", ") || "nothing"}`,
    },
  );
}

/** `flake.nix:32 (shared)`: a binding as a user finds it. */
function where(file: string, b: Binding): string {
  return `${basename(file)}:${b.line} (${b.path.at(-1)})`;
}

/** Refuses names Nix did not find, with the nearest names beside each. Pure. */
export function checkFound(checks: readonly NameCheck[], input: string): void {
  const missing = checks.filter((c) => !c.found);
  if (missing.length === 0) return;
  const parts = missing.map((c) => {
    if (c.found) return "";
    const near = nearest(c.missing, c.near);
    return `'${c.name}'${
      near.length ? ` (did you mean ${near.map((n) => `'${n}'`).join(", ")}?)` : ""
    }`;
  });
  throw new UsageError(`${input} has no package ${parts.join(", ")}`, {
    hint: `nothing was changed; check the names with 'nix search ${input} WORD'`,
  });
}

/** Runs `fprof add` or `fprof remove`. */
export async function editPackages(
  op: EditOp,
  names: string[],
  opts: EditOptions,
  ctx: Context,
): Promise<SwitchResult | null> {
  checkNameSyntax(names);
  const chosen = await chooseFlake(opts.flake, ctx.config.flake, ctx.env);
  const file = await flakeFile(chosen.ref, ctx);
  const lock = join(
    stateHome(ctx.env),
    "fprof",
    "edits",
    `${sha256HexSync(file).slice(0, 32)}.lock`,
  );
  return await withLockFile(
    lock,
    () => ctx.log.step(`waiting for another fprof editing '${file}'`),
    () => editLocked({ op, names, opts, ctx, file, ref: chosen.ref }),
  );
}

interface EditRun {
  op: EditOp;
  names: string[];
  opts: EditOptions;
  ctx: Context;
  /** The flake.nix edited, links resolved. */
  file: string;
  /** The flake as switch is given it, with its `#attr`. */
  ref: string;
}

/**
 * The edit under the lock. The flake's lock file is put back as it was unless
 * the switch happened: the names are checked against the input it locks, so
 * a flake without one is locked first, as its first build would.
 */
async function editLocked(run: EditRun): Promise<SwitchResult | null> {
  const lockFile = join(dirname(run.file), "flake.lock");
  const saved = await readBytesOrNull(lockFile);
  let keep = false;
  try {
    const result = await editChecked(run, saved, lockFile);
    keep = result !== null && result.action !== "dry-run";
    return result;
  } finally {
    if (!keep) await restoreBytes(lockFile, saved);
  }
}

/** Whether the lock file pins `nixpkgs`; if not, it is locked now. */
async function ensureLocked(run: EditRun, saved: Uint8Array | null, lockFile: string) {
  if (saved !== null) {
    try {
      const lock = parseFlakeLock(new TextDecoder().decode(saved), lockFile);
      if (lock.nodes[lock.root]?.inputs?.nixpkgs !== undefined) return;
    } catch {
      // A lock file Nix cannot read either: Nix says why when it locks.
    }
  }
  await run.ctx.nix.lockFlake(`path:${dirname(run.file)}`);
}

async function editChecked(
  run: EditRun,
  savedLock: Uint8Array | null,
  lockFile: string,
): Promise<SwitchResult | null> {
  const { ctx, file } = run;
  const before = await Deno.readFile(file);
  const located = locateSource(decodeSource(before, file), file);
  const want = wanted(run.ref, run.opts, located);
  const plan = planEdit({ located, file, op: run.op, names: run.names, want });
  const place = where(file, plan.list.binding);
  if (plan.already.length) {
    const are = plan.already.length > 1 ? "are" : "is";
    const rest = plan.changed.length || run.opts.upgrade ? "" : "; nothing to do";
    ctx.log.step(`${plan.already.join(", ")} ${are} declared in ${place} already${rest}`);
  }
  if (plan.changed.length === 0 && !run.opts.upgrade) return null;
  if (run.op === "add" && plan.changed.length && !run.opts.overrideInput?.length) {
    await ensureLocked(run, savedLock, lockFile);
  }
  const checks = run.op === "add" ? await checkNames(run, plan.changed) : [];
  if (run.opts.dryRun) {
    writeOut(unifiedDiff(basename(file), located.source, plan.after));
    return plan.changed.length || run.opts.upgrade ? await dryRunSwitch(run, plan.after) : null;
  }
  if (plan.changed.length) {
    await writeIfUnchanged(file, before, plan.after);
    ctx.log.step(
      `${run.op === "add" ? "added" : "removed"} ${plan.changed.join(", ")} ${
        run.op === "add" ? "to" : "from"
      } ${place}`,
    );
  }
  if (run.opts.switch === false) return null;
  let result: SwitchResult;
  try {
    result = await switchAfterEdit(run, run.ref);
  } catch (e) {
    if (plan.changed.length) await putBack(file, plan.after, before, ctx);
    throw e;
  }
  await checkProfileHolds(run, checks);
  return result;
}

/** The flake's `flake.nix`, links resolved, for a flake on this machine. */
async function flakeFile(ref: string, ctx: Context): Promise<string> {
  const installable = parseInstallable(ref, ctx.nix.storeDir);
  const dir = installable.kind === "flake"
    ? localFlakeDir(installable.ref, Deno.cwd(), homeDir(ctx.env))
    : null;
  if (dir === null) {
    throw new UsageError(`cannot edit '${ref}': it is not a flake on this machine`, {
      hint: "add and remove edit the flake's own flake.nix; name a local flake with --flake PATH",
    });
  }
  try {
    return await Deno.realPath(join(dir, "flake.nix"));
  } catch (e) {
    throw new FprofError(`cannot edit '${join(dir, "flake.nix")}': ${(e as Error).message}`, {
      cause: e,
      hint: "run 'fprof init' to write a flake, or name one with --flake PATH",
    });
  }
}

/** The list asked for: the machine of `--host`, the flake's `#NAME`, or this one, for a group. */
function wanted(ref: string, opts: EditOptions, located: Located): ListWanted {
  if (opts.group === undefined) return { host: opts.host };
  const attr = /#(.+)$/.exec(ref)?.[1].split(".").at(-1);
  const host = opts.host ?? attr ?? machineName(Deno.hostname());
  if (opts.host !== undefined || host === undefined) return { group: opts.group, host };
  // A machine without an entry of its own gets `profile`, as switch builds it.
  const hasEntry = located.bindings.some((b) => b.binding.path.at(-2) === host);
  return { group: opts.group, host: hasEntry ? host : "profile" };
}

function decodeSource(bytes: Uint8Array, file: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new FprofError(`cannot edit '${file}': it is not UTF-8 text`, {
      hint: "Nix reads flake.nix as UTF-8; save it as UTF-8 and run fprof again",
    });
  }
}

/** Asks Nix whether the names exist in the flake's nixpkgs, as its lock pins it. */
async function checkNames(run: EditRun, names: string[]): Promise<NameCheck[]> {
  if (names.length === 0) return [];
  const override = run.opts.overrideInput?.find((o) => o.startsWith("nixpkgs="));
  const source = override
    ? { ref: override.slice("nixpkgs=".length) }
    : { flake: dirname(run.file), input: "nixpkgs" };
  const answer = readPackageCheck(
    await run.ctx.nix.evalImpureJson(packageCheckExpr(source, names), {
      context: `cannot look up ${names.join(", ")} in the flake's nixpkgs`,
      spin: `looking up ${names.join(", ")}`,
      hint:
        "nothing was changed; fix the flake so that 'fprof switch' evaluates it, then add again",
    }),
    names,
  );
  if ("inputs" in answer) {
    throw new FprofError(`the flake at '${dirname(run.file)}' has no input 'nixpkgs' to add from`, {
      hint: `its inputs are: ${
        answer.inputs.join(", ") || "none"
      }; fprof add looks names up in nixpkgs`,
    });
  }
  checkFound(answer.checks, "nixpkgs");
  return answer.checks;
}

/** Replaces the file, unless someone changed it since it was read (then nothing is written). */
async function writeIfUnchanged(file: string, before: Uint8Array, after: string): Promise<void> {
  const now = await Deno.readFile(file);
  if (!sameBytes(now, before)) {
    throw new FprofError(
      `'${file}' changed while fprof was checking the names; nothing was written`,
      {
        hint: "run the command again: it will edit the file as it is now",
      },
    );
  }
  await replaceFile(file, after, { tmp: `${file}.fprof-${Deno.pid}.tmp` });
}

async function putBack(file: string, written: string, before: Uint8Array, ctx: Context) {
  const now = await Deno.readFile(file).catch(() => null);
  if (now === null || !sameBytes(now, new TextEncoder().encode(written))) {
    ctx.log.warn(`'${file}' changed after fprof edited it; left it as it is now`);
    return;
  }
  await restoreBytes(file, before);
  ctx.log.step(`left '${file}' as it was`);
}

/** Switches to the edited flake `ref`, through `upgrade` with `--upgrade`. */
async function switchAfterEdit(run: EditRun, ref: string, dryRun?: boolean): Promise<SwitchResult> {
  const { flake: _f, group: _g, host: _h, switch: _s, upgrade, ...opts } = run.opts;
  if (dryRun) opts.dryRun = true;
  if (!upgrade) return await switchProfile(ref, opts, run.ctx);
  const { upgrade: upgradeFlake } = await import("./upgrade.ts");
  return await upgradeFlake(ref, { ...opts, input: ["nixpkgs"] }, run.ctx);
}

/**
 * A dry run's package diff: the edited flake is switched with `--dry-run`
 * from a copy of its directory, so that the user's file is never written.
 */
async function dryRunSwitch(run: EditRun, after: string): Promise<SwitchResult> {
  const copy = await Deno.makeTempDir({ prefix: "fprof-edit-" });
  try {
    await copyTree(dirname(run.file), copy, "flake.nix");
    await writeNewFile(join(copy, "flake.nix"), after);
    const attr = /#.*$/.exec(run.ref)?.[0] ?? "";
    return await switchAfterEdit(run, `path:${copy}${attr}`, true);
  } finally {
    await Deno.remove(copy, { recursive: true }).catch(() => {});
  }
}

/** Copies a flake's directory (not `.git`, not `skip`) for a dry run; links stay links. */
async function copyTree(from: string, to: string, skip?: string): Promise<void> {
  for await (const e of Deno.readDir(from)) {
    if (e.name === ".git" || e.name === skip || /^result(-|$)/.test(e.name)) continue;
    const src = join(from, e.name);
    const dst = join(to, e.name);
    if (e.isSymlink) await Deno.symlink(await Deno.readLink(src), dst);
    else if (e.isDirectory) await Deno.mkdir(dst).then(() => copyTree(src, dst));
    else await Deno.copyFile(src, dst);
  }
}

/**
 * After the switch, the profile holds each added package, checked by the
 * store path Nix gave for its name: the declared set grew by exactly what
 * was asked. (A removed package may stay when another list declares it.)
 */
async function checkProfileHolds(run: EditRun, checks: readonly NameCheck[]): Promise<void> {
  const wanted = checks.filter((c) =>
    c.found && c.outPath !== null
  ) as (NameCheck & { found: true; outPath: string })[];
  if (wanted.length === 0) return;
  const state = await readProfile(await profileOf(run.ctx, run.opts.profile));
  if (!state.current) return;
  const contents = await readGenerationContents(run.ctx.nix, state.current.storePath);
  const held = new Set(contents.packages.flatMap((p) => p.storePaths));
  const lost = wanted.filter((c) => !held.has(c.outPath));
  if (lost.length) {
    throw new FprofError(
      `the new generation does not hold ${
        lost.map((c) => `${c.name} (${c.outPath})`).join(", ")
      }, ` +
        `although the edited list declares it`,
      {
        hint:
          "the list fprof edited is not the one this profile is built from; choose it with --group",
      },
    );
  }
}
