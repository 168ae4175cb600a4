/**
 * Builds fprof for distribution: `deno task bundle` writes one self-contained
 * JavaScript file, `deno task compile` one executable per platform. Both use
 * {@link PERMISSION_FLAGS}, the permissions fprof needs and no more, so that
 * the binary never prompts.
 *
 * ```sh
 * deno task bundle                       # dist/fprof.js
 * deno task compile                      # dist/fprof-<system> for the four systems
 * deno task compile x86_64-linux         # just one
 * ```
 *
 * @module
 */

import { join } from "node:path";
import { NODE_LITE_MODULES } from "../lib/node_lite/mod.ts";

/**
 * The programs fprof starts: Nix's, and ssh for `--target-host` (with the
 * options Nix's own ssh-ng:// store uses). lib/nix/nix.ts is the only module
 * that starts any.
 */
export const NIX_PROGRAMS = ["nix", "nix-env", "nix-store", "nix-instantiate", "ssh"];

/**
 * The environment variables fprof reads itself. Nix's children inherit the
 * whole environment without this permission; the list only covers what
 * fprof's own code reads (scripts/build_test.ts checks it against the
 * sources).
 */
export const ENV_VARS = [
  "HOME",
  "USER",
  "LOGNAME",
  "PATH",
  "TERM",
  "NO_COLOR",
  "FORCE_COLOR",
  "XDG_CONFIG_HOME",
  "XDG_STATE_HOME",
  "XDG_CACHE_HOME",
  "NIX_STORE_DIR",
  "NIX_STATE_DIR",
  "NIX_CONF_DIR",
  "NIX_PATH",
  // pin --status names NIX_CONFIG when it overrides fprof's nix-path; the
  // GC roots of a switch depend on whether Nix is reached through a daemon.
  "NIX_CONFIG",
  "NIX_REMOTE",
  // --target-host passes the same ssh options as Nix's own ssh-ng:// store.
  "NIX_SSHOPTS",
  // Where the private directory of shared ssh connections goes.
  "XDG_RUNTIME_DIR",
  // The fault suite's crash switch and full disk (lib/crash.ts); reading
  // them is harmless, and without them the shipped program could not be
  // crash-tested as shipped.
  "FPROF_TEST_CRASH",
  "FPROF_TEST_FULL_DISK",
  "FPROF_TEST_FULL_FROM",
];

/**
 * The system information fprof asks for: the uid (the default profile of
 * Nix 2.8 is per user) and the host name (`profiles.<hostname>` in a flake).
 */
export const SYS_APIS = ["uid", "hostname"];

/**
 * The permission flags of the bundle and the binaries:
 *
 * - `--allow-run` only for the Nix programs, looked up on `PATH`.
 * - `--allow-env` only for {@link ENV_VARS}.
 * - `--allow-sys` only for {@link SYS_APIS}.
 * - `--allow-read` and `--allow-write` without a path list: the profile, the
 *   state, config and cache directories live under the user's `$HOME` (or
 *   wherever `--profile`, `XDG_*` and `NIX_STATE_DIR` point), and a flake
 *   can be any directory. Deno fixes path lists when the binary is compiled,
 *   so they cannot name a user's home; a list would make the binary prompt or
 *   fail for everyone but the person who built it.
 * - Nothing else: no network (Nix fetches, fprof does not), no FFI, no
 *   dynamic imports from the network, and `--no-prompt`, so a missing
 *   permission is an error instead of a question.
 */
export const PERMISSION_FLAGS = [
  `--allow-run=${NIX_PROGRAMS.join(",")}`,
  `--allow-env=${ENV_VARS.join(",")}`,
  `--allow-sys=${SYS_APIS.join(",")}`,
  "--allow-read",
  "--allow-write",
  "--no-prompt",
];

/** The systems binaries are made for, as Nix names them, with Deno's target triple. */
export const TARGETS: Record<string, string> = {
  "x86_64-linux": "x86_64-unknown-linux-gnu",
  "aarch64-linux": "aarch64-unknown-linux-gnu",
  "x86_64-darwin": "x86_64-apple-darwin",
  "aarch64-darwin": "aarch64-apple-darwin",
};

