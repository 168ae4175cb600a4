/**
 * Drift: the current generation was made outside fprof (`nix-env -i`,
 * `nix profile install`), so a switch to the flake's declaration would drop
 * whatever was added there. fprof names those packages and asks first.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { FprofError } from "../errors.ts";
import { type GenerationContents, readGenerationContents } from "./generation.ts";
import type { Generation, ProfileState } from "./profile.ts";
import { recordOf, type RecordsFile } from "./records.ts";
import type { ProfilePackage } from "../../manifest/types.ts";
import { comparePackages } from "../../manifest/names.ts";

/** What to do about packages a switch would drop from a foreign generation. */
export type DriftDecision = "proceed" | "ask" | "refuse";

/**
 * Decides whether to go on; pure. Nothing dropped, or `--yes`: go on. A
 * terminal on stdin: ask. Otherwise (a script, a pipe): refuse, since nobody
 * can answer.
 */
export function driftDecision(
  args: { dropped: number; yes: boolean; interactive: boolean },
): DriftDecision {
  if (args.dropped === 0 || args.yes) return "proceed";
  return args.interactive ? "ask" : "refuse";
}

/** `extra 0.1, tool 2.0`; pure. */
export function packageNames(pkgs: readonly ProfilePackage[]): string {
  return pkgs.map((p) => (p.version ? `${p.name} ${p.version}` : p.name)).join(", ");
}

/**
 * The packages a switch drops that another tool added; pure. `baseline` is
 * the newest generation fprof made before the current one: what it had was
 * declared, so dropping it is the flake's own change. Without a baseline
 * (fprof never switched this profile) every dropped package counts. Sorted
 * by name.
 */
export function foreignDrops(
  removed: readonly ProfilePackage[],
  baseline: readonly ProfilePackage[] | null,
): ProfilePackage[] {
  const declared = new Set((baseline ?? []).map((p) => `${p.name}\0${p.version}`));
  return removed.filter((p) => !declared.has(`${p.name}\0${p.version}`))
    .sort(comparePackages);
}

/**
 * What a switch from the current generation would drop that another tool
 * added, or null when fprof made the current generation (no drift).
 */
export async function driftedDrops(
  ctx: Context,
  state: ProfileState,
  records: RecordsFile,
  removed: readonly ProfilePackage[],
  /** Reads a generation of the profile, wherever it lives. */
  read: (storePath: string) => Promise<GenerationContents> = (p) =>
    readGenerationContents(ctx.nix, p),
): Promise<ProfilePackage[] | null> {
  const current = state.current;
  if (!current || recordOf(records, current)) return null;
  const base = state.generations.filter((g) => g.number < current.number && recordOf(records, g))
    .at(-1);
  let baseline: ProfilePackage[] | null = null;
  if (base) {
    try {
      baseline = (await read(base.storePath)).packages;
    } catch (e) {
      if (!(e instanceof FprofError)) throw e;
    }
  }
  return foreignDrops(removed, baseline);
}

/** Reads one answer from stdin; only `y`/`yes` (any case) agrees. */
export async function askYesNo(question: string, ctx: Context): Promise<boolean> {
  ctx.log.write(`${question} [y/N] `);
  const reader = Deno.stdin.readable.getReader();
  const decoder = new TextDecoder();
  let answer = "";
  try {
    while (!answer.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      answer += decoder.decode(value, { stream: true });
    }
  } finally {
    reader.releaseLock();
  }
  return /^\s*y(es)?\s*$/i.test(answer.split("\n")[0]);
}

/**
 * Before a switch away from a generation fprof did not make: names the
 * packages the switch would drop and asks, or refuses when it cannot ask.
 * A dry run only warns.
 */
export async function confirmDrift(
  ctx: Context,
  args: {
    current: Generation;
    dropped: readonly ProfilePackage[];
    yes: boolean;
    dryRun: boolean;
    interactive?: boolean;
  },
): Promise<void> {
  if (args.dropped.length === 0) return;
  const names = packageNames(args.dropped);
  const what =
    `generation ${args.current.number} was not made by fprof (nix-env or nix profile changed it), ` +
    `and this switch would drop: ${names}`;
  if (args.dryRun) {
    ctx.log.warn(what);
    return;
  }
  const decision = driftDecision({
    dropped: args.dropped.length,
    yes: args.yes,
    interactive: args.interactive ?? Deno.stdin.isTerminal(),
  });
  if (decision === "proceed") {
    if (args.yes) ctx.log.warn(what);
    return;
  }
  if (decision === "refuse") {
    throw new FprofError(`refusing to switch: ${what}`, {
      hint: "add them to the flake to keep them, or pass --yes to drop them",
    });
  }
  ctx.log.warn(what);
  if (!(await askYesNo("drop them and switch?", ctx))) {
    throw new FprofError("switch cancelled; nothing was changed");
  }
}
