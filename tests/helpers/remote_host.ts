/**
 * Other machines for integration tests, on this one: each "host" is an
 * OpenSSH server on a loopback port, in a mount and UTS namespace of its own,
 * with a login user whose Nix store is separate from the test's.
 *
 * - `uname -n` over ssh prints the host's name.
 * - Its store lives under the host's own directory but is bind-mounted, in
 *   its namespace only, on the same logical store directory as the local
 *   sandbox's (`sb.storeDir`), so that `nix copy --to ssh-ng://<name>` works
 *   between them, and what the host sees is only its own files.
 * - Its login user owns that store (a single-user installation), or, with
 *   `daemon: true`, a root `nix-daemon` in the same namespace serves it and
 *   the login user is an untrusted client (`NIX_REMOTE=daemon`).
 * - The client side is an ssh config file with one alias per host, strict
 *   host key checking against a known_hosts file filled in advance, and a
 *   key of its own; {@link Fleet.env} (`NIX_SSHOPTS=-F <config>`) points Nix
 *   and fprof at it.
 * - `<name>-flaky` reaches the same host through cut_relay.ts, which drops
 *   the connection after a number of bytes set with {@link Fleet.cutAfter}
 *   and counts what each connection relayed ({@link Fleet.relayedBytes}).
 *
 * What the login user's `nix-daemon --stdio` (ssh-ng) trusts, checked on Nix
 * 2.8.0, 2.26.3 and 2.34.8 by remote_host_test.ts: as the owner of the store
 * it is trusted, so `nix copy --no-check-sigs` of an unsigned input-addressed
 * path works (and fails without the flag while `require-sigs` holds); as a
 * daemon client it is not, and the path needs a signature by a key in the
 * host's `trusted-public-keys` (or `require-sigs = false` there), whatever
 * the flag. Nix says "lacks a valid signature" up to 2.2x and "lacks a
 * signature by a trusted key" from 2.26.
 *
 * The login user's environment comes from sshd's `SetEnv`, and its passwd
 * home is `/`, so that test files running at once can each start a host of
 * the same name (the same user) with a `HOME` of its own.
 *
 * Needs root: see {@link remoteHostsUnavailable}.
 *
 * @example
 * ```ts ignore
 * import { makeNixSandbox } from "./sandbox.ts";
 * import { makeRemoteHosts } from "./remote_host.ts";
 * await using sb = await makeNixSandbox();
 * await using fleet = await makeRemoteHosts(sb, [{ name: "lab-a" }, { name: "lab-b", daemon: true }]);
 * await sb.runOk(["nix", "copy", "--no-check-sigs", "--to", "ssh-ng://lab-a", path], { env: fleet.env });
 * const { stdout } = await fleet.hosts[0].runOk(["nix-env", "-q"]);
 * ```
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defaultProfileFor } from "../../lib/profile/profile.ts";
import { treeBuildHookLines } from "../../manifest/testdata/isolated_nix.ts";
import { type NixVersion, parseNixVersion } from "../../lib/nix/nix.ts";
import {
  delay,
  ensureUser,
  exists,
  findProgram,
  lookupUser,
  type NixSandbox,
  removeTree,
  runProcess,
  type RunResult,
  SandboxCommandError,
  tail,
} from "./sandbox.ts";

/** One host of {@link makeRemoteHosts}. */
export interface RemoteHostSpec {
  /**
   * The ssh alias and the host name `uname -n` reports there, such as
   * `"lab-a"`: lower case letters, digits and dashes.
   */
  name: string;
  /**
   * The directory of the Nix on the host's `PATH` (its `nix`, `nix-env`,
   * `nix-daemon`…); by default the one on the test's own `PATH`.
   */
  nixBin?: string;
  /**
   * Serve the host's store with a root `nix-daemon` started in the host's
   * namespace; the login user then talks to it with `NIX_REMOTE=daemon` and
   * is not trusted.
   */
  daemon?: boolean;
  /** The host's `trusted-public-keys`; Nix's default when not given. */
  trustedPublicKeys?: string[];
  /** The host's `require-sigs`; Nix's default (true) when not given. */
  requireSigs?: boolean;
  /**
   * Other hosts of the fleet this one can ssh to, under their names, with
   * the fleet's key and strict host keys (a build host that copies to
   * targets itself): its login environment gets `NIX_SSHOPTS=-F <its own
   * ssh config>`.
   */
  reaches?: string[];
}

