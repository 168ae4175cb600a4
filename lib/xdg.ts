/**
 * XDG base directories, resolved as Nix and fprof use them.
 *
 * @module
 */

import { join } from "./path.ts";
import { FprofError } from "./errors.ts";

/** Reads environment variables; tests pass a plain map. */
export type Env = { get(key: string): string | undefined };

/** `$HOME`, which Nix requires too. */
export function homeDir(env: Env = Deno.env): string {
  const home = env.get("HOME");
  if (!home) {
    throw new FprofError("HOME is not set", {
      hint: "set HOME to your home directory; Nix needs it too",
    });
  }
  return home;
}

function xdg(env: Env, name: string, fallback: string[]): string {
  const v = env.get(name);
  // The spec says relative values are invalid and must be ignored.
  if (v && v.startsWith("/")) return v;
  return join(homeDir(env), ...fallback);
}

/** `$XDG_CONFIG_HOME`, default `~/.config`. */
export function configHome(env: Env = Deno.env): string {
  return xdg(env, "XDG_CONFIG_HOME", [".config"]);
}

/** `$XDG_STATE_HOME`, default `~/.local/state`. */
export function stateHome(env: Env = Deno.env): string {
  return xdg(env, "XDG_STATE_HOME", [".local", "state"]);
}

/** `$XDG_CACHE_HOME`, default `~/.cache`. */
export function cacheHome(env: Env = Deno.env): string {
  return xdg(env, "XDG_CACHE_HOME", [".cache"]);
}
