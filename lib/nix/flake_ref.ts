/**
 * Flake references that name a directory on this machine, and the flake a
 * command uses when none is named.
 *
 * @module
 */

import { join, resolve } from "../path.ts";
import { FprofError } from "../errors.ts";
import { configHome, type Env } from "../xdg.ts";

/**
 * The directory holding a local flake's `flake.nix` and `flake.lock`, or
 * `null` for a flake that is not on this machine (`github:…`, a registry
 * name). Accepts paths (`.`, `/x`, `~/x`), `path:`, `file://` and
 * `git+file://` URLs, drops `#attr` and the query, but follows its `dir=`.
 * Pure.
 *
 * @example
 * ```ts
 * import { localFlakeDir } from "./flake_ref.ts";
 * localFlakeDir("path:/home/u/profile?dir=laptop#x", "/", "/home/u"); // "/home/u/profile/laptop"
 * localFlakeDir("~/profile", "/", "/home/u"); // "/home/u/profile"
 * localFlakeDir("github:u/p", "/", "/home/u"); // null
 * ```
 */
export function localFlakeDir(ref: string, cwd: string, home: string): string | null {
  const [base, query = ""] = ref.replace(/#.*$/, "").split("?", 2);
  let path: string;
  if (base.startsWith("path:")) path = base.slice("path:".length);
  else if (base.startsWith("git+file://")) path = base.slice("git+file://".length);
  else if (base.startsWith("file://")) path = base.slice("file://".length);
  else if (/^(\.|\/|~)/.test(base) || base === "") path = base || ".";
  else return null;
  if (path === "~" || path.startsWith("~/")) path = join(home, path.slice(1));
  const root = resolve(cwd, path);
  const dir = new URLSearchParams(query).get("dir");
  return dir ? join(root, dir) : root;
}

/** The directory `fprof init` writes to by default: `$XDG_CONFIG_HOME/fprof/profile`. */
export function initFlakeDir(env: Env): string {
  return join(configHome(env), "fprof", "profile");
}

/** The flake a command works on, and why that one when none was named. */
export interface ChosenFlake {
  /** The flake reference, with an optional `#attr`. */
  ref: string;
  /** Where it came from, for the status line; absent when the user named it. */
  from?: string;
}

/**
 * The flake a command works on when the user may leave it out, in order: the
 * argument; the config's `flake`; `.` when it holds a `flake.nix`; the
 * directory `fprof init` writes to. Without any of them it fails, saying
 * where it looked.
 */
export async function chooseFlake(
  arg: string | undefined,
  configured: string | undefined,
  env: Env,
  cwd: string = Deno.cwd(),
): Promise<ChosenFlake> {
  if (arg !== undefined) return { ref: arg };
  if (configured !== undefined) return { ref: configured, from: "the config's flake" };
  if (await isFile(join(cwd, "flake.nix"))) {
    return { ref: ".", from: "the flake in the current directory" };
  }
  let initDir: string | undefined;
  try {
    initDir = initFlakeDir(env);
  } catch {
    // No home directory: there is no place init would have written to.
  }
  if (initDir !== undefined && await isFile(join(initDir, "flake.nix"))) {
    return { ref: initDir, from: "the flake 'fprof init' wrote" };
  }
  throw new FprofError(
    `no flake to use: none was named, the config names none, and there is no flake.nix in ` +
      `the current directory${initDir ? ` or in '${initDir}'` : ""}`,
    { hint: "run 'fprof init' to write one, or name a flake, as in 'fprof switch ~/profile'" },
  );
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

/**
 * A flake URL with every character Nix's URL parser refuses in its path
 * percent-encoded (as UTF-8), and the rest untouched. Nix 2.8 prints a local
 * flake's URL unencoded (`path:/home/u/my profile?narHash=…`) and then cannot
 * read it back; newer Nix prints it encoded, and this leaves that as it is.
 * Pure.
 *
 * @example
 * ```ts
 * import { escapeFlakeUrl } from "./flake_ref.ts";
 * escapeFlakeUrl("path:/home/u/sp ace é?narHash=x"); // "path:/home/u/sp%20ace%20%C3%A9?narHash=x"
 * escapeFlakeUrl("path:/home/u/a%20b?narHash=x"); // "path:/home/u/a%20b?narHash=x"
 * ```
 */
export function escapeFlakeUrl(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:)([^?#]*)(.*)$/i.exec(url);
  if (!m) return url;
  const path = m[2].replace(
    /%(?![0-9a-fA-F]{2})|[^A-Za-z0-9\-._~!$&'()*+,;=:@/%]/gu,
    (c) => encodeURIComponent(c),
  );
  return `${m[1]}${path}${m[3]}`;
}

/**
 * What a failed read of flake `ref` with `flakeArgs` was about, for the
 * error's first words: the `--override-input` whose name or reference Nix's
 * error quotes, else the flake with every override it was given; pure.
 *
 * @example
 * ```ts
 * import { flakeReadContext } from "./flake_ref.ts";
 * const args = ["--override-input", "dep", "bogus:///x"];
 * flakeReadContext("path:/f", args, "error: input 'bogus:///x' is unsupported");
 * // "cannot use --override-input dep=bogus:///x"
 * flakeReadContext("path:/f", args, "error: syntax error");
 * // "cannot read flake 'path:/f' with --override-input dep=bogus:///x"
 * ```
 */
export function flakeReadContext(
  ref: string,
  flakeArgs: readonly string[],
  stderr: string,
): string {
  const overrides: { name: string; ref: string }[] = [];
  for (let i = 0; i + 2 < flakeArgs.length; i++) {
    if (flakeArgs[i] === "--override-input") {
      overrides.push({ name: flakeArgs[i + 1], ref: flakeArgs[i + 2] });
    }
  }
  const named = overrides.filter((o) =>
    stderr.includes(o.ref) || stderr.includes(`input '${o.name}'`)
  );
  const shown = (o: { name: string; ref: string }) => `--override-input ${o.name}=${o.ref}`;
  if (named.length === 1) return `cannot use ${shown(named[0])}`;
  if (overrides.length === 0) return `cannot read flake '${ref}'`;
  return `cannot read flake '${ref}' with ${overrides.map(shown).join(", ")}`;
}