/** Options of {@link RemoteHost.run}. */
export interface RemoteRunOptions {
  /** Text fed to the remote command's standard input. */
  stdin?: string;
}

/** A running host of a {@link Fleet}. */
export interface RemoteHost {
  /** The ssh alias and host name. */
  name: string;
  /** The login user, `fprofh-<name>`. */
  user: string;
  /** Its uid on this machine. */
  uid: number;
  /** The directory everything of this host lives under. */
  root: string;
  /** `NIX_STORE_DIR` on the host: the sandbox's `storeDir`, as everywhere. */
  storeDir: string;
  /** Where the host's store really is; in its namespace it is mounted on {@link storeDir}. */
  realStore: string;
  /** `NIX_STATE_DIR` on the host. */
  stateDir: string;
  /** `NIX_LOG_DIR` on the host. */
  logDir: string;
  /** `NIX_CONF_DIR` on the host, holding its `nix.conf`. */
  confDir: string;
  /** `HOME` of the login user. */
  home: string;
  /** The directory of the host's Nix. */
  nixBin: string;
  /** The host's Nix version. */
  nixVersion: NixVersion;
  /** Whether a root `nix-daemon` serves the store. */
  daemon: boolean;
  /** The loopback port of its sshd. */
  port: number;
  /**
   * The profile the host's Nix makes for the login user when there is no
   * `~/.nix-profile`, which depends on that Nix's version.
   */
  defaultProfile: string;
  /**
   * Runs `argv` on the host, over ssh: as its login user, in its namespace,
   * with its environment. Each argument is quoted for the remote shell.
   */
  run(argv: string[], opts?: RemoteRunOptions): Promise<RunResult>;
  /** Like {@link run}, but throws a {@link SandboxCommandError} when the command fails. */
  runOk(argv: string[], opts?: RemoteRunOptions): Promise<RunResult>;
}

/** Hosts started by {@link makeRemoteHosts}. Dispose of it to stop them. */
export interface Fleet extends AsyncDisposable {
  /** The directory of the fleet's files. */
  root: string;
  /** The ssh config file with one alias per host, and `<name>-flaky`. */
  sshConfig: string;
  /** `NIX_SSHOPTS=-F <sshConfig>`, to merge into the environment of Nix and fprof. */
  env: Record<string, string>;
  /** The hosts, in the order of the specs. */
  hosts: RemoteHost[];
  /** The host named `name`; throws when there is none. */
  host(name: string): RemoteHost;
  /**
   * Starts a new budget for `<host>-flaky`: its connections from now on are
   * cut once they have relayed `bytes` bytes between them (both directions
   * together; each connection starts with what the ones before it left), and
   * {@link relayedBytes} counts from zero again. `null` sets no limit: use it
   * to measure what a whole operation takes, then cut at fractions of that.
   */
  cutAfter(host: string, bytes: number | null): Promise<void>;
  /**
   * The bytes relayed by each connection through `<host>-flaky` since the
   * last {@link cutAfter}, in the order they started; a connection still
   * open counts what it relayed up to now.
   */
  relayedBytes(host: string): Promise<number[]>;
}

/**
 * Why remote hosts cannot work here, or `undefined` when they can. Meant for
 * `Deno.test({ ignore: remoteHostsUnavailable() !== undefined, … })`.
 */
export function remoteHostsUnavailable(): string | undefined {
  // Namespaces, bind mounts, sshd and making users all take root.
  if (Deno.uid() !== 0) return "remote hosts need root";
  for (
    const program of [
      "sshd",
      "ssh",
      "ssh-keygen",
      "unshare",
      "nsenter",
      "mount",
      "hostname",
      "useradd",
      "getent",
    ]
  ) {
    if (!findProgram(program)) {
      return `${program} is not installed${
        program === "sshd" ? " (scripts/ensure-sshd.sh installs it)" : ""
      }`;
    }
  }
  if (!findProgram("nix")) return "nix is not on PATH";
  return undefined;
}

/** A signing key pair made with the sandbox's Nix: the secret in `file`. */
export async function makeSigningKey(
  sb: NixSandbox,
): Promise<{ file: string; secret: string; publicKey: string }> {
  const file = join(sb.work, "signing.sec");
  const made = await sb.runOk(["nix", "key", "generate-secret", "--key-name", "fprof-test-1"]);
  await Deno.writeTextFile(file, made.stdout);
  const pub = await sb.runOk(["nix", "key", "convert-secret-to-public"], { stdin: made.stdout });
  return { file, secret: made.stdout.trim(), publicKey: pub.stdout.trim() };
}

