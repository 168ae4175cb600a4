/**
 * Typed errors. Anything that is an {@link FprofError} is an expected failure:
 * `main.ts` prints its message as one `error:` line and exits with
 * {@link FprofError.exitCode}; the stack trace is shown only under `--verbose`.
 *
 * @module
 */

import { redactSecrets } from "./redact.ts";

/** An expected failure, shown to the user as one `error:` line. */
export class FprofError extends Error {
  /** Process exit code: 1 for failures, 2 for usage errors. */
  readonly exitCode: number = 1;
  /** An optional second line telling the user what to do next. */
  readonly hint?: string;

  constructor(message: string, options?: ErrorOptions & { hint?: string }) {
    super(message, options);
    this.name = "FprofError";
    this.hint = options?.hint;
  }
}

/** The command line was wrong: exit code 2. */
export class UsageError extends FprofError {
  override readonly exitCode = 2;
  constructor(message: string, options?: ErrorOptions & { hint?: string }) {
    super(message, options);
    this.name = "UsageError";
  }
}

/**
 * A `nix` process failed. The message reads
 * `nix build: <Nix's last "error:" line>` and the full argv and exit code are
 * kept for `--verbose`.
 */
export class NixError extends FprofError {
  readonly argv: readonly string[];
  readonly code: number;
  /** Nix's own reason: the last `error:` line of its stderr, without `error: `. */
  readonly reason: string;
  readonly stderr: string;
  /** The code Nix quoted at the error's location, line by line, as Nix printed it. */
  readonly excerpt: string[];

  constructor(
    argv: readonly string[],
    code: number,
    stderr: string,
    options?: ErrorOptions & { hint?: string; context?: string; fallbackHint?: string },
  ) {
    // Nix may quote a configuration line that holds tokens.
    stderr = redactSecrets(stderr);
    const reason = lastNixError(stderr) ?? `exited with code ${code}`;
    const what = options?.context ?? commandName(argv);
    const location = nixErrorLocation(stderr);
    super(`${what}: ${reason}${location ? ` at ${location.at}` : ""}`, {
      ...options,
      // A hint drawn from Nix's own error says more than the caller's general
      // one; a failed download most of all, since it is no fault of the flake.
      hint: downloadHint(reason) ?? options?.hint ?? nixHint(stderr) ?? options?.fallbackHint,
    });
    this.name = "NixError";
    this.argv = argv;
    this.code = code;
    this.reason = reason;
    this.stderr = stderr;
    this.excerpt = location?.excerpt ?? [];
  }
}

/** The Nix binaries could not be started at all. */
export class NixNotFoundError extends FprofError {
  constructor(program: string, options?: ErrorOptions) {
    super(`cannot run '${program}': Nix is not installed or not on PATH`, {
      ...options,
      hint: "install Nix (https://nixos.org/download) and make sure 'nix' is on PATH",
    });
    this.name = "NixNotFoundError";
  }
}

// Nix prints "error: …" possibly followed by indented context lines, and with
// ANSI colours when it thinks it talks to a terminal.
// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*[A-Za-z]/g;

/**
 * The last `error:` line of a Nix stderr, with colours and the `error: ` prefix
 * removed. When the error line is only a header (`error:` alone, as for
 * evaluation traces), the first non-empty line after it is used. A failed
 * build's line gets the builder's last log line, which says why.
 *
 * @example
 * ```ts
 * import { lastNixError } from "./errors.ts";
 * lastNixError("warning: x\nerror: flake 'path:/nope' does not exist\n");
 * // => "flake 'path:/nope' does not exist"
 * lastNixError("error: builder for '/s/x.drv' failed with exit code 1;\n       > collision\n");
 * // => "builder for '/s/x.drv' failed with exit code 1: collision"
 * ```
 */
export function lastNixError(stderr: string): string | undefined {
  // A progress-bar redraw can share a line with the error: keep what the
  // terminal would show, the text after the last carriage return.
  const lines = stderr.replace(ANSI, "").split("\n").map((l) => l.slice(l.lastIndexOf("\r") + 1));
  // "N dependencies of derivation … failed to build" only says that a build
  // failed; the builder's own error before it says which one and why.
  const failed = lastBuilderFailure(lines);
  if (failed) {
    const { at, drv, code } = failed;
    const builder = `builder for '${drv}' failed with exit code ${code}`;
    // Nix quotes the end of the build log as indented "> " lines before the
    // next error. fprof prints one line in place of that block, so it keeps
    // the last of them, the builder's own reason ("collision between …").
    const next = lines.findIndex((l, i) => i > at && /^\s*error:/.test(l));
    const log = lines.slice(at + 1, next < 0 ? undefined : next)
      .flatMap((l) => /^\s+> ?(.*)$/.exec(l)?.[1].trim() || []);
    // With `--log-format raw-with-logs` Nix has already printed the log as
    // plain lines before the error, and quotes none of it: take the last of
    // those that is not one of Nix's own status lines.
    const reason = log.at(-1) ?? lines.slice(0, at).findLast((l) => isBuildLogLine(l))?.trim();
    return reason ? `${builder}: ${reason}` : builder;
  }
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^\s*error:\s*(.*)$/.exec(lines[i]);
    if (!m) continue;
    if (m[1].trim() !== "") return m[1].trim();
    const next = lines.slice(i + 1).find((l) => l.trim() !== "");
    return next?.trim() ?? "error";
  }
  return undefined;
}

