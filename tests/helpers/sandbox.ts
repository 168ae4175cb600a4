/**
 * A throwaway Nix installation for integration tests: its own store, state,
 * configuration, `HOME` and XDG directories under one temporary directory, so
 * a test can build, switch and collect garbage without touching the host's
 * store or profiles, and without network.
 *
 * With `{ daemon: true }` it is a multi-user installation: a root `nix-daemon`
 * serves the store and commands run as an unprivileged user with
 * `NIX_REMOTE=daemon`, the way most people run Nix.
 *
 * What Nix 2.8 (Debian's nix-bin) does in a daemon sandbox, checked by
 * sandbox_test.ts:
 * - The daemon opens the store on the first connection. With an empty
 *   `build-users-group` it leaves the store directory `0755 root:root`
 *   (only with a build group does it make it `1775 root:<group>`); store
 *   paths belong to root and clients only read them.
 * - On each user's first connection it makes `profiles/per-user/<user>` and
 *   `gcroots/per-user/<user>`, owned by that user, mode 0755
 *   (`LocalStore::createUser`).
 * - `nix-env --set` registers the generation as an indirect root in
 *   `gcroots/auto`, through the daemon, so that link belongs to root.
 * - An untrusted client may run `nix-store --gc`, and it collects everyone's
 *   garbage. It may `nix copy --from file://…` a content-addressed path (such
 *   as one from `nix-store --add`), but an input-addressed one fails with
 *   "lacks a valid signature".
 * - `nix store ping` prints `Store URL: daemon` on stderr, not stdout.
 *
 * @example
 * ```ts ignore
 * import { makeNixSandbox } from "./sandbox.ts";
 * await using nix = await makeNixSandbox();
 * const { stderr } = await nix.runOk(["nix", "store", "ping"]);
 * ```
 *
 * @module
 */

import { userInfo } from "node:os";
import { join } from "node:path";
import { defaultProfileFor } from "../../lib/profile/profile.ts";
import { testNix } from "./nix_version.ts";
import { treeBuildHookLines } from "../../manifest/testdata/isolated_nix.ts";

/** What a finished command left behind. */
export interface RunResult {
  /** The exit code; Deno reports death by a signal as `128 + signal`. */
  code: number;
  /** Standard output, decoded as UTF-8. */
  stdout: string;
  /** Standard error, decoded as UTF-8; Nix's progress and errors go here. */
  stderr: string;
}

/** Options of {@link NixSandbox.run}. */
export interface RunOptions {
  /** The working directory; the test's own by default. */
  cwd?: string;
  /** Variables added to (or overriding) {@link NixSandbox.env}. */
  env?: Record<string, string>;
  /** Text fed to standard input; without it, stdin is `/dev/null`. */
  stdin?: string;
  /**
   * The user to run as; {@link NixSandbox.user} by default. Any other user
   * gets a `HOME` and XDG directories of its own under `<root>/home/<user>`,
   * as on a real machine, so that it cannot leave files there that the
   * client user then cannot write (Nix's caches under `~/.cache/nix`, say).
   * In daemon mode `root` still talks to the daemon, as a trusted user; pass
   * `env: { NIX_REMOTE: "local" }` to open the store directly.
   */
  user?: string;
}

