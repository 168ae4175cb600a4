/**
 * The one module that starts Nix processes (`nix`, `nix-env`, `nix-store`,
 * `nix-instantiate`). Argument vectors are built by pure functions, output is
 * read as JSON where Nix offers it, and a failure becomes a {@link NixError}
 * that carries Nix's own last `error:` line.
 *
 * @module
 */

import { readTextOrNull } from "../fs.ts";
import { join } from "../path.ts";
import { FprofError, NixError, NixNotFoundError } from "../errors.ts";
import { escapeFlakeUrl, flakeReadContext, localFlakeDir } from "./flake_ref.ts";
import type { Logger } from "../log/log.ts";
import { logFormatFor, type NixLogFormat, RelayFilter } from "./relay.ts";

/** The experimental features every `nix` call enables, so that 2.8 works. */
export const NIX_FEATURES = [
  "--extra-experimental-features",
  "nix-command flakes",
];

export {
  manifestJsonVersionFor,
  nixAtLeast,
  nixTraits,
  type NixVersion,
  parseNixVersion,
} from "./versions.ts";
import { nixTraits, type NixVersion, parseNixVersion } from "./versions.ts";

/**
 * The installable that builds every output of a derivation already in the
 * store: `DRV^*` from Nix 2.13 (and on Lix), where a bare `.drv` path means
 * the file itself; a bare path before, where `^` is not understood. Pure.
 *
 * @example
 * ```ts
 * import { derivationOutputsInstallable, parseNixVersion } from "./nix.ts";
 * derivationOutputsInstallable(parseNixVersion("nix (Nix) 2.8.0"), "/s/x.drv"); // "/s/x.drv"
 * derivationOutputsInstallable(parseNixVersion("nix (Nix) 2.26.3"), "/s/x.drv"); // "/s/x.drv^*"
 * ```
 */
export function derivationOutputsInstallable(v: NixVersion, drvPath: string): string {
  return nixTraits(v).drvCaretStar ? `${drvPath}^*` : drvPath;
}

/** Builds the argv of a `nix` (new CLI) call. Pure. */
export function nixArgv(args: readonly string[]): string[] {
  return ["nix", ...NIX_FEATURES, ...args];
}

/**
 * The argv of `nix build` for fprof: JSON results on stdout, the builders'
 * logs in the given format on stderr, and a result link at `outLink` (which
 * roots the result) or none. Pure.
 *
 * @example
 * ```ts
 * import { buildArgv } from "./nix.ts";
 * buildArgv(".#profile", "raw-with-logs").slice(3);
 * // ["build", "--json", "--no-link", "--log-format", "raw-with-logs", ".#profile"]
 * ```
 */
export function buildArgv(
  installable: string,
  logFormat: NixLogFormat,
  outLink?: string,
): string[] {
  const link = outLink === undefined ? ["--no-link"] : ["--out-link", outLink];
  return nixArgv(["build", "--json", ...link, "--log-format", logFormat, installable]);
}

/** Quotes an argv for display the way a shell user would type it. */
export function showArgv(argv: readonly string[]): string {
  return argv.map((a) => /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)
    .join(" ");
}

/** One element of `nix build --json`. */
export interface BuildResult {
  drvPath?: string;
  outputs: Record<string, string>;
}

/** Parses `nix build --json` output (an array of `{drvPath, outputs}`). */
export function parseBuildJson(text: string): BuildResult[] {
  const data = JSON.parse(text);
  if (!Array.isArray(data)) {
    throw new Error("nix build --json did not print an array");
  }
  return data.map((d) => ({ drvPath: d.drvPath, outputs: d.outputs ?? {} }));
}

/** What fprof needs of `nix path-info --json`. */
export interface PathInfo {
  path: string;
  narHash: string;
  narSize: number;
  references: string[];
  ca?: string;
  /** The size of the whole closure, present when asked for with `-S`. */
  closureSize?: number;
}

/**
 * Parses `nix path-info --json`: an array of objects with `path` up to Nix
 * 2.18 and on Lix, an object keyed by path from Nix 2.19 on. Invalid paths
 * appear as `null` / `{valid:false}` and are skipped.
 */