const RELAY = fileURLToPath(new URL("./cut_relay.ts", import.meta.url));

/**
 * Starts one host per spec, in parallel, and checks that each answers over
 * ssh with its own name. Use it with `await using`, after the sandbox, so
 * that it is disposed of first: disposal stops every sshd and nix-daemon it
 * started, by PID, and removes its files (`FPROF_KEEP_SANDBOX=1` keeps them).
 */
export async function makeRemoteHosts(
  sb: NixSandbox,
  specs: RemoteHostSpec[],
): Promise<Fleet> {
  const reason = remoteHostsUnavailable();
  if (reason) throw new Error(`Cannot make remote hosts: ${reason}`);
  const names = new Set<string>();
  for (const spec of specs) {
    if (!/^[a-z][a-z0-9-]{0,22}[a-z0-9]$/.test(spec.name) || spec.name.endsWith("-flaky")) {
      throw new Error(`Cannot make remote host '${spec.name}': not a usable host name`);
    }
    if (names.has(spec.name)) throw new Error(`Cannot make remote host '${spec.name}' twice`);
    names.add(spec.name);
  }
  const client = await lookupUser(sb.user);
  if (!client) throw new Error(`Cannot make remote hosts: no user '${sb.user}'`);
  // sshd refuses to start without it; Debian's package makes it at boot.
  await Deno.mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  // The mount point of every host's store.
  await Deno.mkdir(sb.storeDir, { recursive: true });

  const root = await Deno.makeTempDir({ dir: sb.root, prefix: "fleet-" });
  await Deno.chmod(root, 0o755);
  const started: Running[] = [];
  const stopAll = async () => {
    await Promise.all(started.map((p) => p.stop()));
  };
  try {
    const clientDir = join(root, "client");
    await Deno.mkdir(clientDir);
    const files: ClientFiles = {
      key: join(clientDir, "id_ed25519"),
      knownHosts: join(clientDir, "known_hosts"),
      relay: join(clientDir, "cut_relay.ts"),
      denoDir: join(clientDir, "deno"),
      deno: Deno.execPath(),
    };
    await runOk([
      "ssh-keygen",
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-C",
      "fprof-test",
      "-f",
      files.key,
    ]);
    const clientPub = (await Deno.readTextFile(`${files.key}.pub`)).trim();
    // The test's own checkout may be closed to the sandbox's user, Deno
    // included (CI runs from a 0700 clone with Deno under it).
    await Deno.copyFile(RELAY, files.relay);
    await Deno.mkdir(files.denoDir);
    if (client.uid !== Deno.uid()) {
      files.deno = join(clientDir, "deno-bin");
      await Deno.copyFile(Deno.execPath(), files.deno);
      await Deno.chmod(files.deno, 0o755);
    }

    const hosts = await Promise.all(
      specs.map((spec) => startHost(sb, root, spec, clientPub, started)),
    );

    await Deno.writeTextFile(
      files.knownHosts,
      hosts.map((h) => `[127.0.0.1]:${h.host.port} ${h.hostKey}\n`).join(""),
    );
    const sshConfig = join(clientDir, "ssh_config");
    await Deno.writeTextFile(sshConfig, clientConfig(hosts, files));
    // The sandbox's user runs ssh (through Nix and fprof): the key must be
    // its own, or ssh will not use it.
    const owner = `${client.uid}:${client.gid}`;
    await runOk(["chown", "-R", owner, clientDir, ...hosts.map((h) => h.relayDir)]);

    for (const spec of specs) {
      if (spec.reaches?.length) await letReach(spec, hosts, files);
    }

    const env = { NIX_SSHOPTS: `-F ${sshConfig}` };
    const remoteHosts = hosts.map((h) => remoteHost(h, sshConfig));
    await Promise.all(remoteHosts.map(checkHost));

    const byName = (name: string): HostSetup => {
      const h = hosts.find((h) => h.host.name === name);
      if (!h) throw new Error(`No remote host '${name}' in this fleet`);
      return h;
    };
    return {
      root,
      sshConfig,
      env,
      hosts: remoteHosts,
      host: (name) => {
        byName(name);
        return remoteHosts.find((h) => h.name === name)!;
      },
      cutAfter: async (name, bytes) => {
        if (bytes !== null && (!Number.isInteger(bytes) || bytes < 0)) {
          throw new Error(`Cannot cut after ${bytes} bytes`);
        }
        const h = byName(name);
        for await (const e of Deno.readDir(h.relayDir)) await Deno.remove(join(h.relayDir, e.name));
        await Deno.writeTextFile(h.cutFile, bytes === null ? "" : `${bytes}\n`);
      },
      relayedBytes: async (name) => {
        const dir = byName(name).relayDir;
        const entries: { start: number; file: string }[] = [];
        for await (const e of Deno.readDir(dir)) {
          entries.push({ start: Number(e.name.split("-")[0]), file: join(dir, e.name) });
        }
        entries.sort((a, b) => a.start - b.start);
        return await Promise.all(
          entries.map(async (e) => Number((await Deno.readTextFile(e.file)).trim() || "0")),
        );
      },
      [Symbol.asyncDispose]: async () => {
        await stopAll();
        if (Deno.env.get("FPROF_KEEP_SANDBOX")) {
          console.error(`fprof: keeping the remote hosts at ${root}`);
          return;
        }
        await removeTree(root);
      },
    };
  } catch (e) {
    await stopAll();
    await removeTree(root);
    throw e;
  }
}

