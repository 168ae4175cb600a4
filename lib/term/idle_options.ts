/**
 * Combinations of options that a command would accept and then not act on.
 * Each is refused as a usage error before the command runs, so that an
 * option fprof takes always does something: `pin --json` without `--status`
 * would otherwise print text and exit 0, and `switch --dry-run --force`
 * would pretend that the dry run was forced.
 *
 * @module
 */

import { UsageError } from "../errors.ts";

/** One option, and when it does nothing. */
export interface IdleOption {
  command: string;
  /** The option as typed (`--json`), or a positional argument as `[name]`. */
  option: string;
  /** It acts only with one of these. */
  needs?: string[];
  /** It does nothing next to any of these. */
  idleWith?: string[];
  /** But it does act when one of these is typed too. */
  except?: string[];
  /** What the option is for, or what to do instead. */
  hint: string;
}

const DELETIONS = ["--delete", "--older-than", "--keep"];
const PIN_RECORDS = ["--status", "--unpin", "--from-generation"];
const NOTHING_TO_FORCE = "a dry run changes nothing, so nothing needs forcing; it warns " +
  "when the real run would remove bin/nix";
const NOTHING_TO_PIN = "a dry run pins nothing; 'fprof pin --dry-run FLAKE' shows what pinning " +
  "would change";

/** Every combination that is refused, by command. */
export const IDLE_OPTIONS: readonly IdleOption[] = [
  {
    command: "switch",
    option: "--sign-key",
    needs: ["--target-host"],
    hint: "it signs what is copied to target hosts; this machine's store needs no signature",
  },
  ...["--jobs", "--timeout"].map((option) => ({
    command: "switch",
    option,
    needs: ["--target-host"],
    hint: "they bound a switch of other machines; this machine's switch takes neither",
  })),
  {
    command: "switch",
    option: "--force",
    idleWith: ["--dry-run"],
    hint: NOTHING_TO_FORCE,
  },
  { command: "switch", option: "--pin", idleWith: ["--dry-run"], hint: NOTHING_TO_PIN },
  {
    command: "switch",
    option: "--diff",
    idleWith: ["--json"],
    // There --json is each host's result, after a switch that shows its diff.
    except: ["--target-host"],
    hint: "--json carries the whole diff; --diff says how much of it the text shows",
  },
  {
    command: "switch",
    option: "--yes",
    idleWith: ["--json"],
    except: ["--target-host"],
    hint: "--json prints the plan, with what another tool added, and asks nothing",
  },
  { command: "upgrade", option: "--force", idleWith: ["--dry-run"], hint: NOTHING_TO_FORCE },
  { command: "upgrade", option: "--pin", idleWith: ["--dry-run"], hint: NOTHING_TO_PIN },
  { command: "rollback", option: "--force", idleWith: ["--dry-run"], hint: NOTHING_TO_FORCE },
  {
    command: "rollback",
    option: "--diff",
    idleWith: ["--json"],
    hint: "--json carries the whole diff; --diff says how much of it the text shows",
  },
  ...["--diff", "--yes"].map((option) => ({
    command: "upgrade",
    option,
    idleWith: ["--json"],
    hint: "--json prints the plan, with the whole diff, and asks nothing",
  })),
  ...["add", "remove"].flatMap((command) => [
    ...["--diff", "--yes", "--force", ...(command === "add" ? ["--upgrade"] : [])].map((
      option,
    ) => ({
      command,
      option,
      idleWith: ["--no-switch"],
      hint: "--no-switch only edits the flake; run 'fprof switch' afterwards to build it",
    })),
    { command, option: "--force", idleWith: ["--dry-run"], hint: NOTHING_TO_FORCE },
  ]),
  {
    command: "list",
    option: "--long",
    idleWith: ["--json"],
    hint: "--json always has each package's storePaths",
  },
  {
    command: "list",
    option: "--long",
    idleWith: ["--drift"],
    hint: "--drift lists names and versions; 'fprof list -l' shows the store paths",
  },
  {
    command: "list",
    option: "--group",
    idleWith: ["--drift"],
    hint: "--drift compares package by package; list the groups with 'fprof list --group'",
  },
  {
    command: "init",
    option: "--profile",
    needs: ["--from-current"],
    hint: "--profile names the profile whose packages --from-current declares",
  },
  {
    command: "generations",
    option: "--dry-run",
    needs: DELETIONS,
    hint: "listing changes nothing; --dry-run shows what a deletion would delete",
  },
  {
    command: "generations",
    option: "--tree",
    idleWith: ["--json", ...DELETIONS],
    hint: "--tree draws the list as text; --json carries each generation's parent",
  },
  {
    command: "pin",
    option: "--json",
    needs: ["--status"],
    hint: "only --status reports; the other modes print what they change as status lines",
  },
  {
    command: "pin",
    option: "--dry-run",
    idleWith: ["--status"],
    hint: "--status changes nothing already",
  },
  {
    command: "pin",
    option: "--input",
    idleWith: PIN_RECORDS,
    hint: "those work on the pins fprof recorded, whichever inputs they are",
  },
  {
    command: "pin",
    option: "[flake]",
    idleWith: PIN_RECORDS,
    hint: "those work on the pins fprof recorded, and name their flake themselves",
  },
  {
    command: "pin",
    option: "--no-global-registry",
    idleWith: ["--status", "--unpin"],
    hint: "--unpin puts flake-registry back as it was too; --status changes nothing",
  },
  {
    command: "pin",
    option: "--profile",
    needs: ["--from-generation"],
    hint: "--profile names the profile whose recorded pins --from-generation restores",
  },
];

/**
 * The first combination in `given` (the options and arguments typed for
 * `command`) that `command` would not act on, as the usage error to report;
 * undefined when there is none. Pure.
 *
 * @example
 * ```ts
 * import { idleOptionError } from "./idle_options.ts";
 * idleOptionError("pin", new Set(["--json"]))?.message; // => "--json needs --status"
 * idleOptionError("pin", new Set(["--json", "--status"])); // => undefined
 * ```
 */
export function idleOptionError(
  command: string,
  given: ReadonlySet<string>,
): UsageError | undefined {
  for (const rule of IDLE_OPTIONS) {
    if (rule.command !== command || !given.has(rule.option)) continue;
    if (rule.except?.some((o) => given.has(o))) continue;
    const what = rule.option.startsWith("[") ? `the argument ${rule.option}` : rule.option;
    if (rule.needs && !rule.needs.some((o) => given.has(o))) {
      return new UsageError(`${what} needs ${orList(rule.needs)}`, { hint: rule.hint });
    }
    const other = rule.idleWith?.find((o) => given.has(o));
    if (other) return new UsageError(`${what} does nothing with ${other}`, { hint: rule.hint });
  }
  return undefined;
}

function orList(options: readonly string[]): string {
  return options.length === 1
    ? options[0]
    : `${options.slice(0, -1).join(", ")} or ${options.at(-1)}`;
}
