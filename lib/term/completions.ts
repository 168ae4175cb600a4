/**
 * Shell completion scripts for bash, zsh and fish, generated from the
 * commander program itself, so that every command and option is covered as
 * soon as it is declared in `main.ts`.
 *
 * Values that depend on the machine are completed by calling fprof back:
 * `fprof __complete generations [--profile P]` prints the profile's
 * generation numbers, `fprof __complete deletable` those but the current one
 * (which `generations --delete` refuses), `fprof __complete commands` the
 * names in its `bin/`, and `fprof __complete inputs` the inputs of the
 * flake's lock file; none starts Nix. Which option or argument gets which values is
 * decided by its name ({@link valueKind}), so new commands follow the same
 * conventions without touching this file.
 *
 * @module
 */

import type { Command } from "@commander-js/extra-typings";

/** The shells fprof writes completion scripts for. */
export const SHELLS = ["bash", "zsh", "fish"] as const;
/** One of {@link SHELLS}. */
export type Shell = typeof SHELLS[number];

/** What the value of an option or an argument is completed with. */
export type ValueKind =
  | { kind: "generations" }
  | { kind: "deletable" }
  | { kind: "inputs" }
  | { kind: "commands" }
  | { kind: "files" }
  | { kind: "choices"; choices: string[] }
  | { kind: "none" };

/** An option as completion sees it. */
export interface OptionSpec {
  /** `-v`, `--verbose`; the long one last. */
  flags: string[];
  description: string;
  /** Whether it takes a value (`--to <n>`, `--manifest [kind]`). */
  takesValue: boolean;
  /** What the value is completed with. */
  value: ValueKind;
  /** Whether the value may be left out (`--manifest [kind]`). */
  optionalValue: boolean;
}

/** A command as completion sees it. */
export interface CommandSpec {
  name: string;
  description: string;
  options: OptionSpec[];
  /** One per positional argument, in order; the last repeats when variadic. */
  args: ValueKind[];
  variadic: boolean;
}

/** The whole program. */
export interface ProgramSpec {
  name: string;
  options: OptionSpec[];
  commands: CommandSpec[];
}

/**
 * How a value named `name` (an option's long name without dashes, or an
 * argument's name) is completed. Pure.
 *
 * - generation numbers: `--to`, `--generation`, `--from-generation`, and
 *   arguments `from`, `to`, `generation`;
 * - generation numbers but the current one: `--delete`;
 * - flake inputs: `--input`;
 * - the commands of the profile's `bin/`: the argument `command`;
 * - files: `--profile`, and arguments `installable`, `flake`, `dir`, `path`,
 *   `file`;
 * - the declared choices, when there are any;
 * - nothing otherwise.
 */
export function valueKind(name: string, choices?: readonly string[]): ValueKind {
  if (choices && choices.length > 0) return { kind: "choices", choices: [...choices] };
  if (/^(to|from|generation|generations|from-generation)$/.test(name)) {
    return { kind: "generations" };
  }
  if (name === "delete") return { kind: "deletable" };
  if (name === "input") return { kind: "inputs" };
  if (name === "command") return { kind: "commands" };
  if (/^(profile|installable|flake|dir|path|file)$/.test(name)) return { kind: "files" };
  return { kind: "none" };
}

// Commander keeps these on the object; its Help class exposes the visible
// ones, which is what completion should offer.
interface OptionLike {
  short?: string;
  long?: string;
  description: string;
  required: boolean;
  optional: boolean;
  argChoices?: string[];
  hidden?: boolean;
}
interface ArgumentLike {
  name(): string;
  variadic: boolean;
  argChoices?: string[];
}

function optionSpec(o: OptionLike): OptionSpec {
  const takesValue = o.required || o.optional;
  const long = (o.long ?? o.short ?? "").replace(/^-+/, "");
  const value: ValueKind = takesValue ? valueKind(long, o.argChoices) : { kind: "none" };
  return {
    flags: [o.short, o.long].filter((f): f is string => Boolean(f)),
    description: o.description,
    takesValue,
    value,
    // Commander takes the next word as an optional value unless it starts
    // with '-', so `--from-generation [n]` completes a number there.
    optionalValue: o.optional && value.kind !== "generations" && value.kind !== "deletable",
  };
}

