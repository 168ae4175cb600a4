/**
 * How Nix's stderr reaches the user while fprof builds: which `--log-format`
 * to ask for, and a filter that passes Nix's output through as it arrives
 * except its `error:` block, which fprof replaces with its own one-line error.
 *
 * @module
 */

import { redactSecrets } from "../redact.ts";

/** A `--log-format` value of Nix. */
export type NixLogFormat = "bar-with-logs" | "raw-with-logs";

/**
 * The log format for a build: `bar-with-logs` when the user's stderr is a
 * terminal, plain `raw-with-logs` (no ANSI, no redraws) otherwise, so that CI
 * logs and files stay readable. Both include the builders' own output, which
 * Nix's default formats leave out. Pure.
 *
 * Nix draws its progress bar only when its own stderr is a terminal; fprof
 * reads Nix's stderr through a pipe, so with `bar-with-logs` Nix prints the
 * build log lines prefixed with the derivation's name (`hello> …`), and
 * fprof's spinner stands in for the bar.
 *
 * @example
 * ```ts
 * import { logFormatFor } from "./relay.ts";
 * logFormatFor(true); // "bar-with-logs"
 * logFormatFor(false); // "raw-with-logs"
 * ```
 */
export function logFormatFor(stderrIsTerminal: boolean): NixLogFormat {
  return stderrIsTerminal ? "bar-with-logs" : "raw-with-logs";
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** The text a terminal shows for one line: after the last `\r`, without ANSI codes. */
function visible(line: string): string {
  return line.slice(line.lastIndexOf("\r") + 1).replace(ANSI, "");
}

/**
 * Passes Nix's stderr through chunk by chunk. Complete lines go out as they
 * come; so do progress-bar redraws (`\r…\x1b[K`, which never end in a
 * newline), so that a bar stays live. From the first line that starts with
 * `error:` on, nothing more is passed: fprof prints that error itself, as one
 * line. A warning Nix repeats (`warning: not writing modified lock file …`,
 * once per evaluation of the flake, and so once per attribute fprof tries)
 * is passed the first time only, with the indented or bulleted lines that
 * follow it; filters that share `warnings` (one run's Nix calls) show it once
 * between them. Pure: it returns what to write and writes nothing.
 *
 * @example
 * ```ts
 * import { RelayFilter } from "./relay.ts";
 * const f = new RelayFilter();
 * f.push("hello> building\nerror: builder failed\n"); // "hello> building\n"
 * f.end(); // ""
 * ```
 */
export class RelayFilter {
  #pending = "";
  #inError = false;
  /** The `warning:` lines passed so far. */
  #warnings: Set<string>;
  /** Inside a repeated warning, whose lines are dropped. */
  #inRepeat = false;

  constructor(warnings: Set<string> = new Set()) {
    this.#warnings = warnings;
  }
  /** Whether the last text passed on left the cursor mid-line. */
  #lineOpen = false;

  /** Takes a chunk of Nix's stderr and returns what to show now. */
  push(chunk: string): string {
    this.#pending += chunk;
    let out = "";
    let nl: number;
    while ((nl = this.#pending.indexOf("\n")) >= 0) {
      const line = this.#pending.slice(0, nl + 1);
      this.#pending = this.#pending.slice(nl + 1);
      const text = visible(line);
      if (/^\s*error:/.test(text)) this.#inError = true;
      if (/^warning:/.test(text)) {
        this.#inRepeat = this.#warnings.has(text);
        this.#warnings.add(text);
      } else if (this.#inRepeat && !/^(\s|•)/.test(text)) {
        this.#inRepeat = false;
      }
      if (!this.#inError && !this.#inRepeat) out += redactSecrets(line);
    }
    if (!this.#inError) {
      // A redraw ends with "erase to end of line" and no newline: show it
      // now, or the bar would only move when a log line arrives.
      const redraw = this.#pending.lastIndexOf("\x1b[K");
      if (redraw >= 0 && this.#pending.endsWith("\x1b[K")) {
        out += this.#pending;
        this.#pending = "";
      }
    }
    if (out !== "") this.#lineOpen = !out.endsWith("\n");
    return out;
  }

  /**
   * Called when Nix exits: the last unterminated line (unless it is an
   * error), and a line clear when a redraw was left on screen, so that
   * fprof's next line starts clean.
   */
  end(): string {
    let out = "";
    if (this.#pending !== "" && !this.#inError && !/^\s*error:/.test(visible(this.#pending))) {
      out += redactSecrets(this.#pending) + "\n";
      this.#lineOpen = false;
    }
    this.#pending = "";
    if (this.#lineOpen) out += "\r\x1b[K";
    this.#lineOpen = false;
    return out;
  }
}
