/**
 * `fprof which COMMAND`: which package of the current generation provides
 * `bin/COMMAND`, which others provide it too (only one can be linked), and
 * what `PATH` runs, which is not always the profile's.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { profileOf } from "../place.ts";
import { FprofError, UsageError } from "../errors.ts";
import { contentsCacheDir, readGenerationContentsCached } from "../profile/contents_cache.ts";
import type { Provider } from "../profile/overlaps.ts";
import type { Generation } from "../profile/profile.ts";
import { readProfile } from "../profile/profile.ts";
import {
  existsFollowing,
  firstOnPath,
  isProfileBin,
  linkedProvider,
  pathEntries,
  providersOfCommand,
} from "../profile/provided.ts";
import { dirname, join } from "../path.ts";
import { writeOut } from "../log/log.ts";

/** Options of `fprof which`. */
export interface WhichOptions {
  profile?: string;
  json?: boolean;
}

/** What was read to answer `fprof which`. */
export interface WhichFacts {
  command: string;
  profile: string;
  generation: Generation;
  /** Whether the generation has `bin/<command>`. */
  inProfile: boolean;
  /** Every package of the generation with `bin/<command>`. */
  providers: readonly Provider[];
  /** The store path the profile's `bin/<command>` comes from, when it is a package's. */
  linked: string | null;
  /** The first executable `<command>` on `PATH`. */
  runs: string | null;
  /** Whether that one is in the profile's `bin/`. */
  runsProfile: boolean;
  /** Whether the profile's `bin/` is on `PATH` at all. */
  onPath: boolean;
}

/** The answer, as `--json` prints it (schema in docs/commands.md). */
export interface WhichJson {
  profile: string;
  generation: number;
  command: string;
  /** The package whose `bin/<command>` the profile links; null when no package's is. */
  provider: Provider | null;
  /** Other packages of the generation that provide it too, unused. */
  others: Provider[];
  /** What `PATH` runs for `<command>`, or null when nothing on it does. */
  runs: string | null;
  /** Whether that is the profile's own. */
  runsProfile: boolean;
  /** Whether the profile's `bin/` is on `PATH`. */
  onPath: boolean;
}

/**
 * The answer from the facts; pure. A command the generation does not have is
 * an error that says what `PATH` would run instead.
 */
export function planWhich(f: WhichFacts): WhichJson {
  if (!f.inProfile) {
    throw new FprofError(
      `'${f.command}' is not a command of '${f.profile}' (generation ${f.generation.number})`,
      {
        hint: (f.runs ? `PATH runs ${f.runs}, from outside the profile; ` : "") +
          "add the package that provides it to the flake and run 'fprof switch'",
      },
    );
  }
  const provider = f.providers.find((p) => p.storePath === f.linked) ?? null;
  return {
    profile: f.profile,
    generation: f.generation.number,
    command: f.command,
    provider,
    others: f.providers.filter((p) => p !== provider),
    runs: f.runs,
    runsProfile: f.runsProfile,
    onPath: f.onPath,
  };
}

/** The answer as text, one fact a line; pure. */
export function whichText(w: WhichJson): string {
  const label = (p: Provider) => p.version ? `${p.name} ${p.version}` : p.name;
  const file = (p: Provider) => join(p.storePath, "bin", w.command);
  const lines = [
    w.provider
      ? `provides  ${label(w.provider)}  ${file(w.provider)}`
      : "provides  (the environment itself, not one of its packages)",
    ...w.others.map((p) => `also      ${label(p)}  ${file(p)} (not linked)`),
  ];
  if (w.runsProfile) lines.push(`runs      ${w.runs} (the profile's)`);
  else if (w.runs !== null) {
    lines.push(
      `runs      ${w.runs} (not the profile's: ` +
        (w.onPath ? `${dirname(w.runs)} comes first on PATH)` : "the profile is not on PATH)"),
    );
  } else lines.push(`runs      nothing${w.onPath ? "" : ": the profile is not on PATH"}`);
  return lines.join("\n") + "\n";
}

/** A bare command name: `fprof which` answers for `bin/<name>`, not for a path. */
function checkCommandName(command: string): void {
  if (command === "" || command.includes("/") || command === "." || command === "..") {
    throw new UsageError(`'${command}' is not a command name`, {
      hint: "give the name alone, as the shell would look it up: 'fprof which hello'",
    });
  }
}

/** Reads the profile, its current generation and `PATH` for `command`. */
async function gatherWhich(command: string, opts: WhichOptions, ctx: Context): Promise<WhichFacts> {
  const profile = await profileOf(ctx, opts.profile);
  const { current } = await readProfile(profile);
  if (!current) {
    throw new FprofError(`'${profile}' has no current generation`, {
      hint: "make one with 'fprof switch', or name another profile with --profile",
    });
  }
  const { storeDir } = ctx.nix;
  const { packages } = await readGenerationContentsCached(
    ctx.nix,
    current.storePath,
    contentsCacheDir(ctx.env),
  );
  const path = ctx.env.get("PATH");
  const own = isProfileBin(profile, storeDir);
  const runs = firstOnPath(command, path);
  const providers = providersOfCommand(command, packages);
  const paths = new Set(providers.map((p) => p.storePath));
  return {
    command,
    profile,
    generation: current,
    inProfile: existsFollowing(join(current.storePath, "bin", command)),
    providers,
    linked: linkedProvider(current.storePath, `bin/${command}`, paths, storeDir),
    runs,
    runsProfile: runs !== null && own(dirname(runs)),
    onPath: pathEntries(path).some(own),
  };
}

/** Runs `fprof which COMMAND`. */
export async function which(command: string, opts: WhichOptions, ctx: Context): Promise<void> {
  checkCommandName(command);
  const answer = planWhich(await gatherWhich(command, opts, ctx));
  writeOut(opts.json ? JSON.stringify(answer, null, 2) + "\n" : whichText(answer));
}
