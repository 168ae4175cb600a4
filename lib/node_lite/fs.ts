/**
 * The two `node:fs` functions commander calls, and only when it looks for an
 * executable subcommand.
 *
 * @module
 */

/** Whether `path` exists (following links). */
export function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The canonical path of `path`. */
export function realpathSync(path: string): string {
  return Deno.realPathSync(path);
}

export default { existsSync, realpathSync };
