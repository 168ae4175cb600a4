/**
 * How an error from the operating system is reported: one `error:` line that
 * says what it is (with the file or directory, as the system named it), a
 * hint where one helps, and a quiet exit when the reader of our output went
 * away, as for any Unix tool whose pipe is closed (`fprof list | head -1`).
 *
 * @module
 */

/** What `main` prints and returns for an operating-system error. */
export interface OsErrorReport {
  /** The `error:` line, or null to exit quietly. */
  message: string | null;
  hint?: string;
  exitCode: number;
}

/** The exit status a shell reports for a process killed by SIGPIPE (128 + 13). */
export const SIGPIPE_STATUS = 141;

const HINTS: Record<number, string> = {
  13: "check the permissions of that file or directory",
  28: "free some space on that file system and run the command again",
  30: "that file system is mounted read-only",
  122: "free some space within your disk quota and run the command again",
};

/**
 * The report of an operating-system error, or null when `e` is not one. Pure.
 *
 * @example
 * ```ts
 * import { osErrorReport } from "./os_error.ts";
 * osErrorReport(new Error("No space left on device (os error 28): write '/x'"))?.message;
 * // "no space left on device (os error 28): write '/x'"
 * osErrorReport(new Deno.errors.BrokenPipe("Broken pipe (os error 32)"))?.exitCode; // 141
 * ```
 */
export function osErrorReport(e: unknown): OsErrorReport | null {
  if (!(e instanceof Error)) return null;
  const code = /\(os error (\d+)\)/.exec(e.message);
  if (e instanceof Deno.errors.BrokenPipe || code?.[1] === "32") {
    return { message: null, exitCode: SIGPIPE_STATUS };
  }
  if (!code) return null;
  const text = e.message.charAt(0).toLowerCase() + e.message.slice(1);
  const hint = HINTS[Number(code[1])];
  return { message: text, ...(hint ? { hint } : {}), exitCode: 1 };
}
