/**
 * Flake references that name a directory on this machine.
 *
 * @module
 */

import { join, resolve } from "./path.ts";

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
