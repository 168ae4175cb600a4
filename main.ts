/**
 * fprof: manage a Nix user profile declaratively from a flake.
 *
 * This file only declares the command line and maps errors to exit codes
 * (0 success, 1 failure, 2 usage error). Each command lives in
 * `lib/commands/` and is loaded when it runs, so `fprof list` does not pay
 * for `switch`.
 *
 * @module
 */

import { osErrorReport } from "./lib/os_error.ts";
import {
  Argument,
  Command,
  CommanderError,
  InvalidArgumentError,
  Option,
  type OptionValues,
} from "@commander-js/extra-typings";
import { SHELLS } from "./lib/term/completions.ts";
import { idleOptionError } from "./lib/term/idle_options.ts";
import { MANIFEST_CHOICES } from "./lib/config.ts";
import { DIFF_MODES } from "./lib/profile/diff.ts";
import { type CommonOptions, makeContext, tmpRoot } from "./lib/context.ts";
import { sweepStaleTemps } from "./lib/profile/leftovers.ts";
import { didYouMean } from "./lib/term/did_you_mean.ts";
import { FprofError, NixError, UsageError } from "./lib/errors.ts";
import { Logger } from "./lib/log/log.ts";
import { HOST_GROUP, HOST_SPEC } from "./lib/remote/host_names.ts";

function generationNumber(value: string): number {
  if (!/^[0-9]+$/.test(value)) {
    throw new InvalidArgumentError("expected a generation number.");
  }
  return Number(value);
}

function positiveNumber(value: string): number {
  if (!/^[0-9]+$/.test(value) || Number(value) < 1) {
    throw new InvalidArgumentError("expected a number of at least 1.");
  }
  return Number(value);
}

function diffOption() {
  return new Option("--diff <when>", "print the package diff before acting (default: auto)")
    .choices(DIFF_MODES);
}

/** Collects `--override-input NAME=REF`, which may be given more than once. */
function overrideInput(value: string, previous: string[] = []): string[] {
  if (!/^[^=\s]+=\S+$/.test(value)) {
    throw new InvalidArgumentError("expected NAME=REF, as in nixpkgs=path:/src/nixpkgs.");
  }
  return [...previous, value];
}

/** Checks one `--target-host`/`--build-host` value: `[USER@]HOST`. */
function hostArg(value: string): string {
  if (!HOST_SPEC.test(value)) throw new InvalidArgumentError("expected [USER@]HOST.");
  return value;
}

/** Collects a repeated `--target-host` of `switch`, where `@GROUP` names several. */
function hostArgs(value: string, previous: string[] = []): string[] {
  if (!(HOST_SPEC.test(value) || HOST_GROUP.test(value))) {
    throw new InvalidArgumentError("expected [USER@]HOST or @GROUP.");
  }
  return [...previous, value];
}

/** `--target-host`: one host whose profile the command reads or changes. */
function targetHostOption() {
  return new Option("--target-host <host>", "a profile on another machine, over ssh ([USER@]HOST)")
    .argParser(hostArg);
}

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  ${l}`).join("\n")}\n`;
}

let verbose = false;
/** The subcommand being run, for the `Try 'fprof CMD --help'.` line of a usage error. */
let commandName: string | undefined;

/** Adds the options every command takes. */
function common<
  // deno-lint-ignore no-explicit-any
  Args extends any[],
  Opts extends OptionValues,
  G extends OptionValues,
>(
  cmd: Command<Args, Opts, G>,
) {
  return cmd
    .option(
      "--profile <path>",
      "the profile to work on (default: the one Nix uses)",
    )
    .option("-v, --verbose", "echo every nix command and show stack traces");
}

/**
 * Runs a command with its context, after the global flags are known.
 * `--profile` and `-v` may come before the command too.
 */
async function run<T extends CommonOptions>(
  opts: T,
  fn: (opts: T, ctx: Awaited<ReturnType<typeof makeContext>>) => Promise<void>,
) {
  verbose ||= opts.verbose ?? false;
  const all = { ...opts, profile: opts.profile ?? program.opts().profile, verbose };
  const ctx = await makeContext(all);
  // What a killed fprof left goes first, whatever the command.
  await sweepStaleTemps(tmpRoot(ctx), ctx.env);
  await fn(all, ctx);
}