/** An isolated Nix store with the environment to use it. Dispose of it when done. */
export interface NixSandbox extends AsyncDisposable {
  /** The temporary directory everything lives under. */
  root: string;
  /** `NIX_STORE_DIR`: the store, in place of `/nix/store`. */
  storeDir: string;
  /** `NIX_STATE_DIR`: database, profiles and GC roots, in place of `/nix/var/nix`. */
  stateDir: string;
  /** `NIX_LOG_DIR`: build logs. */
  logDir: string;
  /** `NIX_CONF_DIR`: holds the sandbox's `nix.conf`. */
  confDir: string;
  /** `HOME` of {@link user}. */
  home: string;
  /** `XDG_CONFIG_HOME` of {@link user} (`~/.config`). */
  xdgConfig: string;
  /** `XDG_STATE_HOME` of {@link user} (`~/.local/state`). */
  xdgState: string;
  /** `XDG_DATA_HOME` of {@link user} (`~/.local/share`). */
  xdgData: string;
  /** `XDG_CACHE_HOME` of {@link user} (`~/.cache`). */
  xdgCache: string;
  /** `TMPDIR` of every process in the sandbox, the daemon's builds included. */
  tmp: string;
  /**
   * A scratch directory for fixture flakes and other inputs. It belongs to
   * {@link user}, but files a test writes there belong to the test process;
   * see {@link handOver}.
   */
  work: string;
  /**
   * The complete environment of child processes: the inherited one without
   * any `NIX_*` or `XDG_*` variable, plus the sandbox's `NIX_*`, `HOME`,
   * `XDG_*`, `USER`, `LOGNAME` and `TMPDIR`, and `NIX_REMOTE=daemon` in
   * daemon mode. `DENO_DIR` is set to the host's Deno cache when it was not
   * set, so that `deno` in the sandbox need not fetch modules again (an
   * unprivileged user may not be able to read it, though).
   */
  env: Record<string, string>;
  /** The Nix system of this machine, such as `"x86_64-linux"`. */
  system: string;
  /** The user commands run as: the test's own, or {@link DAEMON_CLIENT_USER}. */
  user: string;
  /** Whether a `nix-daemon` serves the store. */
  daemon: boolean;
  /** `<stateDir>/profiles/per-user/<user>/profile`; its directory exists. */
  profile: string;
  /**
   * The profile the running Nix makes for {@link user} when there is no
   * `~/.nix-profile` yet, which depends on its version: {@link profile}
   * for an ordinary user of Nix before 2.14, `~/.local/state/nix/profiles/profile`
   * since; root's `profiles/default` before 2.14, its per-user profile since.
   */
  defaultProfile: string;
  /** Runs `argv` in the sandbox's environment and collects its output. */
  run(argv: string[], opts?: RunOptions): Promise<RunResult>;
  /** Like {@link run}, but throws a {@link SandboxCommandError} when the command fails. */
  runOk(argv: string[], opts?: RunOptions): Promise<RunResult>;
  /**
   * Makes `path` and everything below it belong to {@link user}, so that Nix
   * running as that user can write there (a `flake.lock` next to a fixture
   * flake with inputs, say). Does nothing when {@link user} is the test's own.
   */
  handOver(path: string): Promise<void>;
}

/** Options of {@link makeNixSandbox}. */
export interface NixSandboxOptions {
  /**
   * Serve the store with a root `nix-daemon` and run commands as the
   * unprivileged {@link DAEMON_CLIENT_USER}. Needs root; see
   * {@link daemonUnavailable}.
   */
  daemon?: boolean;
  /**
   * Without a daemon, run commands as the unprivileged
   * {@link DAEMON_CLIENT_USER}, who owns the whole store: a single-user
   * installation of an ordinary user. Needs root; see
   * {@link singleUserUnavailable}.
   */
  singleUser?: boolean;
}

/** A command run by {@link NixSandbox.runOk} failed. */
export class SandboxCommandError extends Error {
  /** The command. */
  readonly argv: readonly string[];
  /** What it printed, and its exit code. */
  readonly result: RunResult;

  constructor(argv: readonly string[], result: RunResult) {
    super(
      `Command failed with exit code ${result.code}: ${argv.join(" ")}\n${tail(result.stderr)}`,
    );
    this.name = "SandboxCommandError";
    this.argv = argv;
    this.result = result;
  }
}

/** The unprivileged user that daemon sandboxes run commands as, created on first use. */
export const DAEMON_CLIENT_USER = "fprof-test";

/**
 * Why daemon sandboxes cannot work here, or `undefined` when they can. Meant
 * for `Deno.test({ ignore: daemonUnavailable() !== undefined, … })`.
 *
 * @example
 * ```ts ignore
 * import { daemonUnavailable } from "./sandbox.ts";
 * Deno.test({ name: "…", ignore: daemonUnavailable() !== undefined, fn() {} });
 * ```
 */
export function daemonUnavailable(): string | undefined {
  // The daemon must own the store and switch to the client's uid, and
  // making the client user takes root too.
  if (Deno.uid() !== 0) return "daemon sandboxes need root";
  if (!findProgram("nix-daemon")) return "nix-daemon is not installed";
  if (!findProgram("setpriv")) return "setpriv is not installed";
  if (!findProgram("getent")) return "getent is not installed";
  if (!userExists(DAEMON_CLIENT_USER) && !findProgram("useradd")) {
    return `user '${DAEMON_CLIENT_USER}' does not exist and useradd is not installed`;
  }
  return undefined;
}