export function parsePathInfoJson(text: string): PathInfo[] {
  const data = JSON.parse(text);
  const entries: [string, Record<string, unknown>][] = Array.isArray(data)
    ? data.map((d) => [d.path, d])
    : Object.entries(data ?? {}) as [string, Record<string, unknown>][];
  const out: PathInfo[] = [];
  for (const [path, d] of entries) {
    if (!d || d.valid === false || typeof d.narHash !== "string") continue;
    out.push({
      path,
      narHash: d.narHash,
      narSize: Number(d.narSize ?? 0),
      references: Array.isArray(d.references) ? d.references as string[] : [],
      ca: typeof d.ca === "string" ? d.ca : undefined,
      ...(typeof d.closureSize === "number" ? { closureSize: d.closureSize } : {}),
    });
  }
  return out;
}

/**
 * The argv of `nix path-info --json`. Nix 2.33 added `--json-format`, and
 * warns when it is missing that leaving it out will become an error; format
 * 1 is the one every earlier version prints. Pure.
 *
 * @example
 * ```ts
 * import { parseNixVersion, pathInfoArgv } from "./nix.ts";
 * pathInfoArgv(parseNixVersion("nix (Nix) 2.34.8"), ["-r"], ["/s/a"]).slice(3);
 * // ["path-info", "--json", "--json-format", "1", "-r", "/s/a"]
 * pathInfoArgv(parseNixVersion("nix (Nix) 2.8.0"), [], ["/s/a"]).slice(3);
 * // ["path-info", "--json", "/s/a"]
 * ```
 */
export function pathInfoArgv(
  v: NixVersion,
  flags: readonly string[],
  paths: readonly string[],
): string[] {
  const format = nixTraits(v).pathInfoJsonFormat ? ["--json-format", "1"] : [];
  return nixArgv(["path-info", "--json", ...format, ...flags, ...paths]);
}

/** What fprof records of `nix flake metadata --json`. */
export interface FlakeMetadata {
  originalUrl: string;
  url: string;
  lastModified?: number;
  revision?: string;
  path?: string;
  /**
   * The lock as Nix resolved it for this call (`locks`, as JSON), overrides
   * included; absent when Nix reports none.
   */
  locks?: string;
}

/**
 * Parses `nix flake metadata --json`. The locked URL comes back escaped, so
 * that Nix can read it again whatever the directory is called.
 */
export function parseFlakeMetadata(text: string): FlakeMetadata {
  const d = JSON.parse(text);
  return {
    originalUrl: d.originalUrl ?? d.resolvedUrl ?? "",
    url: escapeFlakeUrl(d.url ?? d.lockedUrl ?? ""),
    lastModified: typeof d.lastModified === "number" ? d.lastModified : undefined,
    revision: typeof d.revision === "string" ? d.revision : undefined,
    path: typeof d.path === "string" ? d.path : undefined,
    locks: d.locks === undefined ? undefined : JSON.stringify(d.locks),
  };
}

/**
 * The argv that updates a flake's lock file: every input, or the named ones.
 * Up to Nix 2.18 (and on Lix, which forked from 2.18) `nix flake update`
 * takes the flake as its argument and single inputs need
 * `nix flake lock --update-input NAME`; from 2.19 on `nix flake update` takes
 * input names, and the flake comes with `--flake`. Pure.
 */
export function flakeUpdateArgv(
  v: NixVersion,
  flakeRef: string,
  inputs: readonly string[],
): string[] {
  const positional = nixTraits(v).flakeUpdateTakesInputs;
  if (positional) return nixArgv(["flake", "update", ...inputs, "--flake", flakeRef]);
  if (inputs.length === 0) return nixArgv(["flake", "update", flakeRef]);
  return nixArgv(["flake", "lock", flakeRef, ...inputs.flatMap((i) => ["--update-input", i])]);
}

/** Options of a single Nix call. */
export interface RunOptions {
  /** Pass Nix's progress through to the user's stderr while it runs. */
  progress?: boolean;
  /** How the command is named in an error (`building path:/x#profile`). */
  context?: string;
  /** What to do about a failure, when Nix's error itself suggests nothing. */
  hint?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** A spinner message shown on a terminal while the call runs. */
  spin?: string;
  /** Text for standard input; without it, stdin is /dev/null. */
  stdin?: string;
  cwd?: string;
}