const program = new Command()
  .name("fprof")
  .description("Manage your Nix user profile declaratively from a flake.")
  .usage("[--profile <path>] [-v] <command> [options]")
  .option("--profile <path>", "the profile to work on (default: the one Nix uses)")
  .option("-v, --verbose", "echo every nix command and show stack traces")
  .option("-V, --version", "print fprof's version and the Nix it finds")
  // Options before the command are the program's, after it the command's:
  // both take --profile and -v, which run() merges.
  .enablePositionalOptions()
  .showHelpAfterError("Try 'fprof --help'.")
  // `fprof help [COMMAND]`, as git and nix answer it.
  .helpCommand("help [command]", "show help for fprof or for a command")
  .configureOutput({
    // One line per error: commander puts its did-you-mean on a line of its own.
    outputError: (text, write) =>
      write(text.replace(/\n\(Did you mean (.+)\?\)/, "; did you mean $1?")),
    // Help is plain text. Commander would otherwise ask the environment
    // (CLICOLOR_FORCE among others), which the declared permissions do not
    // allow, and --help would fail wherever fprof runs as it is installed.
    getOutHasColors: () => false,
    getErrHasColors: () => false,
  })
  .exitOverride()
  .addHelpText(
    "after",
    examples(
      "fprof switch ~/profile          # build ~/profile#profile and make it the next generation",
      "fprof list                      # what the current generation holds",
      "fprof rollback                  # back to the generation you came from",
      "fprof generations               # every generation, its parent and source",
    ),
  )
  .action(async (opts) => {
    if (opts.version) {
      const { versionText } = await import("./lib/commands/version.ts");
      await versionText(new Logger({ verbose: opts.verbose }));
      return;
    }
    // Commander reaches here with a word that names no command.
    const command = program.args[0];
    if (command !== undefined) {
      const near = didYouMean(command, visibleCommands());
      program.error(
        `error: unknown command '${command}'${near ? `; did you mean '${near}'?` : ""}`,
        { exitCode: 2, code: "commander.unknownCommand" },
      );
    }
    program.error(shortUsage(), { exitCode: 2, code: "fprof.noCommand" });
  });

program.hook("preSubcommand", (cmd, sub) => {
  verbose ||= Boolean(cmd.opts().verbose);
  commandName = sub.name();
});

// An option the command would not act on, next to the others typed, is a
// usage error before the command starts (lib/term/idle_options.ts).
program.hook("preAction", (_, action) => {
  const refused = idleOptionError(action.name(), typedOptions(action));
  if (refused) throw refused;
});

/**
 * The options typed for `cmd` (its own and the program's, such as
 * `--profile` before the command), by long flag, and its positional
 * arguments given, as `[name]`.
 */
// deno-lint-ignore no-explicit-any
function typedOptions(cmd: Command<any, any, any>): Set<string> {
  const given = new Set<string>();
  for (const c of [program, cmd]) {
    for (const o of c.options) {
      if (o.long && c.getOptionValueSource(o.attributeName()) === "cli") given.add(o.long);
    }
  }
  cmd.registeredArguments.forEach((a, i) => {
    if (cmd.processedArgs[i] !== undefined) given.add(`[${a.name()}]`);
  });
  return given;
}

function visibleCommands(): string[] {
  return program.commands.filter((c) => !c.name().startsWith("_")).map((c) => c.name());
}

/** What `fprof` alone prints: how to call it, and the commands. */
function shortUsage(): string {
  return [
    `Usage: fprof ${program.usage()}`,
    "",
    `Commands: ${visibleCommands().join(", ")}`,
    "Start with 'fprof init'.",
  ].join("\n");
}

/**
 * The commands, in the order help lists them. Each is declared only when it
 * may be needed (see {@link commandsToDeclare}): `fprof list` declares `list`
 * alone, and commander does not build the options of the other nine.
 */