/**
 * Why single-user sandboxes of an ordinary user cannot work here, or
 * `undefined` when they can.
 */
export function singleUserUnavailable(): string | undefined {
  if (Deno.uid() !== 0) return "making the store an ordinary user's needs root";
  if (!findProgram("setpriv")) return "setpriv is not installed";
  if (!findProgram("getent")) return "getent is not installed";
  if (!userExists(DAEMON_CLIENT_USER) && !findProgram("useradd")) {
    return `user '${DAEMON_CLIENT_USER}' does not exist and useradd is not installed`;
  }
  return undefined;
}

/**
 * Creates a sandbox. Use it with `await using`, so that it is disposed of even
 * when the test fails: disposal stops the daemon and removes every file. Set
 * `FPROF_KEEP_SANDBOX=1` to keep the files for a post-mortem. The sandbox
 * lives under `$TMPDIR`; a tmpfs such as `/dev/shm` makes big stores faster.
 *
 * @example
 * ```ts ignore
 * import { makeNixSandbox } from "./sandbox.ts";
 * await using nix = await makeNixSandbox({ daemon: true });
 * await nix.runOk(["nix-env", "-p", nix.profile, "--set", "/some/store/path"]);
 * ```
 */
export async function makeNixSandbox(
  opts: NixSandboxOptions = {},
): Promise<NixSandbox> {
  const daemon = opts.daemon ?? false;
  if (daemon) {
    const reason = daemonUnavailable();
    if (reason) throw new Error(`Cannot make a daemon sandbox: ${reason}`);
  }
  const singleUser = !daemon && (opts.singleUser ?? false);
  if (singleUser) {
    const reason = singleUserUnavailable();
    if (reason) throw new Error(`Cannot make a single-user sandbox: ${reason}`);
  }
  const me = userInfo().username;
  const client = daemon || singleUser ? await ensureUser(DAEMON_CLIENT_USER) : undefined;
  const user = client?.name ?? me;

  // A real path: Nix refuses a store whose path goes through a symlink.
  const root = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "fprof-nix-" }),
  );
  let nixDaemon: RunningDaemon | undefined;
  try {
    const layout = await makeLayout(root, user, client);
    if (singleUser) await ownStore(layout, client!);
    const homes = new Homes(root);
    const clientHome = await homes.of(user, client);
    const env: Record<string, string> = {
      ...layout.env,
      ...clientHome.env,
      ...(daemon ? { NIX_REMOTE: "daemon" } : {}),
    };
    if (client && env.PATH) env.PATH = await searchablePath(client, env.PATH);
    if (daemon) {
      nixDaemon = await startDaemon(
        { ...layout.env, ...(await homes.of("nix-daemon")).env },
        join(root, "nix-daemon.log"),
        layout.socket,
      );
    }
    const runner = new Runner(me, env, homes, root);
    const daemonToStop = nixDaemon;
    const sandbox: NixSandbox = {
      root,
      storeDir: layout.storeDir,
      stateDir: layout.stateDir,
      logDir: layout.logDir,
      confDir: layout.confDir,
      tmp: layout.tmp,
      work: layout.work,
      home: clientHome.home,
      xdgConfig: clientHome.env.XDG_CONFIG_HOME,
      xdgState: clientHome.env.XDG_STATE_HOME,
      xdgData: clientHome.env.XDG_DATA_HOME,
      xdgCache: clientHome.env.XDG_CACHE_HOME,
      env,
      system: nixSystem(),
      user,
      daemon,
      profile: layout.profile,
      defaultProfile: defaultProfileFor(testNix(), {
        env: new Map(Object.entries(clientHome.env)),
        stateDir: layout.stateDir,
        uid: client?.uid ?? Deno.uid() ?? 0,
        user,
      }),
      run: (argv, o) => runner.run(argv, { user, ...o }),
      runOk: async (argv, o) => {
        const result = await runner.run(argv, { user, ...o });
        if (result.code !== 0) throw new SandboxCommandError(argv, result);
        return result;
      },
      handOver: async (path) => {
        if (!client) return;
        const argv = ["chown", "-R", `${client.uid}:${client.gid}`, path];
        const res = await runProcess(argv);
        if (res.code !== 0) throw new SandboxCommandError(argv, res);
      },
      [Symbol.asyncDispose]: async () => {
        await daemonToStop?.stop();
        if (Deno.env.get("FPROF_KEEP_SANDBOX")) {
          console.error(`fprof: keeping the Nix sandbox at ${root}`);
          return;
        }
        await removeTree(root);
      },
    };
    if (nixDaemon) await checkDaemon(sandbox, nixDaemon);
    return sandbox;
  } catch (e) {
    await nixDaemon?.stop();
    await removeTree(root);
    throw e;
  }
}

