/**
 * POSIX path functions for the modules every command loads. Nix runs on POSIX
 * systems only, so `/` is the only separator. They behave as `node:path`'s
 * POSIX functions do (path_test.ts compares them), without loading Deno's
 * Node compatibility layer, which costs a short command more time than its
 * own work.
 *
 * @module
 */

/**
 * Resolves `.` and `..` segments and repeated slashes; keeps a trailing slash
 * and a leading `/`. An empty path is `.`. Pure.
 *
 * @example
 * ```ts
 * import { normalize } from "./path.ts";
 * normalize("/a//b/../c/."); // "/a/c"
 * ```
 */
export function normalize(path: string): string {
  if (path === "") return ".";
  const absolute = path.startsWith("/");
  const trailing = path.endsWith("/");
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!absolute) out.push("..");
    } else {
      out.push(part);
    }
  }
  let body = out.join("/");
  if (body === "") return absolute ? "/" : trailing ? "./" : ".";
  if (trailing) body += "/";
  return absolute ? `/${body}` : body;
}

/**
 * Joins segments with `/` and normalizes the result; empty segments are
 * skipped. Pure.
 *
 * @example
 * ```ts
 * import { join } from "./path.ts";
 * join("/home/u", ".config", "fprof"); // "/home/u/.config/fprof"
 * ```
 */
export function join(...parts: string[]): string {
  const joined = parts.filter((p) => p !== "").join("/");
  return joined === "" ? "." : normalize(joined);
}

/**
 * Makes an absolute path from segments, right to left, until one is absolute;
 * the current directory comes first when none is. No trailing slash.
 *
 * @example
 * ```ts
 * import { resolve } from "./path.ts";
 * resolve("/nix/var/nix/profiles", "../profiles/default"); // "/nix/var/nix/profiles/default"
 * ```
 */
export function resolve(...parts: string[]): string {
  let path = "";
  for (let i = parts.length - 1; i >= 0 && !path.startsWith("/"); i--) {
    if (parts[i] === "") continue;
    path = path === "" ? parts[i] : `${parts[i]}/${path}`;
  }
  if (!path.startsWith("/")) path = path === "" ? Deno.cwd() : `${Deno.cwd()}/${path}`;
  const normalized = normalize(path);
  return normalized.length > 1 && normalized.endsWith("/") ? normalized.slice(0, -1) : normalized;
}

/** The path without trailing slashes (but `/` stays `/`). */
function trimTrailing(path: string): string {
  let end = path.length;
  while (end > 1 && path[end - 1] === "/") end--;
  return path.slice(0, end);
}

/**
 * The directory part of a path: everything before the last segment. Pure.
 *
 * @example
 * ```ts
 * import { dirname } from "./path.ts";
 * dirname("/nix/var/nix/profiles/default"); // "/nix/var/nix/profiles"
 * dirname("profile"); // "."
 * ```
 */
export function dirname(path: string): string {
  if (path === "") return ".";
  const trimmed = trimTrailing(path);
  const slash = trimmed.lastIndexOf("/");
  if (slash < 0) return ".";
  if (slash === 0) return "/";
  return trimmed.slice(0, slash);
}

/**
 * The last segment of a path, without `suffix` when it ends with it (and is
 * not only it). Pure.
 *
 * @example
 * ```ts
 * import { basename } from "./path.ts";
 * basename("/nix/var/nix/profiles/default-3-link"); // "default-3-link"
 * basename("/a/fprof.ts", ".ts"); // "fprof"
 * ```
 */
export function basename(path: string, suffix?: string): string {
  const trimmed = trimTrailing(path);
  const base = trimmed === "/" ? "" : trimmed.slice(trimmed.lastIndexOf("/") + 1);
  if (suffix && base !== suffix && base.endsWith(suffix)) {
    return base.slice(0, base.length - suffix.length);
  }
  return base;
}

/**
 * The extension of the last segment, from its last `.` (not a leading one).
 * Pure.
 *
 * @example
 * ```ts
 * import { extname } from "./path.ts";
 * extname("/a/fprof.js"); // ".js"
 * extname("/a/.profile"); // ""
 * ```
 */
export function extname(path: string): string {
  const base = basename(path);
  const dot = base.lastIndexOf(".");
  if (dot <= 0 || base === "..") return "";
  return base.slice(dot);
}