const COMMANDS = {
  switch: () =>
    common(
      program.command("switch")
        .description(
          "Build a profile from a flake and make it the profile's next generation.",
        )
        .argument(
          "[installable]",
          "flake reference with optional #attr, or a store path (default: the config's flake, " +
            "./flake.nix, then the flake 'fprof init' wrote)",
        )
        .addOption(
          new Option("--manifest [kind]", "manifest to write into the generation")
            .choices(MANIFEST_CHOICES),
        )
        .option(
          "-n, --dry-run",
          "build and show what would change, but change nothing",
        )
        .option(
          "--json",
          "with --dry-run, print the plan as JSON; with --target-host, each host's result " +
            "(schemas in docs/commands.md)",
        )
        .option("--force", "switch even if the new generation drops bin/nix")
        .addOption(diffOption())
        .option("-y, --yes", "drop packages that nix-env or nix profile added, without asking")
        .option("--pin", "then run 'fprof pin' on the flake (see 'fprof pin --help')")
        .option(
          "--override-input <name=ref>",
          "use REF for the flake's input NAME, as 'nix build --override-input' (repeatable)",
          overrideInput,
        )
        .option(
          "--target-host <host>",
          "switch the profile of [USER@]HOST (or each host of @GROUP) over ssh instead (repeatable)",
          hostArgs,
        )
        .option("--sign-key <file>", "sign what is copied to the targets with this secret key")
        .option("--jobs <n>", "switch at most N target hosts at once (default: 4)", positiveNumber)
        .option(
          "--timeout <seconds>",
          "a target host not done after SECONDS fails alone, with its processes stopped",
          positiveNumber,
        )
        .addOption(
          new Option("--build-host <host>", "build on [USER@]HOST over ssh; evaluation stays here")
            .argParser(hostArg),
        )
        .addHelpText(
          "after",
          examples(
            "fprof switch                          # ./flake.nix: packages.<system>.profile",
            "fprof switch ~/profile#laptop         # a named attribute",
            "fprof switch --manifest=json .        # keep the profile usable by 'nix profile'",
            "fprof switch --dry-run                # what would change",
            "fprof switch --dry-run --json | jq .packages",
            "fprof switch ./result                 # an environment that is already built",
            "fprof switch --override-input nixpkgs=path:$HOME/src/nixpkgs",
            "fprof switch --target-host lab-a --target-host deploy@lab-b   # profiles.<their names>",
            "fprof switch --build-host builder --target-host lab-a         # built there, copied from there",
          ),
        ),
    ).action((installable, opts) =>
      run(opts, async (o, ctx) => {
        const { switchProfile } = await import("./lib/commands/switch.ts");
        await switchProfile(installable, o, ctx);
      })
    ),
  list: () =>
    common(
      program.command("list")
        .description(
          "List the packages of the profile's current (or given) generation.",
        )
        .option("--json", "print JSON (schema in docs/commands.md)")
        .option("-l, --long", "also print store paths")
        .option("--group", "show packages under the mkProfile group they came from")
        .option("--drift", "show what the profile holds that its flake does not declare")
        .option(
          "--generation <n>",
          "a generation other than the current one",
          generationNumber,
        )
        .addOption(targetHostOption())
        .addHelpText(
          "after",
          examples(
            "fprof list",
            "fprof list -l --generation 3",
            "fprof list --group",
            "fprof list --json | jq '.packages[].name'",
            "fprof list --target-host deploy@lab-a   # a profile on another machine",
          ),
        ),
    ).action((opts) =>
      run(opts, async (o, ctx) => {
        const { list } = await import("./lib/commands/list.ts");
        await list(o, ctx);
      })
    ),
  init: () =>
    common(
      program.command("init")
        .description("Write a profile flake to start from, and say how to switch to it.")
        .argument(
          "[dir]",
          "where to write it (default: $XDG_CONFIG_HOME/fprof/profile)",
        )
        .option("-t, --template <name>", "the template: default or no-flake", "default")
        .option("--from-current", "declare the packages of the current profile")
        .option(
          "--nixpkgs <url>",
          "the flake's nixpkgs input, such as path:/src/nixpkgs to work offline " +
            "(default: github:NixOS/nixpkgs/nixos-unstable, or with --from-current the flake " +
            "the packages came from)",
        )
        .option("--force", "overwrite files that exist")
        .option("--json", "print what was written as JSON (schema in docs/commands.md)")
        .addHelpText(
          "after",
          examples(
            "fprof init                            # ~/.config/fprof/profile/flake.nix",
            "fprof init --from-current ~/profile   # keep what nix-env -i installed",
            "fprof init --template no-flake .      # default.nix, for Nix without flakes",
            "fprof init --nixpkgs path:/src/nixpkgs   # a local nixpkgs: nothing to download",
          ),
        ),
    ).action((dir, opts) =>
      run(opts, async (o, ctx) => {
        const { init } = await import("./lib/commands/init.ts");
        await init(dir, o, ctx);
      })
    ),
  rollback: () =>
    common(
      program.command("rollback")
        .description(
          "Go back to the generation this one was made from (its parent).",
        )
        .option("--to <n>", "go to generation N instead", generationNumber)
        .option("-n, --dry-run", "show where rollback would go, but change nothing")
        .option("--force", "roll back even if the target drops bin/nix")
        .addOption(diffOption())
        .option("--json", "print what was done, or would be, as JSON (schema in docs/commands.md)")
        .addOption(targetHostOption())
        .addHelpText(
          "after",
          examples(
            "fprof rollback",
            "fprof rollback --to 4",
            "fprof rollback --dry-run",
          ),
        ),
    ).action((opts) =>
      run(opts, async (o, ctx) => {
        const { rollback } = await import("./lib/commands/rollback.ts");
        await rollback(o, ctx);
      })
    ),
  generations: () =>
    common(
      program.command("generations")
        .description(
          "List the profile's generations with their parents and sources, or delete some.",
        )
        .option("--json", "print JSON (schema in docs/commands.md)")
        .option("--tree", "draw the parent tree, with the branches rollbacks made")
        .option(
          "--delete <n...>",
          "delete these generations (never the current one)",
          (v, prev) => [
            ...(prev ?? []),
            generationNumber(v),
          ],
          undefined as number[] | undefined,
        )
        .option("--older-than <age>", "delete generations older than AGE, such as 30d")
        .option("--keep <n>", "delete all but the newest N generations", positiveNumber)
        .option("-n, --dry-run", "with a deletion, show what would go, but change nothing")
        .addOption(targetHostOption())
        .addHelpText(
          "after",
          examples(
            "fprof generations --tree",
            "fprof generations --json",
            "fprof generations --delete 3 4",
            "fprof generations --older-than 30d && nix-collect-garbage",
            "fprof generations --keep 5",
          ),
        ),
    ).action((opts) =>
      run(opts, async (o, ctx) => {
        const { generations } = await import("./lib/commands/generations.ts");
        await generations(o, ctx);
      })
    ),
  pin: () =>
    common(
      program.command("pin")
        .description(
          "Make nixpkgs#… and <nixpkgs> resolve to the nixpkgs your profile flake is locked to.",
        )
        .argument("[flake]", "a local flake directory (default: as for switch)")
        .option(
          "--input <name>",
          "pin this input of the root instead of nixpkgs (repeatable)",
          (v: string, prev: string[]) => [...prev, v],
          [] as string[],
        )
        .option("-n, --dry-run", "show what would change, but change nothing")
        .option("--system", "write the system registry and nix.conf (root only)")
        .option(
          "--status",
          "show each pin against the lock file, and whether it is stale (then exit 1)",
        )
        .option("--json", "with --status, print JSON (schema in docs/commands.md)")
        .option("--unpin", "put back the files and channels as they were before pinning")
        .option(
          "--from-generation [n]",
          "restore the pins recorded with generation N (default: the current one)",
          generationNumber,
        )
        .option("--no-global-registry", "also point flake-registry at an empty local file")
        .addHelpText(
          "after",
          examples(
            "fprof pin ~/profile                   # pin the nixpkgs of ~/profile/flake.lock",
            "fprof pin --input nixpkgs --input home-manager",
            "fprof pin --status                    # are the pins still what the lock says?",
            "fprof pin --unpin                     # put everything back",
            "fprof pin --from-generation           # the pins of the current generation",
          ),
        ),
    ).action((flake, opts) =>
      run(opts, async (o, ctx) => {
        const { pin } = await import("./lib/commands/pin/mod.ts");
        await pin(flake, o, ctx);
      })
    ),
  completions: () =>
    program.command("completions")
      .description("Print a shell completion script for bash, zsh or fish.")
      .addArgument(new Argument("<shell>", "the shell").choices(SHELLS))
      .addHelpText(
        "after",
        examples(
          "source <(fprof completions bash)                     # in ~/.bashrc",
          "source <(fprof completions zsh)                      # in ~/.zshrc, after compinit",
          "fprof completions fish > ~/.config/fish/completions/fprof.fish",
        ),
      )
      .action(async (shell) => {
        const { completions } = await import("./lib/commands/completions.ts");
        await completions(shell, program);
      }),
  // Called by the completion scripts for values that depend on the machine.
  __complete: () =>
    program.command("__complete", { hidden: true })
      .addArgument(
        new Argument("<kind>").choices(["generations", "deletable", "inputs", "commands"] as const),
      )
      .option("--profile <path>")
      .action(async (kind, opts) => {
        const { complete } = await import("./lib/commands/completions.ts");
        await complete(kind, opts, await makeContext({}));
      }),
  diff: () =>
    common(
      program.command("diff")
        .description("Show what changed between two generations, package by package.")
        .argument(
          "[from]",
          "a generation number (default: the current one's parent)",
          generationNumber,
        )
        .argument("[to]", "a generation number (default: the current one)", generationNumber)
        .option("--json", "print JSON (schema in docs/commands.md)")
        .option("--closure", "also show the change in closure size")
        .addOption(targetHostOption())
        .addHelpText(
          "after",
          examples(
            "fprof diff                  # the current generation against its parent",
            "fprof diff 3                # generation 3 against the current one",
            "fprof diff 3 5 --closure",
          ),
        ),
    ).action((from, to, opts) =>
      run(opts, async (o, ctx) => {
        const { diff } = await import("./lib/commands/diff.ts");
        await diff(from, to, o, ctx);
      })
    ),
  upgrade: () =>
    common(
      program.command("upgrade")
        .description("Update the flake's inputs, show what changes, and switch to the result.")
        .argument("[flake]", "a local flake with optional #attr (default: as for switch)")
        .option(
          "--input <name>",
          "update only this input (repeatable)",
          (v: string, prev: string[]) => [...prev, v],
          [] as string[],
        )
        .option("-n, --dry-run", "show what would change, and leave flake.lock as it was")
        .option(
          "--json",
          "with --dry-run, print the plan as JSON, as 'switch --dry-run --json' does",
        )
        .addOption(diffOption())
        .option("-y, --yes", "drop packages that nix-env or nix profile added, without asking")
        .option("--force", "switch even if the new generation drops bin/nix")
        .option("--pin", "then run 'fprof pin' on the flake, as 'switch --pin' does")
        .addHelpText(
          "after",
          examples(
            "fprof upgrade                      # every input of ./flake.nix",
            "fprof upgrade ~/profile --input nixpkgs",
            "fprof upgrade --dry-run --diff always",
          ),
        ),
    ).action((flake, opts) =>
      run(opts, async (o, ctx) => {
        const { upgrade } = await import("./lib/commands/upgrade.ts");
        await upgrade(flake, o, ctx);
      })
    ),
  add: () =>
    editCommand(
      "add",
      "Add packages to the list the flake declares, then switch to it.",
      "attribute names of the flake's nixpkgs, such as ripgrep or python3Packages.black",
    )
      .option("--upgrade", "also update the flake's nixpkgs input, as 'upgrade --input nixpkgs'")
      .addHelpText(
        "after",
        examples(
          "fprof add ripgrep fd              # into the list every machine gets, then switch",
          "fprof add --group cli ripgrep     # into this machine's group 'cli'",
          "fprof add --dry-run jq            # the edit as a diff, and what would change",
          "fprof add --no-switch jq          # edit flake.nix only",
        ),
      )
      .action((names, opts) =>
        run(opts, async (o, ctx) => {
          const { editPackages } = await import("./lib/commands/add.ts");
          await editPackages("add", names, o, ctx);
        })
      ),
  remove: () =>
    editCommand(
      "remove",
      "Remove packages from the list the flake declares, then switch to it.",
      "names as the list declares them",
    )
      .addHelpText(
        "after",
        examples(
          "fprof remove jq                   # from the list every machine gets, then switch",
          "fprof remove --host desktop --group gui xterm",
        ),
      )
      .action((names, opts) =>
        run(opts, async (o, ctx) => {
          const { editPackages } = await import("./lib/commands/add.ts");
          await editPackages("remove", names, o, ctx);
        })
      ),
  which: () =>
    common(
      program.command("which")
        .description(
          "Say which package of the profile provides a command, and what PATH runs for it.",
        )
        .argument("<command>", "a command name, as the shell looks it up")
        .option("--json", "print JSON (schema in docs/commands.md)")
        .addHelpText(
          "after",
          examples(
            "fprof which hello                # its package, others that have it, what runs",
            "fprof which --json jq | jq .runsProfile",
          ),
        ),
    ).action((command, opts) =>
      run(opts, async (o, ctx) => {
        const { which } = await import("./lib/commands/which.ts");
        await which(command, o, ctx);
      })
    ),
};

