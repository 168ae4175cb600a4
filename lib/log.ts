/**
 * Status output. Everything here goes to stderr: stdout is kept for data
 * (`fprof list`, `--json`), so that it can be piped.
 *
 * @module
 */

/** Whether stderr should carry ANSI colours. */
export function useColor(
  env: { get(key: string): string | undefined } = Deno.env,
  isTerminal: boolean = Deno.stderr.isTerminal(),
): boolean {
  if ((env.get("NO_COLOR") ?? "") !== "") return false;
  const force = env.get("FORCE_COLOR");
  if (force !== undefined && force !== "0" && force !== "false") return true;
  return isTerminal;
}

/** Writes fprof's status lines to stderr. */
export class Logger {
  verbose: boolean;
  readonly color: boolean;
  #encoder = new TextEncoder();

  constructor(opts: { verbose?: boolean; color?: boolean } = {}) {
    this.verbose = opts.verbose ?? false;
    this.color = opts.color ?? useColor();
  }

  #paint(code: string, text: string): string {
    return this.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  }

  /** Writes raw text to stderr. */
  write(text: string): void {
    Deno.stderr.writeSync(this.#encoder.encode(text));
  }

  /** One line per step: `building path:/home/u/profile#profile`. */
  step(message: string): void {
    this.write(`${this.#paint("1;34", "fprof")}: ${message}\n`);
  }

  /** Something the user should notice but that is not a failure. */
  warn(message: string): void {
    this.write(`${this.#paint("1;33", "warning")}: ${message}\n`);
  }

  /** The one line an expected failure is reported with. */
  error(message: string): void {
    this.write(`${this.#paint("1;31", "error")}: ${message}\n`);
  }

  /** A follow-up line saying what to do next. */
  hint(message: string): void {
    this.write(`${this.#paint("2", "hint")}: ${message}\n`);
  }

  /** Shown only under `--verbose`, e.g. every nix command line. */
  debug(message: string): void {
    if (this.verbose) this.write(`${this.#paint("2", `+ ${message}`)}\n`);
  }
}

/** Writes data to stdout in one go; stdout carries only data. */
export async function writeOut(text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  let off = 0;
  while (off < bytes.length) {
    off += await Deno.stdout.write(bytes.subarray(off));
  }
}