/** A process the fleet started, and how to stop it. */
interface Running {
  stop(): Promise<void>;
}

/** What {@link startHost} made. */
interface HostSetup {
  /** Everything {@link RemoteHost} shows but its commands. */
  host: Omit<RemoteHost, "run" | "runOk">;
  /** The host's public key (`ssh-ed25519 AAAA…`). */
  hostKey: string;
  /** `<root>/cut`, read by the relay of `<name>-flaky`. */
  cutFile: string;
  /** Where each connection of the relay keeps its byte count. */
  relayDir: string;
}

async function startHost(
  sb: NixSandbox,
  fleetRoot: string,
  spec: RemoteHostSpec,
  clientPub: string,
  started: Running[],
): Promise<HostSetup> {
  const daemon = spec.daemon ?? false;
  const nixBin = spec.nixBin ?? dirname(findProgram("nix")!);
  const nixVersion = parseNixVersion((await runOk([join(nixBin, "nix"), "--version"])).stdout);
  const user = `fprofh-${spec.name}`;
  // Its passwd home is "/": two test files may start a host of the same
  // name at once, each with its own HOME, which sshd sets (SetEnv).
  const account = await ensureUser(user, { home: "/", shell: "/bin/sh", password: "*" });

  const root = join(fleetRoot, spec.name);
  const dirs = {
    root,
    realStore: join(root, "store"),
    stateDir: join(root, "var"),
    logDir: join(root, "log"),
    confDir: join(root, "etc", "nix"),
    xdgConfigDirs: join(root, "etc", "xdg"),
    home: join(root, "home"),
    tmp: join(root, "tmp"),
    relayDir: join(root, "relay"),
    sshd: join(root, "sshd"),
  };
  const socket = join(dirs.stateDir, "daemon-socket", "socket");
  if (daemon && socket.length > 100) {
    throw new Error(
      `Cannot make remote host '${spec.name}': socket path '${socket}' is too long; set TMPDIR to a shorter directory`,
    );
  }
  for (const dir of Object.values(dirs)) await Deno.mkdir(dir, { recursive: true });
  await Deno.chmod(root, 0o755);
  // The login user owns what it writes: with a daemon, the daemon (root)
  // owns the store, state and logs.
  const own = daemon ? [dirs.home, dirs.tmp] : [
    dirs.home,
    dirs.tmp,
    dirs.realStore,
    dirs.stateDir,
    dirs.logDir,
  ];
  for (const dir of own) await Deno.chown(dir, account.uid, account.gid);

  const registry = join(root, "etc", "global-registry.json");
  await Deno.writeTextFile(registry, JSON.stringify({ version: 2, flakes: [] }) + "\n");
  await Deno.writeTextFile(join(dirs.confDir, "nix.conf"), hostNixConf(spec, registry));
  const cutFile = join(root, "cut");
  await Deno.writeTextFile(cutFile, "");

  const nixEnv = {
    NIX_STORE_DIR: sb.storeDir,
    NIX_STATE_DIR: dirs.stateDir,
    NIX_LOG_DIR: dirs.logDir,
    NIX_CONF_DIR: dirs.confDir,
    // The machine's /etc/xdg/nix/nix.conf must not add settings.
    XDG_CONFIG_DIRS: dirs.xdgConfigDirs,
    TMPDIR: dirs.tmp,
    PATH: `${nixBin}:/usr/bin:/bin`,
  };
  const loginEnv = {
    ...nixEnv,
    HOME: dirs.home,
    ...(daemon ? { NIX_REMOTE: "daemon" } : {}),
    ...(spec.reaches?.length ? { NIX_SSHOPTS: `-F ${reachConfig(root)}` } : {}),
  };

  const hostKeyFile = join(dirs.sshd, "host_ed25519");
  await runOk(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", spec.name, "-f", hostKeyFile]);
  const hostKey = (await Deno.readTextFile(`${hostKeyFile}.pub`)).trim().split(/\s+/)
    .slice(0, 2).join(" ");
  const authorizedKeys = join(dirs.sshd, "authorized_keys");
  await Deno.writeTextFile(authorizedKeys, clientPub + "\n");

  const sshd = await startSshd({
    name: spec.name,
    dir: dirs.sshd,
    realStore: dirs.realStore,
    storeDir: sb.storeDir,
    user,
    hostKeyFile,
    authorizedKeys,
    env: loginEnv,
  });
  started.push(sshd);
  if (daemon) {
    const daemonHome = join(root, "daemon-home");
    await Deno.mkdir(daemonHome);
    started.push(
      await startNamespacedDaemon(
        sshd.pid,
        join(nixBin, "nix-daemon"),
        { ...nixEnv, HOME: daemonHome, USER: "root", LOGNAME: "root" },
        join(root, "nix-daemon.log"),
        socket,
      ),
    );
  }
  return {
    host: {
      name: spec.name,
      user,
      uid: account.uid,
      root,
      storeDir: sb.storeDir,
      realStore: dirs.realStore,
      stateDir: dirs.stateDir,
      logDir: dirs.logDir,
      confDir: dirs.confDir,
      home: dirs.home,
      nixBin,
      nixVersion,
      daemon,
      port: sshd.port,
      defaultProfile: defaultProfileFor(nixVersion, {
        env: new Map([["HOME", dirs.home]]),
        stateDir: dirs.stateDir,
        uid: account.uid,
        user,
      }),
    },
    hostKey,
    cutFile,
    relayDir: dirs.relayDir,
  };
}

function hostNixConf(spec: RemoteHostSpec, registry: string): string {
  return [
    "experimental-features = nix-command flakes",
    "sandbox = false",
    "substituters =",
    // Nix 2.8 rejects an empty value; and no network.
    `flake-registry = ${registry}`,
    "warn-dirty = false",
    // Build as the caller (or as root under the daemon), never as nixbld.
    "build-users-group =",
    // The host's own Nix: an unpacked 2.8 finds its build hook only when told.
    ...treeBuildHookLines(spec.nixBin ?? dirname(findProgram("nix")!)),
    ...(spec.trustedPublicKeys === undefined
      ? []
      : [`trusted-public-keys = ${spec.trustedPublicKeys.join(" ")}`]),
    ...(spec.requireSigs === undefined ? [] : [`require-sigs = ${spec.requireSigs}`]),
    "",
  ].join("\n");
}

interface SshdOptions {
  name: string;
  dir: string;
  realStore: string;
  storeDir: string;
  user: string;
  hostKeyFile: string;
  authorizedKeys: string;
  /** The login user's whole environment, set by sshd for every session. */
  env: Record<string, string>;
}

interface RunningSshd extends Running {
  pid: number;
  port: number;
}

/**
 * Starts sshd in a new mount and UTS namespace, with the host's store
 * mounted on the logical store directory and its host name set, on a free
 * loopback port. Another test file may take the port between the probe and
 * sshd's bind: then sshd exits, and this tries another.
 */
async function startSshd(opts: SshdOptions): Promise<RunningSshd> {
  let lastLog = "";
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = freePort();
    const config = join(opts.dir, "sshd_config");
    const log = join(opts.dir, "sshd.log");
    await Deno.writeTextFile(config, sshdConfig(opts, port));
    await Deno.writeTextFile(log, "");
    // unshare and sh exec, so the PID we hold is sshd's own (and the one in
    // its PidFile).
    const script = 'mount --bind "$1" "$2" && hostname "$3" && exec "$4" -D -e -f "$5" 2>>"$6"';
    const child = new Deno.Command(findProgram("unshare")!, {
      args: [
        "--mount",
        "--uts",
        "--propagation",
        "private",
        "/bin/sh",
        "-c",
        script,
        "sh",
        opts.realStore,
        opts.storeDir,
        opts.name,
        findProgram("sshd")!,
        config,
        log,
      ],
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const proc = watch(child, "sshd");
    const deadline = Date.now() + 10_000;
    while (true) {
      const text = await Deno.readTextFile(log);
      if (text.includes("Server listening on")) return { ...proc, pid: child.pid, port };
      if (proc.exited()) {
        lastLog = text;
        break;
      }
      if (Date.now() > deadline) {
        await proc.stop();
        throw new Error(`Cannot start sshd for '${opts.name}': not listening after 10 s\n${text}`);
      }
      await delay(20);
    }
    if (!/Address already in use|Cannot bind/.test(lastLog)) break;
  }
  throw new Error(`Cannot start sshd for '${opts.name}':\n${tail(lastLog)}`);
}

function sshdConfig(opts: SshdOptions, port: number): string {
  // sshd splits SetEnv on blanks, except inside double quotes.
  const env = Object.entries(opts.env).map(([k, v]) => /\s/.test(v) ? `"${k}=${v}"` : `${k}=${v}`)
    .join(" ");
  return [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${opts.hostKeyFile}`,
    `PidFile ${join(opts.dir, "sshd.pid")}`,
    `AuthorizedKeysFile ${opts.authorizedKeys}`,
    `AllowUsers ${opts.user}`,
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    // The files of a test directory are not a user's own.
    "StrictModes no",
    "PrintMotd no",
    "PrintLastLog no",
    "AllowTcpForwarding no",
    "X11Forwarding no",
    // Only the first SetEnv line counts; it overrides sshd's own PATH and HOME.
    `SetEnv ${env}`,
    "",
  ].join("\n");
}

/**
 * Starts a root nix-daemon inside the namespace of process `pid` (the host's
 * sshd) and waits for its socket. nsenter execs without forking, so the
 * child's PID is the daemon's.
 */
async function startNamespacedDaemon(
  pid: number,
  nixDaemon: string,
  env: Record<string, string>,
  logFile: string,
  socket: string,
): Promise<Running> {
  const child = new Deno.Command(findProgram("nsenter")!, {
    args: [
      `--target=${pid}`,
      "--mount",
      "--uts",
      "--",
      "/bin/sh",
      "-c",
      'exec "$0" >"$1" 2>&1',
      nixDaemon,
      logFile,
    ],
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const proc = watch(child, "nix-daemon");
  const deadline = Date.now() + 10_000;
  while (!exists(socket)) {
    const log = async () => await Deno.readTextFile(logFile).catch(() => "");
    if (proc.exited()) throw new Error(`Cannot start the host's nix-daemon:\n${await log()}`);
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`Cannot start the host's nix-daemon: no socket after 10 s\n${await log()}`);
    }
    await delay(20);
  }
  return proc;
}