/** A finished call. */
export interface RunOutput {
  stdout: string;
  stderr: string;
}

/** What to do when building (or evaluating for a build) a profile failed. */
export const BUILD_HINT = "name the flake's profile environment (FLAKE#profile, see " +
  "'fprof switch' in docs/commands.md), or run 'nix build' on it for Nix's whole output";

/**
 * Runs Nix. One instance per fprof invocation; it caches what does not change
 * within one run, such as the Nix version.
 */
export class Nix {
  readonly log: Logger;
  #version?: Promise<NixVersion>;
  /** The warnings Nix's relayed output has shown in this run, so that each shows once. */
  #warnings = new Set<string>();

  /** When aborted, every process this instance runs is sent SIGTERM. */
  readonly #signal?: AbortSignal;

  constructor(log: Logger, opts: { signal?: AbortSignal } = {}) {
    this.log = log;
    this.#signal = opts.signal;
  }

  /** The store directory, as Nix sees it through `NIX_STORE_DIR`. */
  get storeDir(): string {
    return (Deno.env.get("NIX_STORE_DIR") ?? "/nix/store").replace(/\/+$/, "");
  }

  /** Nix's state directory, as Nix sees it through `NIX_STATE_DIR`. */
  get stateDir(): string {
    return (Deno.env.get("NIX_STATE_DIR") ?? "/nix/var/nix").replace(
      /\/+$/,
      "",
    );
  }

  /** Runs argv and returns its output, or throws a {@link NixError}. */
  async run(
    argv: readonly string[],
    opts: RunOptions = {},
  ): Promise<RunOutput> {
    const { stdout, stderr } = await this.#spawn(argv, opts);
    return { stdout: new TextDecoder().decode(stdout), stderr };
  }

