/**
 * `stripVTControlCharacters` of `node:util`, which commander uses to measure
 * help text.
 *
 * @module
 */

// CSI sequences (ESC [ … final byte, or the one-byte CSI) and OSC sequences
// (ESC ] … ended by BEL or ESC \), the two kinds terminals print with.
// deno-lint-ignore no-control-regex
const VT = /(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;

/**
 * The text without terminal escape sequences. Pure.
 *
 * @example
 * ```ts
 * import { stripVTControlCharacters } from "./util.ts";
 * stripVTControlCharacters("\x1b[1;31merror\x1b[0m"); // "error"
 * ```
 */
export function stripVTControlCharacters(text: string): string {
  return text.replace(VT, "");
}

export default { stripVTControlCharacters };