/**
 * The last error that says a builder itself failed, in either of Nix's
 * wordings: `error: builder for '…drv' failed with exit code N` (up to 2.3x),
 * or `error: Cannot build '…drv'.` with `Reason: builder failed with exit
 * code N.` on a line of its own (newer Nix, where a failed dependency has the
 * same first line and another reason).
 */
function lastBuilderFailure(
  lines: readonly string[],
): { at: number; drv: string; code: string } | undefined {
  for (let i = lines.length - 1; i >= 0; i--) {
    const old = /^\s*error: builder for '([^']+)' failed with exit code (\d+)/.exec(lines[i]);
    if (old) return { at: i, drv: old[1], code: old[2] };
    const cannot = /^\s*error: Cannot build '([^']+)'\.?\s*$/.exec(lines[i]);
    if (!cannot) continue;
    const reason = lines.slice(i + 1, i + 4)
      .map((l) => /^\s+Reason: builder failed with exit code (\d+)/.exec(l))
      .find((m) => m !== null);
    if (reason) return { at: i, drv: cannot[1], code: reason[1] };
  }
  return undefined;
}

/**
 * Where Nix's last error happened, as it printed it below the error line:
 * `at FILE:LINE:COLUMN:` and the lines of code it quoted, with the caret.
 *
 * @example
 * ```ts
 * import { nixErrorLocation } from "./errors.ts";
 * nixErrorLocation("error: syntax error, unexpected '}'\n       at /s/flake.nix:4:3:\n            4|   };\n             |   ^\n");
 * // => { at: "/s/flake.nix:4:3", excerpt: ["4|   };", " |   ^"] }
 * ```
 */
export function nixErrorLocation(
  stderr: string,
): { at: string; excerpt: string[] } | undefined {
  const lines = stderr.replace(ANSI, "").split("\n");
  const last = lines.findLastIndex((l) => /^\s*error:/.test(l));
  if (last < 0) return undefined;
  for (let i = last + 1; i < lines.length; i++) {
    const at = /^\s+at (.+:\d+:\d+):?\s*$/.exec(lines[i]);
    if (!at) continue;
    const excerpt: string[] = [];
    for (const l of lines.slice(i + 1)) {
      if (l.trim() === "" && excerpt.length === 0) continue;
      if (!/^\s+\d*\|/.test(l)) break;
      excerpt.push(l);
    }
    // Nix indents the excerpt under its error; fprof keeps the columns, not the indent.
    const indent = Math.min(...excerpt.map((l) => l.search(/\S/)));
    return { at: at[1], excerpt: excerpt.map((l) => l.slice(indent)) };
  }
  return undefined;
}

function commandName(argv: readonly string[]): string {
  const [prog, ...rest] = argv;
  // Skip option values such as the feature list after --extra-experimental-features.
  const sub = rest.find((a, i) =>
    !a.startsWith("-") && !(rest[i - 1] ?? "").startsWith("--extra-")
  );
  const base = prog.split("/").pop() ?? prog;
  return base === "nix" && sub ? `nix ${sub}` : base;
}

/**
 * What to do when Nix could not download a flake's input, which on a machine
 * without network is the first thing a new profile runs into: its nixpkgs is
 * a `github:` URL. `reason` is Nix's own error ({@link lastNixError}), not its
 * whole stderr, where a substituter's failed download is only a warning.
 *
 * @example
 * ```ts
 * import { downloadHint } from "./errors.ts";
 * downloadHint("error: unable to download 'https://api.github.com/x': Couldn't resolve host name (6)")
 *   ?.startsWith("offline?"); // => true
 * downloadHint("error: flake 'path:/nope' does not exist"); // => undefined
 * ```
 */
export function downloadHint(reason: string): string | undefined {
  if (!reason.includes("unable to download '")) return undefined;
  return "offline? point nixpkgs at a local copy: 'fprof init --nixpkgs path:/src/nixpkgs', " +
    'inputs.nixpkgs.url = "path:/src/nixpkgs" in flake.nix, or ' +
    '--override-input nixpkgs=path:/src/nixpkgs (docs/commands.md, "Offline, with a local ' +
    'nixpkgs" says what it must provide)';
}

/** Nix's own pointer to more detail, such as `nix log <drv>` after a failed build. */
function nixHint(stderr: string): string | undefined {
  const text = stderr.replace(ANSI, "");
  // "For full logs, run 'nix log …'." up to 2.2x; the command on the next
  // line after "For full logs, run:" since.
  const m = /For full logs, run(?: '([^']+)'|:\s*\n\s*(\S.*\S))/.exec(text);
  if (m) return `for the full build log, run '${m[1] ?? m[2]}'`;
  // Nix 2.26 and later stop looking for a program (ssh, for ssh-ng://) at
  // the first directory on PATH this user may not search.
  const closed = /filesystem error: status: Permission denied \[([^\]]+)\]/.exec(text);
  if (closed) {
    return `'${closed[1].replace(/\/[^/]*$/, "")}' is on PATH but closed to this user; ` +
      "remove it from PATH";
  }
  const failed = lastBuilderFailure(text.split("\n"));
  return failed ? `for the full build log, run 'nix log ${failed.drv}'` : undefined;
}

/** A line a builder printed, as opposed to Nix's own status and error lines. */
function isBuildLogLine(line: string): boolean {
  const l = line.trim();
  return l !== "" && !/^(error|warning|fprof|hint):/.test(l) && !line.startsWith(" ") &&
    !/^(building|copying|these|this|will|unpacking|evaluating|querying|fetching) /.test(l);
}