/**
 * Reads the program's visible commands, options and arguments. Hidden
 * commands (such as `__complete`) and hidden options are left out.
 */
// deno-lint-ignore no-explicit-any
export function programSpec(program: Command<any, any, any>): ProgramSpec {
  const help = program.createHelp();
  const commands = help.visibleCommands(program)
    .filter((c) => c.name() !== "help")
    .map((c): CommandSpec => {
      const args = c.registeredArguments as readonly ArgumentLike[];
      return {
        name: c.name(),
        description: c.description(),
        options: c.createHelp().visibleOptions(c).map((o) => optionSpec(o as OptionLike)),
        args: args.map((a) => valueKind(a.name(), a.argChoices)),
        variadic: args.at(-1)?.variadic ?? false,
      };
    });
  return {
    name: program.name(),
    options: help.visibleOptions(program).map((o) => optionSpec(o as OptionLike)),
    commands,
  };
}

/** The completion script for `shell`. Pure. */
export function completionScript(spec: ProgramSpec, shell: Shell): string {
  switch (shell) {
    case "bash":
      return bashScript(spec);
    case "zsh":
      return zshScript(spec);
    case "fish":
      return fishScript(spec);
  }
}

/** Whether the option takes a value. */
function isValued(o: OptionSpec): boolean {
  return o.takesValue;
}

/** The flags whose value may be the next word (not only `--opt=value`). */
function separateValueFlags(opts: readonly OptionSpec[]): string[] {
  return opts.filter((o) => isValued(o) && !o.optionalValue).flatMap((o) => o.flags);
}

/** A bash word list, single-quoted. */
function bashWords(words: readonly string[]): string {
  return `'${words.join(" ").replaceAll("'", `'\\''`)}'`;
}

function bashValue(v: ValueKind): string {
  switch (v.kind) {
    case "generations":
      return `_fprof_values generations`;
    case "deletable":
      return `_fprof_values deletable`;
    case "inputs":
      return `_fprof_values inputs`;
    case "commands":
      return `_fprof_values commands`;
    case "files":
      return `compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"))`;
    case "choices":
      return `COMPREPLY=($(compgen -W ${bashWords(v.choices)} -- "$cur"))`;
    case "none":
      return `COMPREPLY=()`;
  }
}

function bashScript(spec: ProgramSpec): string {
  const p = spec.name;
  type Scope = { name: string; options: OptionSpec[]; args: ValueKind[]; variadic: boolean };
  const scopes: Scope[] = [
    {
      name: "",
      options: spec.options,
      args: [{ kind: "choices", choices: spec.commands.map((c) => c.name) }],
      variadic: false,
    },
    ...spec.commands,
  ];
  const valueCases = scopes.flatMap((sc) =>
    sc.options.filter(isValued).map((o) =>
      `    ${o.flags.map((f) => `'${sc.name}:${f}'`).join("|")}) ${bashValue(o.value)} ;;`
    )
  );
  const scopeCases = scopes.map((sc) =>
    [
      `    '${sc.name}')`,
      `      opts=${bashWords(sc.options.flatMap((o) => o.flags))}`,
      `      valued=${bashWords(separateValueFlags(sc.options))} ;;`,
    ].join("\n")
  );
  const positionalCases = scopes.filter((sc) => sc.args.length > 0).map((sc) =>
    [
      `    '${sc.name}')`,
      `      case "$npos" in`,
      ...sc.args.map((a, i) =>
        `        ${sc.variadic && i === sc.args.length - 1 ? "*" : i}) ${bashValue(a)} ;;`
      ),
      `      esac ;;`,
    ].join("\n")
  );
  return `# bash completion for ${p}; generated by '${p} completions bash'.
# Load it with: source <(${p} completions bash)
# or save it as ~/.local/share/bash-completion/completions/${p}

# Values that depend on this machine: fprof prints them without running Nix.
_fprof_values() {
  local -a args=()
  local i
  for ((i = 1; i < \${#COMP_WORDS[@]} - 1; i++)); do
    if [[ \${COMP_WORDS[i]} == --profile ]]; then args=(--profile "\${COMP_WORDS[i + 1]}"); fi
  done
  local IFS=$'\\n'
  COMPREPLY=($(compgen -W "$("\${COMP_WORDS[0]}" __complete "$1" "\${args[@]}" 2>/dev/null)" -- "$cur"))
}

# Sets opts (every option) and valued (options whose value can be the next
# word) for a command; '' is the program itself.
_fprof_scope() {
  opts="" valued=""
  case "$1" in
${scopeCases.join("\n")}
  esac
}

_fprof() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD - 1]}
  local cmd="" npos=0 i w opts valued skip=0 eq=0
  # "--opt=value" arrives as "--opt" "=" "value", since '=' breaks words.
  if [[ $cur == "=" ]]; then
    cur="" eq=1
  elif [[ $prev == "=" ]]; then
    prev=\${COMP_WORDS[COMP_CWORD - 2]} eq=1
  fi
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    if ((skip)); then skip=0; continue; fi
    case "$w" in
      =) skip=1 ;;
      -*)
        _fprof_scope "$cmd"
        if [[ " $valued " == *" $w "* && \${COMP_WORDS[i + 1]} != "=" ]]; then skip=1; fi ;;
      *) if [[ -z $cmd ]]; then cmd=$w; else npos=$((npos + 1)); fi ;;
    esac
  done
  _fprof_scope "$cmd"
  if [[ $prev == -* ]] && { ((eq)) || [[ " $valued " == *" $prev "* ]]; }; then
    case "$cmd:$prev" in
${valueCases.join("\n")}
      *) COMPREPLY=() ;;
    esac
    return
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    return
  fi
  [[ -n $cmd ]] || npos=0
  COMPREPLY=()
  case "$cmd" in
${positionalCases.join("\n")}
  esac
}

complete -F _fprof ${p}
`;
}