  /** Like {@link run}, with standard output as bytes. */
  async runBytes(argv: readonly string[], opts: RunOptions = {}): Promise<Uint8Array> {
    return (await this.#spawn(argv, opts)).stdout;
  }

  async #spawn(
    argv: readonly string[],
    opts: RunOptions,
  ): Promise<{ stdout: Uint8Array; stderr: string }> {
    this.log.debug(showArgv(argv));
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(argv[0], {
        args: argv.slice(1),
        stdin: opts.stdin === undefined ? "null" : "piped",
        stdout: "piped",
        stderr: "piped",
        cwd: opts.cwd,
        env: opts.env,
        signal: this.#signal,
      }).spawn();
    } catch (e) {
      throw await spawnFailure(argv[0], e as Error, opts.cwd);
    }
    if (opts.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      // A command that exits without reading its input closes the pipe: its
      // exit status says what happened.
      writer.write(new TextEncoder().encode(opts.stdin)).then(() => writer.close()).catch(() => {});
    }
    const wait = () =>
      Promise.all([
        new Response(child.stdout).bytes(),
        opts.progress ? this.#relay(child.stderr) : new Response(child.stderr).text(),
        child.status,
      ]);
    const [stdout, stderr, status] = opts.spin
      ? await this.log.spin(opts.spin, wait)
      : await wait();
    if (!status.success) {
      throw new NixError(argv, status.code, stderr, {
        context: opts.context,
        fallbackHint: opts.hint,
      });
    }
    return { stdout, stderr };
  }

  /**
   * Copies Nix's stderr to ours as it arrives while keeping all of it, except
   * the `error:` block: that becomes fprof's own one-line error instead.
   */
  async #relay(stream: ReadableStream<Uint8Array>): Promise<string> {
    let all = "";
    const filter = new RelayFilter(this.#warnings);
    const decoder = new TextDecoder();
    const show = (text: string) => {
      if (text !== "") this.log.write(text);
    };
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      all += text;
      show(filter.push(text));
    }
    show(filter.end());
    return all;
  }

  /** `nix --version`, parsed, asked once per run. */
  version(): Promise<NixVersion> {
    this.#version ??= this.run(["nix", "--version"]).then((o) => parseNixVersion(o.stdout));
    return this.#version;
  }

  /**
   * Builds an installable and returns its outputs, with a result link at
   * `outLink` (which keeps them from the garbage collector) or none.
   * `flakeArgs` are flake options such as `--override-input NAME REF`.
   */
  async build(
    installable: string,
    flakeArgs: readonly string[] = [],
    /** How the user named it, for messages, when `installable` is its locked form. */
    label: string = installable,
    outLink?: string,
    /** Where to build, such as `--store ssh-ng://HOST --eval-store auto`. */
    storeArgs: readonly string[] = [],
  ): Promise<BuildResult[]> {
    const { stdout } = await this.run(
      [
        ...buildArgv(installable, logFormatFor(this.log.terminal), outLink),
        ...storeArgs,
        ...flakeArgs,
      ],
      {
        progress: true,
        context: `cannot build '${label}'`,
        spin: `building ${label}`,
        hint: BUILD_HINT,
      },
    );
    return parseBuildJson(stdout);
  }

  /**
   * Locked and original URL of a flake, as `nix flake metadata` reports them.
   *
   * Nix 2.3x writes a missing or stale `flake.lock` of a local flake during
   * this call, yet returns the `narHash` of the tree from before the write;
   * building from that URL then fails with "NAR hash mismatch". So when the
   * call changed the lock file, it is asked again, and answers for the tree
   * as it now is.
   */
  async flakeMetadata(ref: string, flakeArgs: readonly string[] = []): Promise<FlakeMetadata> {
    const argv = nixArgv(["flake", "metadata", "--json", ref, ...flakeArgs]);
    const opts = {
      context: `cannot read flake '${ref}'`,
      hint: "give a directory holding flake.nix, or a flake URL such as github:OWNER/REPO",
    };
    const dir = localFlakeDir(ref, Deno.cwd(), Deno.env.get("HOME") ?? "/");
    const lockFile = dir === null ? null : join(dir, "flake.lock");
    // An unreadable lock file is left for Nix to report.
    const read = (file: string) => readTextOrNull(file).catch(() => null);
    const before = lockFile === null ? null : await read(lockFile);
    const run = () =>
      this.run(argv, opts).catch((e) => {
        if (!(e instanceof NixError) || flakeArgs.length === 0) throw e;
        // A bad `--override-input` is named, not the flake it was given for.
        const context = flakeReadContext(ref, flakeArgs, e.stderr);
        throw new NixError(e.argv, e.code, e.stderr, {
          context,
          cause: e,
          fallbackHint: "check each --override-input NAME=REF: REF is a flake reference",
        });
      });
    const first = parseFlakeMetadata((await run()).stdout);
    if (lockFile === null || await read(lockFile) === before) return first;
    this.log.debug(`'${lockFile}' was written: asking for the locked URL again`);
    return parseFlakeMetadata((await run()).stdout);
  }

  /** `nix path-info --json [-r] [-S]` for valid paths. */
  async pathInfo(
    paths: readonly string[],
    opts: { recursive?: boolean; closureSize?: boolean } = {},
  ): Promise<PathInfo[]> {
    const flags = [...(opts.recursive ? ["-r"] : []), ...(opts.closureSize ? ["-S"] : [])];
    const { stdout } = await this.run(pathInfoArgv(await this.version(), flags, paths));
    return parsePathInfoJson(stdout);
  }

  /** Closure sizes (`nix path-info -S`) of valid paths, by path. */
  async closureSizes(paths: readonly string[]): Promise<Map<string, number>> {
    return new Map(
      (await this.pathInfo(paths, { closureSize: true })).flatMap((i) =>
        i.closureSize === undefined ? [] : [[i.path, i.closureSize] as const]
      ),
    );
  }

  /** Updates the lock file of a flake: all inputs, or the named ones. */
  async updateFlakeInputs(flakeRef: string, inputs: readonly string[]): Promise<void> {
    await this.run(flakeUpdateArgv(await this.version(), flakeRef, inputs), {
      progress: true,
      context: `cannot update the inputs of '${flakeRef}'`,
    });
  }

  /** `nix flake lock REF`: records the inputs the lock file lacks, and changes no other. */
  async lockFlake(flakeRef: string): Promise<void> {
    await this.run(nixArgv(["flake", "lock", flakeRef]), {
      progress: true,
      context: `cannot lock the inputs of '${flakeRef}'`,
    });
  }

  /**
   * Deletes generations of a profile with `nix-env --delete-generations`,
   * which takes the profile lock itself: call it without holding that lock.
   */
  async deleteGenerations(profile: string, numbers: readonly number[]): Promise<void> {
    await this.run(
      ["nix-env", "--profile", profile, "--delete-generations", ...numbers.map(String)],
      { progress: true, context: `cannot delete generations of '${profile}'` },
    );
  }

  /** Whether a store path is valid (registered) in the store. */
  async isValid(path: string): Promise<boolean> {
    try {
      await this.run(["nix-store", "--check-validity", path]);
      return true;
    } catch (e) {
      // A configuration Nix rejects is the real reason, not an answer.
      if (e instanceof NixError && !isConfigReason(e.reason)) return false;
      throw e;
    }
  }

  /** Direct references of a store path. */
  async references(path: string): Promise<string[]> {
    const { stdout } = await this.run([
      "nix-store",
      "--query",
      "--references",
      path,
    ]);
    return stdout.split("\n").filter((l) => l !== "");
  }

  /** Copies a path from a local binary cache into the default store. */
  async copyFromCache(cacheDir: string, path: string): Promise<void> {
    await this.run(nixArgv(["copy", "--from", `file://${cacheDir}`, path]), {
      context: `cannot add '${path}' to the store`,
      spin: "adding the new generation to the store",
    });
  }

  /**
   * Substitutes `path` from a local binary cache and roots it at `link` in
   * one process (`nix-store --realise --option substituters`), so the path
   * is never valid and unrooted. Nix honours the option only for users it
   * trusts; see {@link choosesSubstituters}.
   */
  async realiseFromCache(path: string, cacheDir: string, link: string): Promise<void> {
    await this.run([
      "nix-store",
      "--realise",
      path,
      "--add-root",
      link,
      "--indirect",
      "--option",
      "substituters",
      `file://${cacheDir}`,
    ], { context: `cannot add '${path}' to the store` });
  }

  /**
   * Whether Nix takes this user's `--option substituters`: root always, and
   * the owner of a store that Nix opens directly. A daemon's other users are
   * trusted only when its configuration says so, which the client cannot
   * see cheaply, so they are counted as untrusted.
   */
  async choosesSubstituters(): Promise<boolean> {
    const uid = Deno.uid();
    if (uid === 0) return true;
    const remote = Deno.env.get("NIX_REMOTE") ?? "";
    if (remote !== "" && remote !== "local") return false;
    try {
      return (await Deno.stat(this.storeDir)).uid === uid;
    } catch {
      return false;
    }
  }

  /**
   * Makes `path` the next generation of `profile` through Nix's own
   * generation machinery, so the generation is registered as a GC root.
   */
  async setProfile(profile: string, path: string): Promise<void> {
    await this.run(["nix-env", "--profile", profile, "--set", path], {
      context: `cannot switch profile '${profile}'`,
    });
  }

  /**
   * Makes `link` an indirect GC root for the valid store path `path`
   * (`nix-store --realise --add-root`): Nix registers the link in
   * `gcroots/auto`, through the daemon for daemon users, so the path lives as
   * long as the link points to it.
   */
  async addRoot(path: string, link: string): Promise<void> {
    await this.run(["nix-store", "--realise", path, "--add-root", link, "--indirect"], {
      context: `cannot keep '${path}' alive`,
    });
  }

  /**
   * Nix's settings with their values and defaults (`nix show-config --json`).
   * Only `nix-command` is enabled for the call, so `experimental-features`
   * shows whether the user's own configuration enables flakes.
   */
  async settings(): Promise<Record<string, { value?: unknown; defaultValue?: unknown }>> {
    const { stdout } = await this.run([
      "nix",
      "--extra-experimental-features",
      "nix-command",
      "show-config",
      "--json",
    ]);
    return JSON.parse(stdout);
  }

  /**
   * `nix eval --json INSTALLABLE --apply FN`: one evaluation of a flake
   * attribute, passed through `apply` first.
   */
  async evalFlakeJson(
    installable: string,
    apply: string,
    flakeArgs: readonly string[] = [],
    /**
     * How the user named it, a spinner message while it runs, and whether
     * Nix's own messages (its warnings) reach the user, as a build's do.
     */
    label: { context?: string; spin?: string; progress?: boolean; hint?: string } = {},
  ): Promise<unknown> {
    const { stdout } = await this.run(
      nixArgv(["eval", "--json", installable, "--apply", apply, ...flakeArgs]),
      {
        context: label.context ?? `cannot evaluate '${installable}'`,
        spin: label.spin,
        progress: label.progress,
        hint: label.hint,
      },
    );
    return JSON.parse(stdout);
  }

  /**
   * The attribute names of an attribute set in a flake, such as
   * `path:/p#packages.x86_64-linux`; none when it is missing or fails to
   * evaluate. Only the names are forced, not the packages.
   */
  async attrNames(installable: string): Promise<string[]> {
    try {
      const { stdout } = await this.run(
        nixArgv(["eval", "--json", installable, "--apply", "builtins.attrNames"]),
      );
      const names = JSON.parse(stdout);
      return Array.isArray(names) ? names.filter((n) => typeof n === "string") : [];
    } catch (e) {
      if (e instanceof NixError || e instanceof SyntaxError) return [];
      throw e;
    }
  }

  /**
   * `nix eval --impure --json --expr EXPR`: an expression that reads a local
   * flake with `builtins.getFlake`, which only an impure evaluation may do
   * for a flake that is not locked.
   */
  async evalImpureJson(
    expr: string,
    label: { context: string; hint?: string; spin?: string },
  ): Promise<unknown> {
    const { stdout } = await this.run(
      nixArgv(["eval", "--impure", "--json", "--expr", expr]),
      label,
    );
    return JSON.parse(stdout);
  }

  /** Evaluates a Nix expression strictly and returns its JSON value. */
  async evalJson(expr: string, context: string, hint?: string): Promise<unknown> {
    const { stdout } = await this.run([
      "nix-instantiate",
      "--eval",
      "--strict",
      "--json",
      "--expr",
      expr,
    ], {
      context,
      hint,
    });
    return JSON.parse(stdout);
  }
}