/** The options `add` and `remove` share. */
function editCommand(name: string, description: string, names: string) {
  return common(
    program.command(name)
      .description(description)
      .argument("<names...>", names)
      .option(
        "--flake <flake>",
        "the local flake to edit, with optional #attr (default: as for switch)",
      )
      .option(
        "--group <name>",
        "a group of this machine's profile, not the list every machine gets",
      )
      .option("--host <name>", "the entry of another machine under profiles")
      .option("-n, --dry-run", "print the edit as a diff and what would change; write nothing")
      .option("--no-switch", "edit the flake only")
      .addOption(diffOption())
      .option("-y, --yes", "drop packages that nix-env or nix profile added, without asking")
      .option("--force", "switch even if the new generation drops bin/nix")
      .option(
        "--override-input <name=ref>",
        "use REF for the flake's input NAME, as 'nix build --override-input' (repeatable)",
        overrideInput,
      ),
  );
}

/**
 * Rewrites three forms commander cannot read as written, before it parses. Pure.
 * - A `--` before everything (`deno task fprof -- --help` passes one on) is
 *   dropped.
 * - A bare `--manifest` means `auto`; commander would take the next word as
 *   its value (`--manifest .`), so a bare flag followed by anything but a
 *   kind becomes `--manifest=auto`.
 * - `--override-input NAME REF`, Nix's own two-word form, becomes
 *   `--override-input=NAME=REF` when NAME can be an input's name (`nixpkgs`,
 *   `fprof/nixpkgs`); anything else is left for the option to refuse, rather
 *   than taking the next word, which may be the flake, as REF.
 */