interface Layout {
  storeDir: string;
  stateDir: string;
  logDir: string;
  confDir: string;
  tmp: string;
  work: string;
  profile: string;
  socket: string;
  /** The environment every user and the daemon share. */
  env: Record<string, string>;
}

/** Makes the directories and configuration shared by all users. */
async function makeLayout(
  root: string,
  user: string,
  client: Account | undefined,
): Promise<Layout> {
  const etc = join(root, "etc");
  const layout = {
    storeDir: join(root, "store"),
    stateDir: join(root, "state"),
    logDir: join(root, "log"),
    confDir: join(etc, "nix"),
    tmp: join(root, "tmp"),
    work: join(root, "work"),
    profile: join(root, "state", "profiles", "per-user", user, "profile"),
    // Where Nix puts it, given NIX_STATE_DIR.
    socket: join(root, "state", "daemon-socket", "socket"),
  };
  // It must fit in a sockaddr_un (108 bytes).
  if (client && layout.socket.length > 100) {
    throw new Error(
      `Cannot make a daemon sandbox: socket path '${layout.socket}' is too long; set TMPDIR to a shorter directory`,
    );
  }
  // The client user must be able to reach everything below; makeTempDir
  // made it 0700.
  await Deno.chmod(root, 0o755);
  const xdgConfigDirs = join(etc, "xdg");
  for (const dir of [layout.logDir, layout.confDir, xdgConfigDirs, layout.work]) {
    await Deno.mkdir(dir, { recursive: true });
  }
  // Shared by every user, like /tmp.
  await Deno.mkdir(layout.tmp);
  await Deno.chmod(layout.tmp, 0o1777);
  const registry = join(etc, "global-registry.json");
  await Deno.writeTextFile(registry, JSON.stringify({ version: 2, flakes: [] }) + "\n");
  await Deno.writeTextFile(join(layout.confDir, "nix.conf"), nixConf(registry));
  // Made now so that tests can rely on it; the daemon would make it on the
  // client's first connection too.
  const profileDir = join(layout.profile, "..");
  await Deno.mkdir(profileDir, { recursive: true });
  if (client) {
    await Deno.chown(profileDir, client.uid, client.gid);
    await Deno.chown(layout.work, client.uid, client.gid);
  }
  const env = {
    ...inheritedEnv(),
    NIX_STORE_DIR: layout.storeDir,
    NIX_STATE_DIR: layout.stateDir,
    NIX_LOG_DIR: layout.logDir,
    NIX_CONF_DIR: layout.confDir,
    // Nix also reads nix.conf from each of these; the host's /etc/xdg must
    // not add settings.
    XDG_CONFIG_DIRS: xdgConfigDirs,
    // Builds happen here, and Nix 2.8's `nix profile` leaves temporary
    // directories behind; disposal removes them with the rest.
    TMPDIR: layout.tmp,
  };
  return { ...layout, env };
}

/**
 * Gives the store, the state and the logs to `owner`, as a single-user
 * installation of an ordinary user has them; Nix makes what is missing
 * below them as that user.
 */
async function ownStore(layout: Layout, owner: Account): Promise<void> {
  for (const dir of [layout.storeDir, layout.stateDir, layout.logDir]) {
    await Deno.mkdir(dir, { recursive: true });
  }
  for (const dir of [layout.storeDir, layout.stateDir, layout.logDir]) {
    const argv = ["chown", "-R", `${owner.uid}:${owner.gid}`, dir];
    const res = await runProcess(argv);
    if (res.code !== 0) throw new SandboxCommandError(argv, res);
  }
}

