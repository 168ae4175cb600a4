/**
 * Test helper: a private Nix store and configuration under a temp dir, so
 * that tests can run the real Nix without touching the machine's store or the
 * network. Use it with `await using`; disposal deletes everything.
 *
 * @module
 */

const decoder = new TextDecoder();

/**
 * The `build-hook` line for a test store's nix.conf when the `nix` on PATH is
 * a tree that scripts/install-nix.sh unpacked; none for an installed Nix.
 * Nix 2.8 starts its build hook from the compiled-in
 * `/usr/libexec/nix/build-remote`, which only an installed nix-bin provides:
 * without it every build fails with "unexpected EOF reading a line". The
 * tree has its own hook (a link to its `nix`, which dispatches on the name).
 */
export function treeBuildHookLines(path = Deno.env.get("PATH") ?? ""): string[] {
  for (const dir of path.split(":")) {
    let real: string;
    try {
      real = Deno.realPathSync(`${dir || "."}/nix`);
    } catch {
      continue;
    }
    if (!real.endsWith("/usr/bin/nix")) return [];
    const hook = `${real.slice(0, -"/bin/nix".length)}/libexec/nix/build-remote`;
    try {
      return Deno.statSync(hook).isFile ? [`build-hook = ${hook}`] : [];
    } catch {
      return [];
    }
  }
  return [];
}

/** A throwaway Nix store with its own state, config and home. */
export class IsolatedNix implements AsyncDisposable {
  /** The store directory, e.g. `/tmp/fprof-store-xyz/store`. */
  readonly storeDir: string;
  /** The environment every command runs with (and nothing else). */
  readonly env: Record<string, string>;

  private constructor(readonly root: string) {
    this.storeDir = `${root}/store`;
    this.env = {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      NIX_STORE_DIR: this.storeDir,
      NIX_STATE_DIR: `${root}/state`,
      NIX_LOG_DIR: `${root}/log`,
      NIX_CONF_DIR: `${root}/conf`,
      HOME: `${root}/home`,
      XDG_CONFIG_HOME: `${root}/home/.config`,
      XDG_CACHE_HOME: `${root}/home/.cache`,
      XDG_DATA_HOME: `${root}/home/.local/share`,
      XDG_STATE_HOME: `${root}/home/.local/state`,
    };
  }

  /** Creates the temp dir, `nix.conf` and an empty global flake registry. */
  static async create(): Promise<IsolatedNix> {
    const root = await Deno.makeTempDir({ prefix: "fprof-store-" });
    // Builds run as a nixbld user when we are root; it must reach the store.
    await Deno.chmod(root, 0o755);
    const nix = new IsolatedNix(root);
    await Deno.mkdir(`${root}/conf`);
    await Deno.mkdir(`${root}/home`);
    await Deno.writeTextFile(
      `${root}/registry.json`,
      '{"version":2,"flakes":[]}',
    );
    await Deno.writeTextFile(
      `${root}/conf/nix.conf`,
      [
        "experimental-features = nix-command flakes",
        "sandbox = false",
        "substituters =",
        `flake-registry = ${root}/registry.json`,
        // As root, newer Nix builds as the nixbld users unless told not to,
        // and then refuses a build directory under a world-writable /tmp.
        "build-users-group =",
        ...treeBuildHookLines(),
        "",
      ].join("\n"),
    );
    return nix;
  }

  /** Runs a command; returns stdout, or throws with stderr on failure. */
  async run(program: string, ...args: string[]): Promise<string> {
    return decoder.decode(await this.runBytes(program, ...args));
  }

  /** Like {@link run}, for binary output. */
  async runBytes(program: string, ...args: string[]): Promise<Uint8Array> {
    const out = await new Deno.Command(program, {
      args,
      env: this.env,
      clearEnv: true,
      stdin: "null",
    }).output();
    if (out.code !== 0) {
      throw new Error(
        `${program} ${args.join(" ")}: exit ${out.code}\n${decoder.decode(out.stderr)}`,
      );
    }
    return out.stdout;
  }

  /** Runs a command expected to fail; returns its stderr. */
  async fail(program: string, ...args: string[]): Promise<string> {
    const out = await new Deno.Command(program, {
      args,
      env: this.env,
      clearEnv: true,
      stdin: "null",
    }).output();
    if (out.code === 0) {
      throw new Error(`${program} ${args.join(" ")}: succeeded unexpectedly`);
    }
    return decoder.decode(out.stderr);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    // Store paths are read-only; make them writable so that a non-root user
    // can delete them too.
    await new Deno.Command("chmod", { args: ["-R", "u+w", this.root] })
      .output();
    await Deno.remove(this.root, { recursive: true });
  }
}

/**
 * Adds a directory holding `bin/<name>` to the store and returns its path, a
 * stand-in for a package (no build needed).
 */
export async function addFakePackage(
  nix: IsolatedNix,
  name: string,
): Promise<string> {
  const dir = await Deno.makeTempDir({ dir: nix.root });
  await Deno.mkdir(`${dir}/${name}/bin`, { recursive: true });
  await Deno.writeTextFile(`${dir}/${name}/bin/${name}`, `${name}\n`);
  return (await nix.run(
    "nix-store",
    "--add-fixed",
    "--recursive",
    "sha256",
    `${dir}/${name}`,
  )).trim();
}
