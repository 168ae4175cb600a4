/**
 * One ssh connection per host and command. Each ssh fprof starts, and each
 * one Nix starts for `nix copy --to ssh-ng://HOST`, would otherwise log in
 * anew: a read of a host is two logins, a switch four or more, each a key
 * exchange and an authentication.
 *
 * So the first ssh to a host becomes a master (`ControlMaster=auto`) on a
 * socket in a private directory of this process (mode 0700, made with
 * `mkdtemp`), and later ones, Nix's included through `NIX_SSHOPTS`, run over
 * it. When fprof exits, each master is told to exit and the directory is
 * removed; a master whose fprof was killed exits on its own after
 * {@link PERSIST_SECONDS} idle, and the next fprof removes the directory.
 *
 * The user's own choices win: a host for which the user's ssh configuration
 * already sets `ControlMaster` or `ControlPath` (as `ssh -G` reports it), or
 * a `NIX_SSHOPTS` that mentions either, gets no option from fprof.
 *
 * @module
 */

import { join } from "../path.ts";
import type { Env } from "../xdg.ts";
import { sshOptions } from "./ssh.ts";

/** How long an idle master waits for another session before it exits. */
export const PERSIST_SECONDS = 60;

/** Names of the private directories: `fprof-ssh-<pid>-<random>`. */
const PREFIX = "fprof-ssh-";

let dir: string | null = null;
/** The hosts whose master this process may have started, with the options that reach it. */
const masters = new Map<string, string[]>();

/**
 * The ssh options that share one connection per host, with `socketDir` the
 * private directory; none when the user chose connection sharing already.
 * Pure.
 *
 * @example
 * ```ts
 * import { sharingOptions } from "./ssh_share.ts";
 * sharingOptions("/run/fprof-ssh-1-x", [], "controlmaster false\ncontrolpath none\n");
 * // ["-o", "ControlMaster=auto", "-o", "ControlPath=/run/fprof-ssh-1-x/%C", "-o", "ControlPersist=60"]
 * sharingOptions("/d", ["-o", "ControlPath=~/.ssh/%C"], "controlmaster false\n"); // []
 * sharingOptions("/d", [], "controlmaster auto\ncontrolpath ~/.ssh/cm-%C\n"); // []
 * ```
 */
export function sharingOptions(
  socketDir: string,
  userOptions: readonly string[],
  effectiveConfig: string,
): string[] {
  if (userOptions.some((o) => /control(master|path|persist)|^-[MS]/i.test(o))) return [];
  const config = new Map(
    effectiveConfig.split("\n").map((l) => {
      const [k, ...v] = l.trim().split(/\s+/);
      return [k.toLowerCase(), v.join(" ")] as const;
    }),
  );
  const master = config.get("controlmaster") ?? "false";
  const path = config.get("controlpath") ?? "none";
  if (master !== "false" || path !== "none") return [];
  // Nix splits NIX_SSHOPTS on blanks: a directory with one cannot be passed.
  if (/\s/.test(socketDir)) return [];
  return [
    "-o",
    "ControlMaster=auto",
    "-o",
    `ControlPath=${socketDir}/%C`,
    "-o",
    `ControlPersist=${PERSIST_SECONDS}`,
  ];
}

/**
 * `env` with `NIX_SSHOPTS` extended by the options that share one connection
 * to `host`, for every ssh fprof starts and every one Nix starts. Without
 * sharing (the user's choice, or no private directory), `env` itself.
 */
export async function sharedSshEnv(host: string, env: Env): Promise<Env> {
  const user = sshOptions(env);
  const socketDir = await privateDir(env);
  if (socketDir === null) return env;
  const extra = sharingOptions(socketDir, user, await effectiveConfig(host, user));
  if (extra.length === 0) return env;
  masters.set(host, [...user, ...extra]);
  const opts = [...user, ...extra].join(" ");
  return { get: (key: string) => key === "NIX_SSHOPTS" ? opts : env.get(key) };
}

/** `ssh -G`'s view of the configuration for `host`; empty when ssh cannot say. */
async function effectiveConfig(host: string, user: readonly string[]): Promise<string> {
  try {
    const out = await new Deno.Command("ssh", {
      args: [...user, "-G", "--", host],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    // An ssh that cannot tell is not asked to share either.
    return out.success ? new TextDecoder().decode(out.stdout) : "controlmaster unknown\n";
  } catch {
    return "controlmaster unknown\n";
  }
}

/**
 * The longest socket directory that works: a socket's path has room for 107
 * bytes, and ssh's own is the directory, `/`, the 40 characters of `%C` and,
 * while the master starts, a suffix of 17 more.
 */
const MAX_DIR = 107 - 1 - 40 - 17;

/** This process's socket directory, made on first use; `null` when it cannot be made. */
async function privateDir(env: Env): Promise<string | null> {
  if (dir !== null) return dir;
  const random = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
  const name = `${PREFIX}${Deno.pid}-${random}`;
  const parents = [env.get("XDG_RUNTIME_DIR"), "/tmp"]
    .filter((p): p is string => !!p && p.startsWith("/") && p.length + 1 + name.length <= MAX_DIR);
  for (const parent of parents) {
    try {
      await removeStale(parent);
      const path = join(parent, name);
      // mkdir fails when anything is at the name: nothing planted is used.
      await Deno.mkdir(path, { mode: 0o700 });
      await Deno.chmod(path, 0o700);
      dir = path;
      globalThis.addEventListener("unload", closeAll);
      return dir;
    } catch {
      // The next parent, or no sharing.
    }
  }
  return null;
}

/** Tells every master this process started to exit, and removes the directory. */
function closeAll(): void {
  if (dir === null) return;
  for (const [host, opts] of masters) {
    try {
      new Deno.Command("ssh", {
        args: [...opts, "-O", "exit", "--", host],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).outputSync();
    } catch {
      // The master exits by itself once idle.
    }
  }
  try {
    Deno.removeSync(dir, { recursive: true });
  } catch {
    // Removed by the next fprof.
  }
  dir = null;
}

/** Removes the socket directories of fprof processes that no longer run. */
async function removeStale(parent: string): Promise<void> {
  for await (const e of Deno.readDir(parent)) {
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(e.name);
    if (!m || !e.isDirectory || alive(Number(m[1]))) continue;
    const path = join(parent, e.name);
    const info = await Deno.lstat(path).catch(() => null);
    if (info?.isDirectory && info.uid === Deno.uid()) {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    }
  }
}

/** Whether a process with this PID exists. */
function alive(pid: number): boolean {
  try {
    return Deno.statSync(`/proc/${pid}`).isDirectory;
  } catch {
    return false;
  }
}
