/**
 * Reaching another machine the way Nix does: `ssh` with the user's own
 * configuration plus `NIX_SSHOPTS`, which Nix passes to every ssh it starts.
 * fprof sets no ssh option of its own, so host keys are checked exactly as
 * `ssh HOST` checks them.
 *
 * @module
 */

import { FprofError, NixError } from "../errors.ts";
import { showArgv } from "../nix/nix.ts";
import type { Env } from "../xdg.ts";

/**
 * The options of `NIX_SSHOPTS`, split on blanks as Nix splits them. Pure.
 *
 * @example
 * ```ts
 * import { sshOptions } from "./ssh.ts";
 * sshOptions(new Map([["NIX_SSHOPTS", " -F /etc/fleet  -o Port=2222"]]));
 * // ["-F", "/etc/fleet", "-o", "Port=2222"]
 * ```
 */
export function sshOptions(env: Env): string[] {
  return (env.get("NIX_SSHOPTS") ?? "").split(/[ \t\n\r]+/).filter((o) => o !== "");
}

/**
 * The argv that runs `command` on `host`: the remote login shell reads it as
 * one line, so each word is quoted for a POSIX shell. Pure.
 *
 * @example
 * ```ts
 * import { sshArgv } from "./ssh.ts";
 * sshArgv("lab-a", ["nix-env", "-p", "/p q", "--set", "/s/x"], new Map());
 * // ["ssh", "--", "lab-a", "nix-env -p '/p q' --set /s/x"]
 * ```
 */
export function sshArgv(host: string, command: readonly string[], env: Env): string[] {
  return ["ssh", ...sshOptions(env), "--", host, showArgv(command)];
}

/**
 * The argv that runs a POSIX shell script on `host` with `args` as `$1…`;
 * the script itself goes to the shell's standard input. Pure.
 */
export function sshScriptArgv(host: string, args: readonly string[], env: Env): string[] {
  return sshArgv(host, ["sh", "-s", "--", ...args], env);
}

/**
 * The error for an ssh that failed: ssh itself exits with 255 when it could
 * not connect or log in, and says why on its last line; anything else is
 * the remote command's own failure, left as it is.
 */
export function sshFailure(host: string, e: unknown): unknown {
  if (!(e instanceof NixError) || e.code !== 255) return e;
  const last = e.stderr.split("\n").map((l) => l.trim()).filter((l) => l !== "").at(-1);
  if (last === undefined || LOST.test(last)) {
    return new FprofError(`lost the connection to '${host}'${last ? ` (${last})` : ""}`, {
      cause: e,
      hint: LOST_HINT,
    });
  }
  return new FprofError(`cannot reach '${host}': ${last.replace(/\.$/, "")}`, {
    cause: e,
    hint: sshHint(host, last),
  });
}

/**
 * The error for a `nix copy` over ssh-ng that failed: a connection that went
 * away midway (Nix 2.8 says `unexpected end-of-file`, 2.26 and later `Nix
 * daemon disconnected unexpectedly`) reads as a lost connection; anything
 * else is left as {@link sshFailure} makes it.
 */
export function copyFailure(host: string, e: unknown): unknown {
  if (
    e instanceof NixError && e.code !== 255 &&
    /unexpected end-of-file|daemon disconnected unexpectedly/.test(e.stderr)
  ) {
    return new FprofError(`lost the connection to '${host}' (${e.reason})`, {
      cause: e,
      hint: LOST_HINT,
    });
  }
  return sshFailure(host, e);
}

const LOST_HINT = "each change on the host is whole or not made at all; run the command again";

/** What ssh says when an open connection goes away. */
const LOST = /broken pipe|connection (closed|reset)|client_loop|packet_write|timed out/i;

function sshHint(host: string, why: string): string {
  if (/host key verification failed|host key .* changed|no .* host key is known/i.test(why)) {
    return `check the host's key with 'ssh ${host}' and add it to your known_hosts; ` +
      "fprof checks host keys as ssh does and never turns that off";
  }
  if (/permission denied/i.test(why)) {
    return "fprof logs in as ssh does: check the user name, your key or ssh-agent, and NIX_SSHOPTS";
  }
  return `check that 'ssh ${host} true' works; fprof and Nix pass NIX_SSHOPTS to ssh`;
}