/** Escapes text for a zsh `_arguments` description inside single quotes. */
function zshText(s: string): string {
  return s.replaceAll("'", `'\\''`).replaceAll("[", "\\[").replaceAll("]", "\\]")
    .replaceAll(":", "\\:");
}

function zshAction(v: ValueKind): string {
  switch (v.kind) {
    case "generations":
      return "_fprof_generations";
    case "deletable":
      return "_fprof_deletable";
    case "inputs":
      return "_fprof_inputs";
    case "commands":
      return "_fprof_commands";
    case "files":
      return "_files";
    case "choices":
      return `(${v.choices.join(" ")})`;
    case "none":
      return " ";
  }
}

function zshOption(o: OptionSpec): string {
  const desc = zshText(o.description);
  const value = isValued(o) ? `:${o.flags.at(-1)!.replace(/^-+/, "")}:${zshAction(o.value)}` : "";
  const long = o.flags.find((f) => f.startsWith("--"));
  // A long option with a value accepts both --opt=value and --opt value.
  const suffix = (f: string) => isValued(o) && f === long ? (o.optionalValue ? "=-" : "=") : "";
  if (o.flags.length === 1) return `'${o.flags[0]}${suffix(o.flags[0])}[${desc}]${value}'`;
  return `'(${o.flags.join(" ")})'{${
    o.flags.map((f) => f + suffix(f)).join(",")
  }}'[${desc}]${value}'`;
}

function zshScript(spec: ProgramSpec): string {
  const p = spec.name;
  const commands = spec.commands.map((c) => `    '${c.name}:${zshText(c.description)}'`);
  const cases = spec.commands.map((c) => {
    const args = c.args.map((a, i) =>
      `'${c.variadic && i === c.args.length - 1 ? "*" : `${i + 1}`}::${c.name}:${zshAction(a)}'`
    );
    return `      ${c.name}) _arguments -s ${
      [...c.options.map(zshOption), ...args].join(" \\\n          ")
    } ;;`;
  });
  return `#compdef ${p}
# zsh completion for ${p}; generated by '${p} completions zsh'.
# Load it with: source <(${p} completions zsh)   (after compinit)
# or save it as _${p} in a directory on $fpath.

# Values that depend on this machine: fprof prints them without running Nix.
_fprof_values() {
  local -a values args
  local i
  for ((i = 2; i < $#words; i++)); do
    [[ $words[i] == --profile ]] && args=(--profile "$words[i+1]")
  done
  values=(\${(f)"$(_call_program values $words[1] __complete $1 $args 2>/dev/null)"})
  compadd -a values
}
_fprof_generations() { _fprof_values generations; }
_fprof_deletable() { _fprof_values deletable; }
_fprof_inputs() { _fprof_values inputs; }
_fprof_commands() { _fprof_values commands; }

_fprof() {
  local curcontext=$curcontext state line
  local -a commands
  commands=(
${commands.join("\n")}
  )
  _arguments -C -s ${spec.options.map(zshOption).join(" ")} \\
    '1: :->command' '*:: :->args'
  case $state in
    command) _describe -t commands 'command' commands ;;
    args)
      curcontext=\${curcontext%:*:*}:${p}-$words[1]:
      case $words[1] in
${cases.join("\n")}
      esac ;;
  esac
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _fprof "$@"
else
  compdef _fprof ${p}
fi
`;
}