const ROOT = new URL("..", import.meta.url).pathname;
const MAIN = join(ROOT, "main.ts");

/**
 * The argv of `deno bundle` for fprof (or for `entry`); with `minify`,
 * minified but keeping the names of functions and classes for stack traces.
 * Pure.
 */
export function bundleArgv(
  out: string,
  entry: string = MAIN,
  opts: { minify?: boolean } = {},
): string[] {
  const minify = opts.minify ? ["--minify", "--keep-names"] : [];
  return ["bundle", "--quiet", "--platform=deno", ...minify, "-o", out, entry];
}

/**
 * Points every `node:` import of bundled JavaScript at the Deno-native
 * module of the same name in `lib/node_lite/` (under `liteDir`, a URL
 * ending in `/`), so that the bundle never loads Deno's Node compatibility
 * layer. Pure.
 *
 * @throws {Error} on a `node:` module that `lib/node_lite/` does not provide:
 * the bundle would load the Node layer after all.
 */
export function useNodeLite(js: string, liteDir: string): string {
  return js.replace(
    /(\bfrom\s*|\bimport\s*\(?\s*)"node:([\w/]+)"/g,
    (_all, head: string, name: string) => {
      if (!NODE_LITE_MODULES.includes(name)) {
        throw new Error(
          `the bundle imports 'node:${name}', which lib/node_lite/ does not provide`,
        );
      }
      return `${head}"${liteDir}${name}.ts"`;
    },
  );
}

/**
 * Writes the bundle: `deno bundle` of main.ts, its `node:` imports pointed at
 * `lib/node_lite/`, then bundled again so that those modules are inside,
 * minified: every run of fprof reads, hashes and compiles the file, and half
 * the bytes take a few milliseconds less.
 */
export async function writeBundle(out: string): Promise<void> {
  const stage = `${out}.stage.js`;
  try {
    await deno(bundleArgv(stage));
    const liteDir = new URL("../lib/node_lite/", import.meta.url).href;
    await Deno.writeTextFile(stage, useNodeLite(await Deno.readTextFile(stage), liteDir));
    await deno(bundleArgv(out, stage, { minify: true }));
  } finally {
    await Deno.remove(stage).catch(() => {});
  }
}

/** The argv of `deno compile` for one system. Pure. */
export function compileArgv(system: string, out: string): string[] {
  const target = TARGETS[system];
  if (!target) {
    throw new Error(
      `Unknown system '${system}': expected one of ${Object.keys(TARGETS).join(", ")}`,
    );
  }
  return ["compile", ...PERMISSION_FLAGS, "--target", target, "-o", out, MAIN];
}

async function deno(args: string[]): Promise<void> {
  if (!args.includes("--quiet")) console.error(`+ deno ${args.join(" ")}`);
  const { code } = await new Deno.Command(Deno.execPath(), { args }).spawn().status;
  if (code !== 0) throw new Error(`deno ${args[0]} failed with exit code ${code}`);
}

async function main(args: string[]): Promise<void> {
  const [what, ...rest] = args;
  const dist = join(ROOT, "dist");
  if (what === "bundle" || what === "compile") await Deno.mkdir(dist, { recursive: true });
  if (what === "bundle") {
    const out = rest[0] ?? join(dist, "fprof.js");
    await writeBundle(out);
    console.error(`wrote ${out}; run it with: deno run ${PERMISSION_FLAGS.join(" ")} ${out}`);
  } else if (what === "compile") {
    for (const system of rest.length > 0 ? rest : Object.keys(TARGETS)) {
      await deno(compileArgv(system, join(dist, `fprof-${system}`)));
    }
  } else if (what === "permissions") {
    console.log(PERMISSION_FLAGS.join(" "));
  } else {
    throw new Error("usage: build.ts bundle [OUT] | compile [SYSTEM...] | permissions");
  }
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