/** `nix.conf` for an offline, isolated store. */
function nixConf(registry: string): string {
  return [
    "experimental-features = nix-command flakes",
    // The build sandbox would need a Nix-built /bin/sh; fixtures use the host's.
    "sandbox = false",
    // No network: never ask cache.nixos.org.
    "substituters =",
    // Resolving any flake reference loads the global registry, by default
    // from the internet; Nix 2.8 rejects an empty value, so point at a file.
    `flake-registry = ${registry}`,
    // Fixture flakes are path: flakes, but a test may well use git ones.
    "warn-dirty = false",
    // As root, Nix would build as the host's nixbld users (Debian's nix-bin
    // makes ten), if the host has them at all; they cannot enter a 0700
    // temporary directory ("mkdir: Permission denied" from the builder).
    // Build as the caller, or as root under the daemon.
    "build-users-group =",
    // An unpacked Nix 2.8 finds its build hook only when told where.
    ...treeBuildHookLines(),
    "",
  ].join("\n");
}

/**
 * The inherited environment without what would point Nix at the host's
 * installation: every `NIX_*` (`NIX_REMOTE`, `NIX_PATH`, `NIX_CONFIG`,
 * `NIX_USER_CONF_FILES`, `NIX_PROFILES`, …) and `XDG_*` variable, `HOME`,
 * `USER` and `LOGNAME`.
 */
function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    if (/^_?NIX_|^XDG_|^(HOME|USER|LOGNAME|TMPDIR)$/.test(k)) continue;
    env[k] = v;
  }
  // HOME moves into the sandbox, which would make `deno` inside it start
  // from an empty cache and fetch fprof's npm dependencies again.
  if (!env.DENO_DIR) {
    const cache = Deno.env.get("XDG_CACHE_HOME") ??
      join(Deno.env.get("HOME") ?? "/", ".cache");
    if (isDirectory(join(cache, "deno"))) env.DENO_DIR = join(cache, "deno");
  }
  return env;
}

/** The Nix system name of this machine. */
function nixSystem(): string {
  return `${Deno.build.arch}-${Deno.build.os}`;
}

/** A user account: its name and ids. */
export interface Account {
  name: string;
  uid: number;
  gid: number;
}

interface Home {
  home: string;
  env: {
    HOME: string;
    USER: string;
    LOGNAME: string;
    XDG_CONFIG_HOME: string;
    XDG_STATE_HOME: string;
    XDG_DATA_HOME: string;
    XDG_CACHE_HOME: string;
  };
}

/** `<root>/home/<name>` with the usual XDG layout, made on first use. */
class Homes {
  #root: string;
  #made = new Map<string, Promise<Home>>();

  constructor(root: string) {
    this.#root = root;
  }

  /** The home of `name`; `owner` gets it when given. */
  of(name: string, owner?: Account): Promise<Home> {
    let home = this.#made.get(name);
    if (!home) {
      home = this.#make(name, owner);
      this.#made.set(name, home);
    }
    return home;
  }

  async #make(name: string, owner?: Account): Promise<Home> {
    const home = join(this.#root, "home", name);
    const env = {
      HOME: home,
      USER: name,
      LOGNAME: name,
      XDG_CONFIG_HOME: join(home, ".config"),
      XDG_STATE_HOME: join(home, ".local", "state"),
      XDG_DATA_HOME: join(home, ".local", "share"),
      XDG_CACHE_HOME: join(home, ".cache"),
    };
    const dirs = [
      home,
      join(home, ".local"),
      env.XDG_CONFIG_HOME,
      env.XDG_STATE_HOME,
      env.XDG_DATA_HOME,
      env.XDG_CACHE_HOME,
    ];
    for (const dir of dirs) {
      await Deno.mkdir(dir, { recursive: true });
      if (owner) await Deno.chown(dir, owner.uid, owner.gid);
    }
    return { home, env };
  }
}

/** Starts the sandbox's processes, switching user with setpriv when asked. */
class Runner {
  #me: string;
  #env: Record<string, string>;
  #homes: Homes;
  #root: string;

