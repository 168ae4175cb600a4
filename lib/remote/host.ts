/**
 * A host reached over ssh: its facts, its profiles' state, and the few Nix
 * commands fprof runs there (`nix-env --set`, `--switch-generation`,
 * `nix-store` queries). Paths travel with Nix's own `nix copy --to
 * ssh-ng://HOST`, never through fprof.
 *
 * @module
 */

import { FprofError, NixError } from "../errors.ts";
import type { Nix, PathInfo, RunOutput } from "../nix/nix.ts";
import { nixArgv, parsePathInfoJson, pathInfoArgv } from "../nix/nix.ts";
import { defaultProfileFor } from "../profile/profile.ts";
import type { Env } from "../xdg.ts";
import { join } from "../path.ts";
import {
  FACTS_SCRIPT,
  type HostFacts,
  parseFacts,
  parseState,
  type RemoteState,
  STATE_SCRIPT,
} from "./inspect.ts";
import { copyFailure, sshArgv, sshFailure, sshScriptArgv } from "./ssh.ts";
import { sharedSshEnv } from "./ssh_share.ts";

/** One remote host, as named on the command line. */
export class RemoteHost {
  /** `[USER@]HOST`, as the user named it. */
  readonly spec: string;
  readonly facts: HostFacts;
  readonly #nix: Nix;
  readonly #env: Env;

  private constructor(spec: string, facts: HostFacts, nix: Nix, env: Env) {
    this.spec = spec;
    this.facts = facts;
    this.#nix = nix;
    this.#env = env;
  }

  /** Logs in once to learn the host's facts. */
  static async connect(spec: string, nix: Nix, userEnv: Env): Promise<RemoteHost> {
    // Every later ssh to the host, Nix's too, reuses this login.
    const env = await sharedSshEnv(spec, userEnv);
    const out = await overSsh(spec, () =>
      nix.run(sshScriptArgv(spec, [], env), {
        context: `cannot inspect '${spec}'`,
        stdin: FACTS_SCRIPT,
      }));
    return new RemoteHost(spec, parseFacts(out.stdout, spec), nix, env);
  }

  /** The environment Nix's own ssh needs to reuse this host's connection. */
  get sshEnv(): Record<string, string> {
    const opts = this.#env.get("NIX_SSHOPTS");
    return opts === undefined ? {} : { NIX_SSHOPTS: opts };
  }

  /**
   * Refuses a host whose store lives elsewhere than `storeDir` (this
   * machine's): Nix copies paths only between stores in the same directory.
   */
  requireStoreDir(storeDir: string): void {
    if (this.facts.storeDir === storeDir) return;
    throw new FprofError(
      `'${this.spec}' keeps its store in '${this.facts.storeDir}', this machine in '${storeDir}'`,
      { hint: "Nix copies paths only between stores in the same directory" },
    );
  }

  /** The `ssh-ng://` store URL Nix copies to. */
  get storeUrl(): string {
    return `ssh-ng://${this.spec}`;
  }

  /**
   * The path fprof starts from to find the profile, as the host's Nix would:
   * `explicit` (with `~` as the remote home), else the first profile link
   * that exists there, else the default of the host's Nix version.
   */
  profileStart(explicit: string | undefined): string {
    const f = this.facts;
    if (explicit !== undefined) {
      if (explicit === "~") return f.home;
      return explicit.startsWith("~/") ? join(f.home, explicit.slice(2)) : explicit;
    }
    if (f.links.length > 0) return f.links[0];
    const env = new Map([["HOME", f.home], ["XDG_STATE_HOME", f.stateHome]]);
    return defaultProfileFor(f.nixVersion, {
      env,
      stateDir: f.stateDir,
      uid: f.uid,
      user: f.user,
    });
  }

