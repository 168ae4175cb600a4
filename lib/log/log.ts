/**
 * Status output. Everything here goes to stderr: stdout is kept for data
 * (`fprof list`, `--json`), so that it can be piped.
 *
 * @module
 */

import { Spinner } from "./spinner.ts";
import { FprofError } from "../errors.ts";

/**
 * Whether fprof's status output (on stderr) carries ANSI colours. In order:
 * a non-empty `NO_COLOR` turns them off (no-color.org); `FORCE_COLOR` set to
 * anything but `0` or `false` turns them on, and `FORCE_COLOR=0` off;
 * otherwise they are on when stderr is a terminal whose `TERM` is not `dumb`.
 * stdout carries data and is never coloured. Pure given its arguments.
 */
export function useColor(
  env: { get(key: string): string | undefined } = Deno.env,
  isTerminal: boolean = Deno.stderr.isTerminal(),
): boolean {
  if ((env.get("NO_COLOR") ?? "") !== "") return false;
  const force = env.get("FORCE_COLOR");
  if (force !== undefined && force !== "") return force !== "0" && force !== "false";
  return isTerminal && env.get("TERM") !== "dumb";
}

/** Writes fprof's status lines to stderr. */
export class Logger {
  verbose: boolean;
  readonly color: boolean;
  /** Whether stderr is a terminal, where spinners are drawn. */
  readonly terminal: boolean;
  #encoder = new TextEncoder();
  #spinner?: Spinner;

  /** Put before every message, such as `lab-a: ` when several hosts share the terminal. */
  readonly prefix: string;

  constructor(
    opts: { verbose?: boolean; color?: boolean; terminal?: boolean; prefix?: string } = {},
  ) {
    this.prefix = opts.prefix ?? "";
    this.verbose = opts.verbose ?? false;
    this.color = opts.color ?? useColor();
    this.terminal = opts.terminal ?? Deno.stderr.isTerminal();
  }

  /**
   * Runs `fn` with a spinner showing `message`, on a terminal only. Lines
   * written meanwhile appear above it.
   */
  async spin<T>(message: string, fn: () => Promise<T>): Promise<T> {
    if (!this.terminal || this.#spinner) return await fn();
    const spinner = new Spinner((t) => this.#raw(t), message);
    this.#spinner = spinner;
    try {
      return await fn();
    } finally {
      this.#spinner = undefined;
      spinner.stop();
    }
  }

  #raw(text: string): void {
    Deno.stderr.writeSync(this.#encoder.encode(text));
  }

  #paint(code: string, text: string): string {
    return this.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  }

  /** Writes raw text to stderr. */
  write(text: string): void {
    this.#spinner?.clear();
    this.#raw(text);
  }

  /** One line per step: `building path:/home/u/profile#profile`. */
  step(message: string): void {
    this.write(`${this.#paint("1;34", "fprof")}: ${this.prefix}${message}\n`);
  }

  /** Something the user should notice but that is not a failure. */
  warn(message: string): void {
    this.write(`${this.#paint("1;33", "warning")}: ${this.prefix}${message}\n`);
  }

  /** The one line an expected failure is reported with. */
  error(message: string): void {
    this.write(`${this.#paint("1;31", "error")}: ${this.prefix}${message}\n`);
  }

  /** A follow-up line saying what to do next. */
  hint(message: string): void {
    this.write(`${this.#paint("2", "hint")}: ${this.prefix}${message}\n`);
  }

  /** Shown only under `--verbose`, e.g. every nix command line. */
  debug(message: string): void {
    if (this.verbose) this.write(`${this.#paint("2", `+ ${this.prefix}${message}`)}\n`);
  }
}

/**
 * Writes data to stdout in one go; stdout carries only data. A closed pipe
 * is thrown as it is (main exits quietly); any other failure, such as a full
 * disk, says that it was the output that could not be written.
 *
 * Synchronous: the output is a command's last step, and an asynchronous
 * write would hand it to another thread and back.
 */
export function writeOut(text: string): void {
  const bytes = new TextEncoder().encode(text);
  let off = 0;
  try {
    while (off < bytes.length) {
      off += Deno.stdout.writeSync(bytes.subarray(off));
    }
  } catch (e) {
    if (e instanceof Deno.errors.BrokenPipe) throw e;
    const reason = (e as Error).message;
    throw new FprofError(
      `cannot write the output: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`,
      { cause: e },
    );
  }
}