/** Tracks a child's exit and stops it by its PID: SIGTERM, then SIGKILL after 5 s. */
function watch(child: Deno.ChildProcess, what: string): Running & { exited(): boolean } {
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  return {
    exited: () => exited,
    stop: async () => {
      if (exited) return;
      try {
        child.kill("SIGTERM");
      } catch {
        // It exited meanwhile.
      }
      const stopped = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 5000);
        status.then(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      if (!stopped) {
        console.error(`fprof: ${what} (pid ${child.pid}) ignored SIGTERM; killing it`);
        child.kill("SIGKILL");
        await status;
      }
    },
  };
}

/** A loopback port nothing listens on right now. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Where the client side keeps what ssh (and its proxy command) reads. */
interface ClientFiles {
  key: string;
  knownHosts: string;
  /** A copy of cut_relay.ts that the sandbox's user can read. */
  relay: string;
  /** A Deno cache for the relay, writable by the sandbox's user. */
  denoDir: string;
  /** The Deno that runs the relay, where the sandbox's user can run it. */
  deno: string;
}

/** The ssh config of a host that reaches others ({@link RemoteHostSpec.reaches}). */
function reachConfig(hostRoot: string): string {
  return join(hostRoot, "client", "ssh_config");
}

/** Gives `spec`'s host the fleet's key, known hosts and a config naming the hosts it reaches. */
async function letReach(spec: RemoteHostSpec, hosts: HostSetup[], files: ClientFiles) {
  const self = hosts.find((h) => h.host.name === spec.name)!;
  const reached = hosts.filter((h) => spec.reaches!.includes(h.host.name));
  if (reached.length !== spec.reaches!.length) {
    throw new Error(`Cannot let '${spec.name}' reach ${spec.reaches!.join(", ")}: not all exist`);
  }
  const dir = dirname(reachConfig(self.host.root));
  await Deno.mkdir(dir, { recursive: true });
  const own: ClientFiles = {
    ...files,
    key: join(dir, "id_ed25519"),
    knownHosts: join(dir, "known_hosts"),
  };
  await Deno.copyFile(files.key, own.key);
  await Deno.writeTextFile(
    own.knownHosts,
    reached.map((h) => `[127.0.0.1]:${h.host.port} ${h.hostKey}\n`).join(""),
  );
  await Deno.writeTextFile(reachConfig(self.host.root), clientConfig(reached, own, false));
  await runOk(["chown", "-R", String(self.host.uid), dir]);
  await Deno.chmod(own.key, 0o600);
}