  /**
   * Reads a profile (following links from `start`) and the contents of the
   * current generation (with `current`) and of `paths`.
   */
  async readState(
    start: string,
    want: "current" | "none",
    paths: readonly string[] = [],
  ): Promise<RemoteState> {
    const argv = sshScriptArgv(this.spec, [start, want, ...paths], this.#env);
    const out = await overSsh(this.spec, () =>
      this.#nix.runBytes(argv, {
        context: `cannot read profiles on '${this.spec}'`,
        stdin: STATE_SCRIPT,
      }));
    return parseState(out, this.spec);
  }

  /** Runs a command on the host; a failure names the host. */
  run(argv: readonly string[], context: string): Promise<RunOutput> {
    return overSsh(
      this.spec,
      () => this.#nix.run(sshArgv(this.spec, argv, this.#env), { context: context || undefined }),
    );
  }

  /** `nix-env --set` on the host: its Nix makes the generation, under its own lock. */
  async setProfile(profile: string, path: string): Promise<void> {
    await this.run(
      ["nix-env", "--profile", profile, "--set", path],
      `cannot switch profile '${this.spec}:${profile}'`,
    );
  }

  /**
   * Links `~/.nix-profile` on the host to `profile` when the host has no
   * profile link yet, as a first switch here does, so that the packages are
   * on the host user's PATH.
   */
  async linkProfile(profile: string): Promise<void> {
    const f = this.facts;
    if (f.links.length > 0) return;
    await this.run(
      ["ln", "-s", profile, join(f.home, ".nix-profile")],
      `cannot link '${this.spec}:${join(f.home, ".nix-profile")}'`,
    );
  }

  /** `nix-env --switch-generation` on the host. */
  async switchGeneration(profile: string, n: number): Promise<void> {
    await this.run(
      ["nix-env", "--profile", profile, "--switch-generation", String(n)],
      `cannot switch profile '${this.spec}:${profile}' to generation ${n}`,
    );
  }

  /** Whether `path` is valid in the host's store. */
  async isValid(path: string): Promise<boolean> {
    try {
      await this.run(["nix-store", "--check-validity", path], "");
      return true;
    } catch (e) {
      if (e instanceof NixError) return false;
      throw e;
    }
  }

  /** `nix path-info --json` on the host, for its valid paths. */
  async pathInfo(
    paths: readonly string[],
    opts: { recursive?: boolean } = {},
  ): Promise<PathInfo[]> {
    const argv = pathInfoArgv(this.facts.nixVersion, opts.recursive ? ["-r"] : [], paths);
    const { stdout } = await this.run(argv, `cannot query the store of '${this.spec}'`);
    return parsePathInfoJson(stdout);
  }

  /** Closure sizes on the host, by path; paths it lacks are left out. */
  async closureSizes(paths: readonly string[]): Promise<Map<string, number>> {
    const argv = pathInfoArgv(this.facts.nixVersion, ["-S"], paths);
    const { stdout } = await this.run(argv, `cannot measure closures on '${this.spec}'`);
    return new Map(
      parsePathInfoJson(stdout).flatMap((i) =>
        i.closureSize === undefined ? [] : [[i.path, i.closureSize] as const]
      ),
    );
  }

  /** Evaluates an expression with the host's Nix, for a manifest.nix fprof cannot parse. */
  async evalJson(expr: string, context: string): Promise<unknown> {
    const { stdout } = await this.run(
      ["nix-instantiate", "--eval", "--strict", "--json", "--expr", expr],
      context,
    );
    return JSON.parse(stdout);
  }

  /**
   * Copies `path` and its closure from this machine's store to the host's,
   * with Nix's ssh-ng transport. `--no-check-sigs` lets a user the host
   * trusts skip signatures, as a trusted user may; a host that does not
   * trust the user ignores it and checks the signatures.
   */
  async receive(path: string): Promise<void> {
    try {
      await this.#nix.run(
        nixArgv(["copy", "--no-check-sigs", "--to", this.storeUrl, path]),
        {
          context: `cannot copy to '${this.spec}'`,
          spin: `copying to ${this.spec}`,
          env: this.sshEnv,
        },
      );
    } catch (e) {
      throw unsignedRefusal(this.spec, copyFailure(this.spec, e));
    }
  }
}

/** Makes "lacks a valid signature" say what to do. */
function unsignedRefusal(host: string, e: unknown): unknown {
  if (!(e instanceof NixError) || !/lacks a (valid )?signature/.test(e.stderr)) return e;
  return new FprofError(`'${host}' refuses unsigned paths: ${e.reason}`, {
    cause: e,
    hint: "sign them with --sign-key FILE (a secret key whose public key is in the host's " +
      "trusted-public-keys), or make the ssh user a trusted user there",
  });
}

/** Runs `call`, an ssh to `host`; ssh's own failure becomes one line naming the host. */
async function overSsh<T>(host: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw sshFailure(host, e);
  }
}