/**
 * The error for a program that exists but could not be started, naming what
 * is in the way where it can be found: a working directory that cannot be
 * read, a directory on PATH that cannot be searched, or a program file that
 * is not executable.
 */
async function spawnFailure(program: string, e: Error, cwd?: string): Promise<FprofError> {
  const culprit = await blockedPlace(program, cwd);
  if (e instanceof Deno.errors.NotFound && culprit === null) {
    return new NixNotFoundError(program, { cause: e });
  }
  const reason = e instanceof Deno.errors.NotFound
    ? culprit!
    : e.message.replace(/^Failed to spawn '[^']*': /, "").replace(/^./, (c) => c.toLowerCase()) +
      (culprit ? `: ${culprit}` : "");
  return new FprofError(`cannot run '${program}': ${reason}`, {
    cause: e,
    ...(culprit ? { hint: "check the permissions there, or run fprof elsewhere" } : {}),
  });
}

async function blockedPlace(program: string, cwd?: string): Promise<string | null> {
  try {
    const dir = cwd ?? Deno.cwd();
    try {
      for await (const _ of Deno.readDir(dir)) break;
    } catch (e) {
      if (e instanceof Deno.errors.PermissionDenied) {
        return `the working directory '${dir}' cannot be read`;
      }
    }
  } catch {
    return "the working directory, which no longer exists";
  }
  for (const dir of (Deno.env.get("PATH") ?? "").split(":").filter((d) => d !== "")) {
    const file = join(dir, program);
    try {
      const info = await Deno.stat(file);
      if (info.isFile && (info.mode! & 0o111) === 0) return `'${file}' is not executable`;
      if (info.isFile) return null;
    } catch (e) {
      if (e instanceof Deno.errors.PermissionDenied) return `'${dir}' on PATH cannot be searched`;
    }
  }
  return null;
}

/**
 * Whether Nix's reason is about its own configuration: a line of nix.conf or
 * NIX_CONFIG it cannot parse, or an include it cannot find. Pure.
 */
export function isConfigReason(reason: string): boolean {
  return /configuration (line|setting)|included from .* not found/.test(reason);
}