function clientConfig(hosts: HostSetup[], files: ClientFiles, flaky = true): string {
  const common = ({ host }: HostSetup) => [
    "  HostName 127.0.0.1",
    `  Port ${host.port}`,
    `  User ${host.user}`,
    `  IdentityFile ${files.key}`,
    "  IdentitiesOnly yes",
    `  UserKnownHostsFile ${files.knownHosts}`,
    "  GlobalKnownHostsFile /dev/null",
    "  StrictHostKeyChecking yes",
    "  UpdateHostKeys no",
    "  CheckHostIP no",
    "  BatchMode yes",
    "  LogLevel ERROR",
  ];
  const relay = (h: HostSetup) =>
    [
      // ssh execs the proxy command through the shell: env sets the cache.
      "/usr/bin/env",
      `DENO_DIR=${files.denoDir}`,
      files.deno,
      "run",
      "--quiet",
      "--no-config",
      "--no-lock",
      `--allow-read=${h.cutFile},${h.relayDir}`,
      `--allow-write=${h.relayDir}`,
      "--allow-net=127.0.0.1",
      files.relay,
      "127.0.0.1",
      String(h.host.port),
      h.cutFile,
      h.relayDir,
    ].join(" ");
  const blocks = hosts.flatMap((h) => [
    `Host ${h.host.name}`,
    ...common(h),
    ...(flaky ? [`Host ${h.host.name}-flaky`, ...common(h), `  ProxyCommand ${relay(h)}`] : []),
  ]);
  return ["# fprof test fleet", ...blocks, ""].join("\n");
}