  /**
   * @param me the user this process runs as
   * @param env the environment of the sandbox's client user
   * @param root the sandbox's directory, readable by every user
   */
  constructor(me: string, env: Record<string, string>, homes: Homes, root: string) {
    this.#me = me;
    this.#env = env;
    this.#homes = homes;
    this.#root = root;
  }

  async run(argv: string[], opts: RunOptions & { user: string }): Promise<RunResult> {
    if (argv.length === 0) throw new Error("Cannot run an empty argv");
    let account: Account | undefined;
    if (opts.user !== this.#me) {
      account = await lookupUser(opts.user);
      if (!account) throw new Error(`Cannot run as '${opts.user}': no such user`);
    }
    // Another user must not share the client's HOME: files it made there
    // (Nix's eval cache, say) would be unwritable for the client afterwards.
    const env = opts.user === this.#env.USER
      ? this.#env
      : { ...this.#env, ...(await this.#homes.of(opts.user, account)).env };
    // setpriv (util-linux) switches uid and gid and execs: unlike runuser or
    // su it opens no PAM session and keeps the environment it is given.
    const full = account
      ? [
        findProgram("setpriv") ?? "setpriv",
        `--reuid=${account.uid}`,
        `--regid=${account.gid}`,
        "--init-groups",
        "--",
        ...argv,
      ]
      : argv;
    return await runProcess(full, {
      // Another user may not be able to enter the test's own directory (a
      // checkout under a 0700 home, say), and then even spawning `nix`
      // from there fails with "Permission denied".
      cwd: opts.cwd ?? (account ? this.#root : undefined),
      env: { ...env, ...opts.env },
      stdin: opts.stdin,
    });
  }
}

interface RunningDaemon {
  stop(): Promise<void>;
  log(): Promise<string>;
}

/**
 * Starts `nix-daemon` as the current user (root) and waits for its socket.
 * Its output goes to `logFile`; `env` should give it a HOME of its own, so
 * that the files it makes as root never land in the client's.
 */
async function startDaemon(
  env: Record<string, string>,
  logFile: string,
  socket: string,
): Promise<RunningDaemon> {
  // `exec` keeps the PID, so the PID we hold is the daemon's own; the shell
  // is there only to send its output to a file that outlives the pipes.
  const child = new Deno.Command("/bin/sh", {
    args: ["-c", 'exec "$0" >"$1" 2>&1', findProgram("nix-daemon") ?? "nix-daemon", logFile],
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const log = async () => {
    const text = await Deno.readTextFile(logFile).catch(() => "");
    return text.trim() === "" ? "(nix-daemon printed nothing)" : text;
  };
  const stop = async () => {
    if (exited) return;
    // Only the process we started, by its PID.
    child.kill("SIGTERM");
    const stopped = await new Promise<boolean>((resolve) => {
      // Cleared on exit, or Deno's test sanitizer reports a leaked timer.
      const timer = setTimeout(() => resolve(false), 5000);
      status.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!stopped) {
      child.kill("SIGKILL");
      await status;
    }
  };

  const deadline = Date.now() + 10_000;
  while (!exists(socket)) {
    if (exited) {
      const s = await status;
      throw new Error(`Cannot start nix-daemon: it exited with code ${s.code}\n${await log()}`);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `Cannot start nix-daemon: no socket at '${socket}' after 10 s\n${await log()}`,
      );
    }
    await delay(20);
  }
  return { stop, log };
}

/**
 * Proves that the client reaches the sandbox's daemon, and not a local store,
 * before any test relies on it.
 */
async function checkDaemon(sandbox: NixSandbox, daemon: RunningDaemon): Promise<void> {
  const ping = await sandbox.run(["nix", "store", "ping"]);
  if (ping.code !== 0 || !ping.stderr.includes("Store URL: daemon")) {
    throw new Error(
      `Cannot reach the sandbox's nix-daemon as '${sandbox.user}': ${
        tail(ping.stderr + ping.stdout)
      }\n${await daemon.log()}`,
    );
  }
}

/** Options of {@link ensureUser}. */
export interface EnsureUserOptions {
  /** The passwd home directory; `/nonexistent` by default (sandboxes give each their own `HOME`). */
  home?: string;
  /** The login shell; `/usr/sbin/nologin` by default. */
  shell?: string;
  /** The password field; useradd's locked `!` by default. */
  password?: string;
}

/**
 * The account `name`, created with useradd when missing. Concurrent test
 * files may race to create it, so a failed useradd is fine as long as the
 * user exists afterwards.
 */
export async function ensureUser(name: string, opts: EnsureUserOptions = {}): Promise<Account> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const found = await lookupUser(name);
    if (found) return found;
    // No home directory: each sandbox gives it one.
    const add = await runProcess([
      findProgram("useradd") ?? "useradd",
      "--no-create-home",
      "--home-dir",
      opts.home ?? "/nonexistent",
      "--shell",
      opts.shell ?? "/usr/sbin/nologin",
      ...(opts.password === undefined ? [] : ["--password", opts.password]),
      "--user-group",
      "--no-log-init",
      "--comment",
      "fprof integration tests",
      name,
    ]);
    if (add.code === 0) continue;
    // 9: it exists (another test file won); 10: /etc/passwd is locked.
    if (add.code !== 9 && add.code !== 10) {
      throw new Error(
        `Cannot create user '${name}': useradd exited with code ${add.code}: ${tail(add.stderr)}`,
      );
    }
    await delay(100);
  }
  throw new Error(`Cannot create user '${name}': it still does not exist`);
}

/** The account `name`, if it exists. */
export async function lookupUser(name: string): Promise<Account | undefined> {
  const res = await runProcess(["getent", "passwd", name]);
  if (res.code !== 0) return undefined;
  const fields = res.stdout.trim().split(":");
  return { name, uid: Number(fields[2]), gid: Number(fields[3]) };
}

function userExists(name: string): boolean {
  return new Deno.Command("getent", {
    args: ["passwd", name],
    stdout: "null",
    stderr: "null",
  }).outputSync().success;
}

/**
 * The entries of `path` that `account` may search. Nix 2.26 and later stop
 * at the first entry it cannot enter when they look for `ssh` ("filesystem
 * error: status: Permission denied [/root/.cargo/bin/ssh]"), and the test's
 * PATH may well start in root's home.
 */
async function searchablePath(account: Account, path: string): Promise<string> {
  const argv = [
    findProgram("setpriv") ?? "setpriv",
    `--reuid=${account.uid}`,
    `--regid=${account.gid}`,
    "--init-groups",
    "--",
    "/bin/sh",
    "-c",
    'IFS=:; for d in $1; do if [ -d "$d" ] && [ -x "$d" ]; then printf "%s\\n" "$d"; fi; done',
    "sh",
    path,
  ];
  const res = await runProcess(argv);
  if (res.code !== 0) throw new SandboxCommandError(argv, res);
  return res.stdout.trim().split("\n").filter((d) => d !== "").join(":");
}

/** Removes a tree that Nix made read-only. */
export async function removeTree(path: string): Promise<void> {
  // Store paths are read-only directories, whose entries cannot be unlinked.
  // chmod -R does not follow the symlinks it meets, so nothing outside the
  // tree is touched.
  await runProcess(["chmod", "-R", "u+w", path]);
  await Deno.remove(path, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}

/**
 * Runs `argv` to completion. With `env`, the child gets exactly that
 * environment; without it, this process's.
 */
export async function runProcess(
  argv: string[],
  opts: { cwd?: string; env?: Record<string, string>; stdin?: string } = {},
): Promise<RunResult> {
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: opts.cwd,
    env: opts.env,
    clearEnv: opts.env !== undefined,
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (opts.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(opts.stdin));
    await writer.close();
  }
  const out = await child.output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/** The absolute path of `name` on PATH or in the usual directories, if any. */
export function findProgram(name: string): string | undefined {
  const path = (Deno.env.get("PATH") ?? "").split(":");
  for (const dir of [...path, "/usr/sbin", "/sbin", "/usr/bin", "/bin"]) {
    if (dir === "") continue;
    const file = join(dir, name);
    try {
      const info = Deno.statSync(file);
      if (info.isFile && ((info.mode ?? 0) & 0o111) !== 0) return file;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

/** Whether anything (even a dangling link) is at `path`; synchronous. */
export function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The last lines of a command's output, enough to see why it failed. */
export function tail(text: string, lines = 20): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}
