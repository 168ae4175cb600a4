/**
 * What overlaps in a profile, as warnings: two packages that provide the same
 * file (only one of them can be linked, so the other is silently unused), a
 * command that an earlier `PATH` directory shadows, and a profile whose
 * `bin/` is not on `PATH` at all. Every function here is pure: the facts come
 * from provided.ts, which reads the store and `PATH`.
 *
 * @module
 */

import type { ProfilePackage } from "../../manifest/types.ts";

/** A package as a warning names it: one of its store paths provides the file. */
export interface Provider {
  name: string;
  version: string;
  storePath: string;
}

/** Two or more packages provide `file`; the profile links one of them. */
export interface CollisionWarning {
  kind: "collision";
  /** The file, relative to the profile: `bin/hello`, `share/man/man1/hello.1.gz`. */
  file: string;
  /** Every package that provides it, in the environment's order. */
  packages: Provider[];
  /** The package whose file the profile links, when that could be told. */
  winner: Provider | null;
}

/** `command`, a command of the profile, runs from an earlier directory of `PATH`. */
export interface ShadowedWarning {
  kind: "shadowed";
  command: string;
  /** The earlier `PATH` directory. */
  directory: string;
  /** The profile's `bin/` directory, as `PATH` should name it. */
  bin: string;
}

/** The profile's `bin/` is on no `PATH` entry, so the shell finds none of its commands. */
export interface NotOnPathWarning {
  kind: "not-on-path";
  bin: string;
  /** The line to add to the shell's profile. */
  line: string;
}

/** One warning of the overlap checks, as `--json` prints it. */
export type OverlapWarning = CollisionWarning | ShadowedWarning | NotOnPathWarning;

/** Where `PATH` puts the profile's `bin/`, and what comes before it. */
export interface PathFacts {
  /** The profile's `bin/`. */
  bin: string;
  /** Whether some `PATH` entry is the profile's `bin/`. */
  onPath: boolean;
  /**
   * The directories before the first such entry, in `PATH` order, each with
   * the profile's commands it also has as executables.
   */
  earlier: readonly { directory: string; commands: readonly string[] }[];
}

/** The provider of each file that more than one package provides, from the files of each. */
export function collidingFiles(
  provided: readonly { provider: Provider; files: readonly string[] }[],
): Map<string, Provider[]> {
  // Most files have one provider: only a second one makes a list.
  const first = new Map<string, Provider>();
  const byFile = new Map<string, Provider[]>();
  for (const { provider, files } of provided) {
    for (const file of files) {
      const one = first.get(file);
      if (one === undefined) first.set(file, provider);
      else if (!samePackage(one, provider)) {
        const list = byFile.get(file);
        if (list === undefined) byFile.set(file, [one, provider]);
        else if (!list.some((p) => samePackage(p, provider))) list.push(provider);
      }
    }
  }
  return byFile;
}

function samePackage(a: Provider, b: Provider): boolean {
  return a.name === b.name && a.version === b.version;
}

/** The provider of `storePath`, one per output of each package. */
export function providersOf(packages: readonly ProfilePackage[]): Provider[] {
  return packages.flatMap((p) =>
    p.storePaths.map((storePath) => ({ name: p.name, version: p.version, storePath }))
  );
}

/**
 * The collision warnings, sorted by file, given the store path the profile
 * links for each colliding file (absent when it could not be told).
 */
export function collisionWarnings(
  colliding: ReadonlyMap<string, readonly Provider[]>,
  linked: ReadonlyMap<string, string | null>,
): CollisionWarning[] {
  return [...colliding.keys()].sort().map((file) => {
    const packages = [...colliding.get(file)!];
    const at = linked.get(file);
    return {
      kind: "collision",
      file,
      packages,
      winner: packages.find((p) => p.storePath === at) ?? null,
    };
  });
}

/**
 * The warnings about `PATH`: the profile's `bin/` missing from it, or each
 * command that an earlier directory also has (named once, by the first such
 * directory, which is the one the shell runs).
 */
export function pathWarnings(facts: PathFacts, hasCommands: boolean): OverlapWarning[] {
  if (!hasCommands) return [];
  if (!facts.onPath) {
    return [{ kind: "not-on-path", bin: facts.bin, line: `export PATH="${facts.bin}:$PATH"` }];
  }
  const seen = new Set<string>();
  const out: ShadowedWarning[] = [];
  for (const { directory, commands } of facts.earlier) {
    for (const command of [...commands].sort()) {
      if (seen.has(command)) continue;
      seen.add(command);
      out.push({ kind: "shadowed", command, directory, bin: facts.bin });
    }
  }
  return out;
}

const label = (p: Provider) => p.version ? `${p.name} ${p.version}` : p.name;

/** `a`, `a and b`, `a, b and c`. */
function listed(items: readonly string[]): string {
  return items.length < 2
    ? items.join("")
    : `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** The `warning:` and `hint:` lines of one warning. */
export function overlapMessage(w: OverlapWarning): { warning: string; hint: string } {
  switch (w.kind) {
    case "collision":
      return {
        warning: `${w.file} is provided by ${listed(w.packages.map(label))}` +
          (w.winner ? `; the profile has ${label(w.winner)}'s` : ""),
        hint: "remove all but one of them from the flake, or wrap the one to keep in " +
          "lib.hiPrio (the lower meta.priority wins)",
      };
    case "shadowed":
      return {
        warning: `'${w.command}' runs ${w.directory}/${w.command}, not the profile's: ` +
          `${w.directory} comes before ${w.bin} on PATH`,
        hint: `put ${w.bin} before ${w.directory} in PATH, or remove ${w.directory}/${w.command}`,
      };
    case "not-on-path":
      return {
        warning: `${w.bin} is not on PATH, so the shell finds none of the profile's commands`,
        hint:
          `add this line to your shell's profile (~/.profile, ~/.bashrc or ~/.zshrc): ${w.line}`,
      };
  }
}

/**
 * The lines to print for `warnings`: at most `max` of each kind, then one
 * line saying how many more there are, so that a profile with hundreds of
 * collisions does not bury the switch under them.
 */
export function overlapLines(
  warnings: readonly OverlapWarning[],
  max = 10,
): { warning: string; hint?: string }[] {
  const out: { warning: string; hint?: string }[] = [];
  const kinds = [...new Set(warnings.map((w) => w.kind))];
  for (const kind of kinds) {
    const mine = warnings.filter((w) => w.kind === kind);
    for (const w of mine.slice(0, max)) out.push(overlapMessage(w));
    if (mine.length > max) {
      const what = kind === "collision" ? "files provided twice" : "shadowed commands";
      out.push({
        warning: `${
          mine.length - max
        } more ${what}; 'fprof switch --dry-run --json' lists them all`,
      });
    }
  }
  return out;
}