function remoteHost(h: HostSetup, sshConfig: string): RemoteHost {
  const run = async (argv: string[], opts: RemoteRunOptions = {}) => {
    if (argv.length === 0) throw new Error("Cannot run an empty argv");
    return await runProcess(
      [findProgram("ssh")!, "-F", sshConfig, h.host.name, "--", argv.map(shellQuote).join(" ")],
      { stdin: opts.stdin },
    );
  };
  return {
    ...h.host,
    run,
    runOk: async (argv, opts) => {
      const result = await run(argv, opts);
      if (result.code !== 0) throw new SandboxCommandError(argv, result);
      return result;
    },
  };
}

/** Checks that the host answers over ssh with its own name and store. */
async function checkHost(h: RemoteHost): Promise<void> {
  const res = await h.run(["sh", "-c", 'uname -n && echo "$NIX_STORE_DIR"']);
  if (res.code !== 0 || res.stdout !== `${h.name}\n${h.storeDir}\n`) {
    const log = await Deno.readTextFile(join(h.root, "sshd", "sshd.log")).catch(() => "");
    throw new Error(
      `Remote host '${h.name}' does not answer as expected (exit ${res.code}): ${
        tail(res.stdout + res.stderr)
      }\n${tail(log)}`,
    );
  }
}

/** `arg` quoted for a POSIX shell. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

async function runOk(argv: string[]): Promise<RunResult> {
  const res = await runProcess([findProgram(argv[0]) ?? argv[0], ...argv.slice(1)]);
  if (res.code !== 0) throw new SandboxCommandError(argv, res);
  return res;
}