/** Quotes text for fish inside single quotes. */
function fishText(s: string): string {
  return `'${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
}

function fishValue(v: ValueKind): string {
  switch (v.kind) {
    case "generations":
      return `-x -a '(__fprof_values generations)'`;
    case "deletable":
      return `-x -a '(__fprof_values deletable)'`;
    case "inputs":
      return `-x -a '(__fprof_values inputs)'`;
    case "commands":
      return `-x -a '(__fprof_values commands)'`;
    case "files":
      return `-r -F`;
    case "choices":
      return `-x -a ${fishText(v.choices.join(" "))}`;
    case "none":
      return `-x`;
  }
}

function fishOption(cond: string, o: OptionSpec): string {
  const parts = [`complete -c fprof -n ${fishText(cond)}`];
  for (const f of o.flags) {
    parts.push(f.startsWith("--") ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`);
  }
  if (isValued(o)) {
    // An optional value is only taken as --opt=value, so it must not
    // swallow the next word.
    parts.push(o.optionalValue ? fishValue(o.value).replace(/^-[xr] /, "") : fishValue(o.value));
  }
  parts.push(`-d ${fishText(o.description)}`);
  return parts.join(" ");
}

function fishScript(spec: ProgramSpec): string {
  const p = spec.name;
  const names = spec.commands.map((c) => c.name).join(" ");
  const lines: string[] = [
    `# fish completion for ${p}; generated by '${p} completions fish'.`,
    `# Load it with: ${p} completions fish | source`,
    `# or save it as ~/.config/fish/completions/${p}.fish`,
    "",
    "# Values that depend on this machine: fprof prints them without running Nix.",
    "function __fprof_values",
    "    set -l words (commandline -opc)",
    "    set -l args",
    "    for i in (seq 2 (math (count $words) - 1))",
    "        if test $words[$i] = --profile",
    "            set args --profile $words[(math $i + 1)]",
    "        end",
    "    end",
    "    $words[1] __complete $argv[1] $args 2>/dev/null",
    "end",
    "",
    `complete -c ${p} -f`,
  ];
  const top = `not __fish_seen_subcommand_from ${names}`;
  for (const o of spec.options) lines.push(fishOption(top, o).replace("-c fprof", `-c ${p}`));
  for (const c of spec.commands) {
    lines.push(`complete -c ${p} -n ${fishText(top)} -a ${c.name} -d ${fishText(c.description)}`);
  }
  for (const c of spec.commands) {
    const cond = `__fish_seen_subcommand_from ${c.name}`;
    for (const o of c.options) lines.push(fishOption(cond, o).replace("-c fprof", `-c ${p}`));
    // fish has no notion of argument positions: offer what the first
    // argument takes (every argument of one command takes the same kind).
    const arg = c.args[0];
    if (arg && arg.kind !== "none") {
      const v = fishValue(arg).replace(/^-[xr] /, "");
      lines.push(`complete -c ${p} -n ${fishText(cond)} ${v}`);
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * The input names of a flake's root, read from its `flake.lock`. Pure; an
 * unreadable lock gives none.
 *
 * @example
 * ```ts
 * import { lockInputNames } from "./completions.ts";
 * lockInputNames('{"root":"root","nodes":{"root":{"inputs":{"nixpkgs":"nixpkgs"}}},"version":7}');
 * // ["nixpkgs"]
 * ```
 */
export function lockInputNames(lockText: string): string[] {
  try {
    const lock = JSON.parse(lockText);
    const root = lock?.nodes?.[lock?.root ?? "root"];
    return Object.keys(root?.inputs ?? {}).sort();
  } catch {
    return [];
  }
}
