/**
 * What `fprof pin` remembers: the pins it made, the files it changed (with
 * one backup of each, taken before its first change), the GC roots that keep
 * the pinned sources alive and the channels generation it made. It lives in
 * `$XDG_STATE_HOME/fprof/pins/<scope>.json`, so `--unpin` can put back what
 * was there before and `--status` can compare the pins with the lock file.
 *
 * @module
 */

import { join } from "../path.ts";
import { FprofError } from "../errors.ts";
import { configHome, type Env, stateHome } from "../xdg.ts";

/** Where pins go: the user's own files, or the system-wide ones. */
export type PinScope = "user" | "system";

/** One pinned flake input. */
export interface Pin {
  /** The registry id and NIX_PATH name, such as `nixpkgs`. */
  id: string;
  /** The source's store path. */
  storePath: string;
  narHash: string;
  lastModified?: number;
  rev?: string;
}

/** A file fprof changed. */
export interface ChangedFile {
  path: string;
  /** Where the file as it was before fprof's first change is kept; null if it did not exist. */
  backup: string | null;
  /** SHA-256 (hex) of the text fprof last wrote, to tell whether someone changed it since. */
  written: string;
  /** The file's permission bits before fprof's first change, which `--unpin` puts back. */
  mode?: number;
  /**
   * SHA-256 (hex) of the text the file had when a pin that has not finished
   * began to replace it with `written`: while the pin is pending the file
   * holds either, and both are fprof's to undo.
   */
  before?: string;
}

/** The channels generation fprof made. */
export interface ChannelsChange {
  /** The channels profile `~/.nix-defexpr/channels` leads to. */
  profile: string;
  /** Its generation before fprof's first pin, or null if it had none. */
  previous: number | null;
  /** The generation fprof made last (null until a pending pin makes it), and its store path. */
  generation: number | null;
  storePath: string;
  /** The store path the profile had when a pin that has not finished began to change it. */
  before?: string | null;
  /** `~/.nix-defexpr/channels`, when fprof had to create it. */
  createdLink: string | null;
}

/** The state file of one scope. */
export interface PinState {
  version: 1;
  scope: PinScope;
  /** The flake directory whose lock the pins came from. */
  flake: string;
  pins: Pin[];
  files: ChangedFile[];
  channels: ChannelsChange | null;
  /**
   * The pins of a pin that began to change the files and has not finished:
   * saved before its first change, so that a pin killed half-way (or stopped
   * by a full disk) is reported by `--status`, finished by the next `pin`
   * and undone by `--unpin`. Absent once every file is in place.
   */
  pending?: Pin[];
}

/** The files a scope's pins live in. */
export interface PinFiles {
  registry: string;
  nixConf: string;
}

/**
 * The user's files (`$XDG_CONFIG_HOME/nix/…`), or the system's
 * (`$NIX_CONF_DIR`, by default `/etc/nix`), where Nix reads them.
 */
export function pinFiles(scope: PinScope, env: Env): PinFiles {
  const dir = scope === "system"
    ? (env.get("NIX_CONF_DIR") ?? "/etc/nix").replace(/\/+$/, "")
    : join(configHome(env), "nix");
  return { registry: join(dir, "registry.json"), nixConf: join(dir, "nix.conf") };
}

/** fprof's directory for pin state, GC roots and backups. */
export function pinsDir(env: Env = Deno.env): string {
  return join(stateHome(env), "fprof", "pins");
}

/** The state file of `scope`. */
export function pinStatePath(scope: PinScope, env: Env = Deno.env): string {
  return join(pinsDir(env), `${scope}.json`);
}

/** The GC root that keeps the source pinned as `id` alive. */
export function pinRootPath(scope: PinScope, id: string, env: Env = Deno.env): string {
  return join(pinsDir(env), "roots", `${scope}-${id}`);
}

/** Parses a state file; pure. */
export function parsePinState(text: string, file: string): PinState {
  let d: Partial<PinState> | null;
  try {
    d = JSON.parse(text);
  } catch (e) {
    throw new FprofError(`cannot parse pin state '${file}': ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (
    typeof d !== "object" || d === null || d.version !== 1 || !Array.isArray(d.pins) ||
    !Array.isArray(d.files)
  ) {
    throw new FprofError(`pin state '${file}' has an unknown format`);
  }
  return d as PinState;
}

/** Reads the state of `scope`; null when nothing is pinned. */
export async function loadPinState(
  scope: PinScope,
  env: Env = Deno.env,
): Promise<PinState | null> {
  const file = pinStatePath(scope, env);
  try {
    return parsePinState(await Deno.readTextFile(file), file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/** Whether two pin sets pin the same ids to the same sources; pure. */
export function samePins(a: readonly Pin[], b: readonly Pin[]): boolean {
  const key = (ps: readonly Pin[]) => ps.map((p) => `${p.id}=${p.storePath}`).sort().join(" ");
  return key(a) === key(b);
}

/** `nixpkgs → /nix/store/…-source, …`; pure. */
export function describePins(pins: readonly Pin[]): string {
  return pins.map((p) => `${p.id} → ${p.storePath}`).join(", ") || "nothing";
}

/**
 * What to say after a rollback to a generation whose recorded pins differ
 * from the user's current ones; undefined when they agree or either side
 * has none. Pure.
 */
export function pinsDifferNote(
  generation: number,
  recorded: readonly Pin[] | undefined,
  current: PinState | null,
): string | undefined {
  if (!recorded || recorded.length === 0 || !current) return undefined;
  if (samePins(recorded, current.pins)) return undefined;
  return `the pins (${
    describePins(current.pins)
  }) now differ from generation ${generation}'s lock (${describePins(recorded)})`;
}