export function normalizeArgv(argv: readonly string[]): string[] {
  // An input's name, or a path of them into inputs' inputs.
  const INPUT_PATH = /^[A-Za-z_][\w'-]*(\/[A-Za-z_][\w'-]*)*$/;
  const out: string[] = [];
  // `deno task fprof -- --help` passes its `--` on: before the command it
  // means nothing to fprof, whose program takes no arguments of its own.
  for (let i = argv[0] === "--" ? 1 : 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      out.push(...argv.slice(i));
      break;
    }
    if (
      a === "--manifest" && !(MANIFEST_CHOICES as readonly string[]).includes(argv[i + 1] ?? "")
    ) {
      out.push("--manifest=auto");
    } else if (
      a === "--override-input" && INPUT_PATH.test(argv[i + 1] ?? "") &&
      argv[i + 2] !== undefined && !argv[i + 2].startsWith("-")
    ) {
      // Nix's own two-word form, `--override-input NAME REF`.
      out.push(`--override-input=${argv[i + 1]}=${argv[i + 2]}`);
      i += 2;
    } else {
      out.push(a);
    }
  }
  return out;
}

/**
 * Which of `commands` a run of argv needs declared. Pure.
 *
 * When the first word after the program's own options (`--profile PATH`,
 * `-v`) names a command, commander reads argv the same way with that command
 * alone: the program's options come first, and the rest is the command's to
 * parse. Anything else (no command, `--help`, a misspelt command or an option
 * of the program commander will refuse) needs them all: help lists them and
 * a misspelt one is matched against them. So does `completions`, whose
 * scripts describe every command.
 */
