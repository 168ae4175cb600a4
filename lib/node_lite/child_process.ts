/**
 * `node:child_process`, which commander needs only for executable
 * subcommands: fprof declares none, so starting one is an error.
 *
 * @module
 */

import { unsupported } from "./mod.ts";

/** Always throws: fprof starts its processes with `Deno.Command` (lib/nix/nix.ts). */
export function spawn(): never {
  throw unsupported("child_process.spawn");
}

export default { spawn };
