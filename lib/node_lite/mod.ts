/**
 * The parts of Node's built-in modules that commander uses, written on Deno's
 * own APIs, for the bundle only. Loading any `node:` module starts Deno's Node
 * compatibility layer, which costs about 25 ms: more than `fprof list` spends
 * on its own work. `scripts/build.ts` points the bundle's `node:` imports at
 * the files of this folder (see {@link NODE_LITE_MODULES}); `deno run
 * main.ts` keeps the real modules.
 *
 * Commander uses `node:fs` and `node:child_process` only to start executable
 * subcommands (`program.command("x", "description")`), which fprof does not
 * declare; those functions fail loudly here instead of doing something else.
 *
 * @module
 */

/** The `node:` modules the bundle takes from this folder, by file name. */
export const NODE_LITE_MODULES = ["child_process", "events", "fs", "path", "process", "util"];

/** An error for a Node function this folder does not provide. */
export function unsupported(name: string): Error {
  return new Error(
    `${name} is not available in fprof's bundle (lib/node_lite provides what commander uses)`,
  );
}