export function commandsToDeclare(argv: readonly string[], commands: readonly string[]): string[] {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--profile") i++;
    else if (!(a.startsWith("--profile=") || a === "-v" || a === "--verbose")) {
      return commands.includes(a) && a !== "completions" ? [a] : [...commands];
    }
  }
  return [...commands];
}

let declared = false;

/** Declares the commands argv needs (once per process). */
function declare(argv: readonly string[]): void {
  if (declared) return;
  declared = true;
  for (const name of commandsToDeclare(argv, Object.keys(COMMANDS))) {
    COMMANDS[name as keyof typeof COMMANDS]();
  }
  // Each command's usage error ends by pointing to that command's help.
  for (const cmd of program.commands) cmd.showHelpAfterError(`Try 'fprof ${cmd.name()} --help'.`);
  // The program's own action names an unknown command (set after the
  // commands are declared, which inherit the program's settings, so that
  // they still refuse extra arguments).
  program.allowExcessArguments();
}

/** Parses argv and runs; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    const args = normalizeArgv(argv);
    declare(args);
    await program.parseAsync(args, { from: "user" });
    return 0;
  } catch (e) {
    return reportError(e);
  }
}

function reportError(e: unknown): number {
  const log = new Logger({ verbose });
  if (e instanceof CommanderError) {
    // Commander has already printed its message and where to find help.
    if (e.exitCode !== 0) log.hint("check that option or argument against the usage above");
    return e.exitCode === 0 ? 0 : 2;
  }
  if (e instanceof FprofError) {
    log.error(e.message);
    // The code Nix points at, under the error line, as Nix shows it.
    if (e instanceof NixError) { for (const l of e.excerpt) log.write(`  ${l}\n`); }
    if (e.hint) log.hint(e.hint);
    if (e instanceof UsageError) {
      log.write(`Try 'fprof${commandName ? ` ${commandName}` : ""} --help'.\n`);
    }
    if (verbose) log.write(`${e.stack}\n`);
    if (verbose && e.cause) {
      log.write(`caused by: ${(e.cause as Error).stack ?? e.cause}\n`);
    }
    return e.exitCode;
  }
  if (
    e instanceof Error && e.name === "ManifestError" ||
    (e instanceof Error && e.name.startsWith("Manifest"))
  ) {
    log.error(e.message);
    if (verbose) log.write(`${e.stack}\n`);
    return 1;
  }
  if (e instanceof Deno.errors.NotCapable) {
    log.error(`fprof lacks a permission: ${e.message.replace(/, run again with.*$/, "")}`);
    log.hint(
      "run fprof with the permissions it declares: 'deno run scripts/build.ts permissions' " +
        "prints them, and 'What the binaries may do' in the README lists them",
    );
    if (verbose) log.write(`${e.stack}\n`);
    return 1;
  }
  const os = osErrorReport(e);
  if (os) {
    if (os.message === null) return os.exitCode;
    log.error(os.message);
    if (os.hint) log.hint(os.hint);
    if (verbose) log.write(`${(e as Error).stack}\n`);
    return os.exitCode;
  }
  log.error(`internal error: ${(e as Error)?.message ?? e}`);
  log.write(`${(e as Error)?.stack ?? ""}\nplease report this as a bug\n`);
  return 1;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
