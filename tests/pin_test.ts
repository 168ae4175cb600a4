/**
 * Integration tests of `fprof pin` against the real Nix, offline, on an
 * isolated store: the registry, nix-path and channels it writes make
 * `nixpkgs#…` and `<nixpkgs>` resolve to the locked source, through GC, and
 * `--unpin` puts every file back byte for byte.
 */

import { nixAtLeastTest } from "./helpers/nix_version.ts";
import { dirname, join } from "node:path";
import { pinStatePath } from "../lib/nix/pins.ts";
import { spawnFprof } from "./helpers/faults.ts";
import { assertEquals, assertOk, assertStringIncludes } from "./helpers/testing.ts";
import { writePackageSet } from "./helpers/fixtures.ts";
import { fprof, fprofOk } from "./helpers/fprof.ts";
import { writeLockedProfileFlake } from "./helpers/scenario.ts";
import { daemonUnavailable, makeNixSandbox, type NixSandbox } from "./helpers/sandbox.ts";

/** A package set standing in for nixpkgs, with a default.nix for `import <nixpkgs> {}`. */
async function fakeNixpkgs(sb: NixSandbox, name: string, version: string): Promise<string> {
  const dir = join(sb.work, name);
  await writePackageSet(dir, [{ name: "hello", version, bins: ["hello"] }], {
    system: sb.system,
  });
  await Deno.writeTextFile(
    join(dir, "default.nix"),
    `{ system ? builtins.currentSystem, ... }:
let fixture = import ./fixture.nix { inherit system; };
in fixture.byName (map fixture.mkPackage (builtins.fromJSON (builtins.readFile ./packages.json)))
`,
  );
  return dir;
}

/** A profile flake whose `nixpkgs` input is `path:<pkgs>`, locked in the sandbox. */
function profileFlake(sb: NixSandbox, pkgs: string): Promise<string> {
  return writeLockedProfileFlake(sb, join(sb.work, "profile"), pkgs);
}

async function resolved(sb: NixSandbox): Promise<{ flake: string; path: string }> {
  const flake = (await sb.runOk(["nix", "eval", "--raw", "nixpkgs#hello.name"])).stdout;
  const path = JSON.parse(
    (await sb.runOk(["nix-instantiate", "--eval", "-E", "(import <nixpkgs> {}).hello.name"]))
      .stdout,
  );
  return { flake, path };
}

/** A locked profile flake and the user's nix config directory, made. */
async function pinScene(sb: NixSandbox): Promise<{ flake: string; nixDir: string }> {
  const flake = await profileFlake(sb, await fakeNixpkgs(sb, "pkgs-1", "1.0"));
  const nixDir = join(sb.xdgConfig, "nix");
  await Deno.mkdir(nixDir, { recursive: true });
  return { flake, nixDir };
}

/** The names of fprof's temporary files in `dir`. */
async function fprofTemps(dir: string): Promise<string[]> {
  const names = [];
  for await (const e of Deno.readDir(dir)) if (e.name.includes(".fprof-")) names.push(e.name);
  return names;
}

async function readOrNull(path: string): Promise<string | null> {
  return await Deno.readTextFile(path).catch(() => null);
}

Deno.test("pin makes nixpkgs# and <nixpkgs> the locked source through GC; re-pin moves them; unpin restores bytes", async () => {
  await using sb = await makeNixSandbox();
  const flakeNixPath = nixAtLeastTest(2, 13);
  const v1 = await fakeNixpkgs(sb, "pkgs-1", "1.0");
  const v2 = await fakeNixpkgs(sb, "pkgs-2", "2.0");
  const flake = await profileFlake(sb, v1);

  // Files the user had before: another registry entry and a nix.conf line.
  const nixDir = join(sb.xdgConfig, "nix");
  await Deno.mkdir(nixDir, { recursive: true });
  const registryFile = join(nixDir, "registry.json");
  const confFile = join(nixDir, "nix.conf");
  const registryBefore = JSON.stringify({
    version: 2,
    flakes: [{
      from: { type: "indirect", id: "mine" },
      to: { type: "path", path: v2 },
    }],
  });
  const confBefore = "# my settings\nwarn-dirty = false\n";
  await Deno.writeTextFile(registryFile, registryBefore);
  await Deno.writeTextFile(confFile, confBefore);
  // Give the channels link the shape nix-env makes on its first run.
  await sb.runOk(["nix-env", "-q"]);
  const channelsLink = join(sb.home, ".nix-defexpr", "channels");
  assertOk(await Deno.readLink(channelsLink));

  const r = await fprofOk(sb, ["pin", flake]);
  assertStringIncludes(r.stderr, "pinned nixpkgs → ");
  // Nothing outside the sandbox would shadow it.
  assertOk(!r.stderr.includes("NIX_PATH is set"));

  // The sources are no longer where the lock's original points.
  await Deno.rename(v1, `${v1}.moved`);
  assertEquals(await resolved(sb), { flake: "hello-1.0", path: "hello-1.0" });
  const channel = await Deno.realPath(join(channelsLink, "nixpkgs"));
  assertOk(channel.startsWith(sb.storeDir) && channel.endsWith("-source"), channel);

  // Other entries and lines are untouched.
  const reg = JSON.parse(await Deno.readTextFile(registryFile));
  assertEquals(reg.flakes[0], JSON.parse(registryBefore).flakes[0]);
  assertEquals(reg.flakes[1].from, { type: "indirect", id: "nixpkgs" });
  assertEquals(reg.flakes[1].to.type, "path");
  assertEquals(reg.flakes[1].to.path, channel);
  assertOk(reg.flakes[1].to.narHash.startsWith("sha256-"));
  assertEquals(typeof reg.flakes[1].to.lastModified, "number");
  assertEquals(reg.flakes[1].exact, true);
  // From 2.13, nix-path names the registry entry, so that the flake
  // registry and <nixpkgs> cannot disagree; before, the store path and the
  // channels, which nix-path would otherwise hide.
  const nixpkgsEntry = flakeNixPath ? "flake:nixpkgs" : channel;
  const conf = await Deno.readTextFile(confFile);
  assertEquals(
    conf,
    flakeNixPath
      ? `${confBefore}nix-path = nixpkgs=flake:nixpkgs\n`
      : `${confBefore}nix-path = nixpkgs=${channel} ${sb.home}/.nix-defexpr/channels\n`,
  );

  // GC keeps every pinned source alive.
  await sb.runOk(["nix-store", "--gc"]);
  assertEquals(await resolved(sb), { flake: "hello-1.0", path: "hello-1.0" });

  // Idempotent: a second run changes nothing, and says so.
  // A NIX_PATH in the environment is pointed out, with the line to use instead.
  const again = await fprofOk(sb, ["pin", flake], { env: { NIX_PATH: "nixpkgs=/old:/x" } });
  assertStringIncludes(again.stderr, "nothing changed");
  assertStringIncludes(again.stderr, "warning: NIX_PATH is set in your environment");
  assertStringIncludes(again.stderr, `export NIX_PATH=nixpkgs=${nixpkgsEntry}:/x`);
  assertEquals(await Deno.readTextFile(confFile), conf);

  const st = JSON.parse((await fprofOk(sb, ["pin", "--status", "--json"])).stdout);
  assertEquals(st.pins.length, 1);
  assertEquals(st.pins[0].stale, false);
  assertEquals([st.pins[0].inStore, st.pins[0].rooted, st.pins[0].inRegistry], [true, true, true]);

  // Re-lock to the other revision: the status says stale, and pinning moves everything.
  await Deno.rename(`${v1}.moved`, v1);
  const flakeNix = await Deno.readTextFile(join(flake, "flake.nix"));
  await Deno.writeTextFile(join(flake, "flake.nix"), flakeNix.replace(v1, v2));
  await sb.runOk(["nix", "flake", "lock"], { cwd: flake });
  // A stale pin is reported, and exits 1, as text and as JSON.
  const stale = await fprof(sb, ["pin", "--status"]);
  assertEquals(stale.code, 1, stale.stderr);
  assertStringIncludes(stale.stdout, "stale: the lock has");
  assertStringIncludes(stale.stderr, "error: stale pin: the lock file has moved on from nixpkgs");
  assertStringIncludes(stale.stderr, "hint: run 'fprof pin ");
  const staleJson = await fprof(sb, ["pin", "--status", "--json"]);
  assertEquals([staleJson.code, JSON.parse(staleJson.stdout).pins[0].stale], [1, true]);
  const dry = await fprofOk(sb, ["pin", "--dry-run", flake]);
  assertStringIncludes(dry.stdout, "would pin nixpkgs");
  await fprofOk(sb, ["pin", flake]);
  await sb.runOk(["nix-store", "--gc"]);
  assertEquals(await resolved(sb), { flake: "hello-2.0", path: "hello-2.0" });

  // Unpin: the files are back byte for byte, and the channels profile too.
  const u = await fprofOk(sb, ["pin", "--unpin"]);
  assertStringIncludes(u.stderr, "unpinned");
  assertEquals(await readOrNull(registryFile), registryBefore);
  assertEquals(await readOrNull(confFile), confBefore);
  assertEquals(await readOrNull(join(channelsLink, "nixpkgs")), null);
  assertStringIncludes((await fprofOk(sb, ["pin", "--status"])).stdout, "nothing is pinned");
});

Deno.test("pin refuses bad input with one error line and writes nothing", async () => {
  await using sb = await makeNixSandbox();
  const v1 = await fakeNixpkgs(sb, "pkgs-1", "1.0");
  const nixDir = join(sb.xdgConfig, "nix");
  const registryFile = join(nixDir, "registry.json");
  const confFile = join(nixDir, "nix.conf");
  const errorLine = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("error:"));

  // No lock file.
  const noLock = join(sb.work, "nolock");
  await Deno.mkdir(noLock);
  await Deno.writeTextFile(join(noLock, "flake.nix"), "{ outputs = { self }: { }; }\n");
  let r = await fprof(sb, ["pin", noLock]);
  assertEquals(r.code, 1);
  assertEquals(errorLine(r.stderr), [`error: flake '${noLock}' has no lock file`]);

  const flake = await profileFlake(sb, v1);
  // A missing input.
  r = await fprof(sb, ["pin", flake, "--input", "home-manager"]);
  assertEquals(r.code, 1);
  assertStringIncludes(r.stderr, "error: flake has no input 'home-manager'");

  // A malformed registry.json.
  await Deno.mkdir(nixDir, { recursive: true });
  await Deno.writeTextFile(registryFile, "{ not json");
  r = await fprof(sb, ["pin", flake]);
  assertEquals(r.code, 1);
  assertStringIncludes(r.stderr, `error: cannot parse registry '${registryFile}'`);
  assertEquals(await readOrNull(confFile), null);
  assertEquals(await readOrNull(registryFile), "{ not json");
  await Deno.remove(registryFile);

  // A nix.conf that cannot be written: here, a directory in its place.
  await Deno.mkdir(confFile);
  r = await fprof(sb, ["pin", flake]);
  assertEquals(r.code, 1);
  assertEquals(errorLine(r.stderr).length, 1);
  assertStringIncludes(r.stderr, `error: cannot read '${confFile}'`);
  assertEquals(await readOrNull(registryFile), null);
  await Deno.remove(confFile);

  // A source that is not in the store.
  await sb.runOk(["nix-store", "--gc"]);
  r = await fprof(sb, ["pin", flake]);
  assertEquals(r.code, 1);
  assertStringIncludes(r.stderr, "error: the source of input 'nixpkgs' is not in the store");
  assertEquals(await readOrNull(registryFile), null);
  assertEquals(await readOrNull(confFile), null);

  // --system is for root only; here the test may be root, so only check the usage path.
  if (Deno.uid() !== 0) {
    r = await fprof(sb, ["pin", "--system", flake]);
    assertEquals(r.code, 2);
  }
});

Deno.test("switch --pin records the pins; rollback says they differ; pin --from-generation restores them", async () => {
  await using sb = await makeNixSandbox();
  const v1 = await fakeNixpkgs(sb, "pkgs-1", "1.0");
  const v2 = await fakeNixpkgs(sb, "pkgs-2", "2.0");
  const flake = await profileFlake(sb, v1);
  const s1 = await fprofOk(sb, ["switch", "--pin", `path:${flake}`]);
  assertStringIncludes(s1.stderr, "pinned nixpkgs → ");
  assertEquals(await resolved(sb), { flake: "hello-1.0", path: "hello-1.0" });

  const flakeNix = await Deno.readTextFile(join(flake, "flake.nix"));
  await Deno.writeTextFile(join(flake, "flake.nix"), flakeNix.replace(v1, v2));
  await sb.runOk(["nix", "flake", "lock"], { cwd: flake });
  // The config's "pin" setting does what --pin does.
  await Deno.mkdir(join(sb.xdgConfig, "fprof"), { recursive: true });
  await Deno.writeTextFile(join(sb.xdgConfig, "fprof", "config.jsonc"), '{ "pin": true }\n');
  await fprofOk(sb, ["switch", `path:${flake}`]);
  assertEquals(await resolved(sb), { flake: "hello-2.0", path: "hello-2.0" });

  const rb = await fprofOk(sb, ["rollback"]);
  assertStringIncludes(rb.stderr, "now differ from generation 1's lock");
  assertStringIncludes(rb.stderr, "fprof pin --from-generation");
  await fprofOk(sb, ["pin", "--from-generation"]);
  assertEquals(await resolved(sb), { flake: "hello-1.0", path: "hello-1.0" });
  const again = await fprofOk(sb, ["pin", "--from-generation", "1"]);
  assertStringIncludes(again.stderr, "nothing changed");

  // --no-global-registry points flake-registry at an empty local file that works.
  await fprofOk(sb, ["pin", "--no-global-registry", flake]);
  const conf = await Deno.readTextFile(join(sb.xdgConfig, "nix", "nix.conf"));
  assertStringIncludes(conf, "flake-registry = ");
  assertEquals(await resolved(sb), { flake: "hello-2.0", path: "hello-2.0" });
  await fprofOk(sb, ["pin", "--unpin"]);
  assertEquals(await readOrNull(join(sb.xdgConfig, "nix", "nix.conf")), null);
});

Deno.test({
  name: "pin keeps the source alive through GC for a daemon user",
  ignore: daemonUnavailable() !== undefined,
  fn: async () => {
    await using sb = await makeNixSandbox({ daemon: true });
    const v1 = await fakeNixpkgs(sb, "pkgs-1", "1.0");
    const flake = await profileFlake(sb, v1);
    await fprofOk(sb, ["pin", flake]);
    await sb.runOk(["nix-store", "--gc"]);
    assertEquals(await resolved(sb), { flake: "hello-1.0", path: "hello-1.0" });
    // The root is registered with the daemon, which runs the collection.
    const roots = (await sb.runOk(["nix-store", "--gc", "--print-roots"])).stdout;
    assertStringIncludes(roots, "fprof/pins/roots/user-nixpkgs");
  },
});

Deno.test("pins run at once take turns, and leave whole files", async () => {
  await using sb = await makeNixSandbox();
  const v1 = await fakeNixpkgs(sb, "nixpkgs-v1", "1.0");
  const flake = await profileFlake(sb, v1);
  const runs = await Promise.all([1, 2, 3, 4].map(() => fprof(sb, ["pin", flake])));
  for (const r of runs) assertEquals(r.code, 0, r.stderr);
  // Exactly one run changed the files; the others found them pinned.
  assertEquals(runs.filter((r) => r.stderr.includes("pinned nixpkgs → ")).length, 1);
  const reg = JSON.parse(await Deno.readTextFile(join(sb.xdgConfig, "nix", "registry.json")));
  assertEquals(reg.flakes.map((f: { from: { id: string } }) => f.from.id), ["nixpkgs"]);
  assertEquals(await resolved(sb), { flake: "hello-1.0", path: "hello-1.0" });
});

Deno.test("pin keeps a 0600 nix.conf private, edits a linked one through its link, and unpin restores link, mode and bytes", async () => {
  await using sb = await makeNixSandbox();
  const { flake, nixDir } = await pinScene(sb);
  // nix.conf is a link into a dotfiles repository, and private (it holds tokens).
  const dotfiles = join(sb.work, "dotfiles");
  await Deno.mkdir(dotfiles);
  const realConf = join(dotfiles, "nix.conf");
  const confText = "access-tokens = github.com=secret\n";
  await Deno.writeTextFile(realConf, confText);
  await Deno.chmod(realConf, 0o600);
  const conf = join(nixDir, "nix.conf");
  await Deno.symlink(realConf, conf);
  const registry = join(nixDir, "registry.json");
  const registryText = '{"version":2,"flakes":[]}\n';
  await Deno.writeTextFile(registry, registryText);
  await Deno.chmod(registry, 0o600);
  await sb.handOver(sb.work);
  await sb.handOver(sb.xdgConfig);
  const mode = async (p: string) => (await Deno.stat(p)).mode! & 0o777;

  await fprofOk(sb, ["pin", flake]);
  assertEquals((await Deno.lstat(conf)).isSymlink, true, "the link was replaced");
  assertStringIncludes(await Deno.readTextFile(realConf), "nix-path");
  assertEquals(await mode(realConf), 0o600);
  assertEquals(await mode(registry), 0o600);
  const backups = join(sb.xdgState, "fprof", "pins", "backups");
  for await (const e of Deno.readDir(backups)) {
    assertEquals(await mode(join(backups, e.name)), 0o600, `backup ${e.name} is not private`);
  }

  await fprofOk(sb, ["pin", "--unpin"]);
  assertEquals(await Deno.readLink(conf), realConf);
  assertEquals(await Deno.readTextFile(realConf), confText);
  assertEquals(await mode(realConf), 0o600);
  assertEquals(await Deno.readTextFile(registry), registryText);
  assertEquals(await mode(registry), 0o600);
});

Deno.test("pin refuses a nix.conf linked into the store, and follows no link planted at its temporary names", async () => {
  await using sb = await makeNixSandbox();
  const { flake, nixDir } = await pinScene(sb);
  await Deno.writeTextFile(join(sb.work, "nix.conf"), "max-jobs = 2\n");
  const storeConf = (await sb.runOk(["nix-store", "--add", join(sb.work, "nix.conf")])).stdout
    .trim();
  const conf = join(nixDir, "nix.conf");
  await Deno.symlink(storeConf, conf);
  await sb.handOver(sb.xdgConfig);
  const r = await fprof(sb, ["pin", flake]);
  assertEquals(r.code, 1);
  assertStringIncludes(r.stderr, "is a link into the Nix store");
  assertEquals(r.stderr.split("\n").filter((l) => l.startsWith("error:")).length, 1);
  assertEquals(await Deno.readLink(conf), storeConf);
  assertEquals(await readOrNull(join(nixDir, "registry.json")), null);

  // Links planted at the names of fprof's temporary files, as soon as its
  // pid is known (long before it writes), are removed, not written through.
  await Deno.remove(conf);
  const victim = join(sb.work, "victim");
  await Deno.writeTextFile(victim, "untouched\n");
  const state = pinStatePath("user", { get: (v) => sb.env[v] });
  await Deno.mkdir(dirname(state), { recursive: true });
  const child = spawnFprof(sb, ["pin", flake]);
  for (
    const name of [
      join(nixDir, `.nix.conf.fprof-${child.pid}.tmp`),
      join(nixDir, `.registry.json.fprof-${child.pid}.tmp`),
      `${state}.${child.pid}.tmp`,
    ]
  ) await Deno.symlink(victim, name);
  const out = await child.output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  assertEquals(await Deno.readTextFile(victim), "untouched\n");
  assertEquals((await Deno.lstat(conf)).isSymlink, false);
  assertEquals((await Deno.lstat(state)).isSymlink, false);
  assertStringIncludes(await Deno.readTextFile(conf), "nix-path");
});

Deno.test("pin --status asks Nix for the effective nix-path and names a later include or NIX_CONFIG that overrides it", async () => {
  await using sb = await makeNixSandbox();
  const flake = await profileFlake(sb, await fakeNixpkgs(sb, "pkgs-1", "1.0"));
  await fprofOk(sb, ["pin", flake]);
  const clean = JSON.parse((await fprofOk(sb, ["pin", "--status", "--json"])).stdout);
  assertEquals(clean.pins[0].inNixPath, true);

  const nixDir = join(sb.xdgConfig, "nix");
  await Deno.writeTextFile(join(nixDir, "later.conf"), `nix-path = nixpkgs=${sb.work}\n`);
  await Deno.writeTextFile(join(nixDir, "nix.conf"), "include later.conf\n", { append: true });
  const r = await fprofOk(sb, ["pin", "--status"]);
  assertStringIncludes(r.stdout, "<nixpkgs> does not resolve to it");
  assertStringIncludes(r.stdout, "a later include in nix.conf ('later.conf')");

  const viaEnv = await fprofOk(sb, ["pin", "--status", "--json"], {
    env: { NIX_CONFIG: `nix-path = nixpkgs=${sb.work}` },
  });
  const row = JSON.parse(viaEnv.stdout).pins[0];
  assertEquals(row.inNixPath, false);
  assertEquals(row.nixPathOverride, "the NIX_CONFIG environment variable");
});

Deno.test("pin reports the nix.conf line Nix rejects, not a missing source, and writes nothing", async () => {
  await using sb = await makeNixSandbox();
  const { flake, nixDir } = await pinScene(sb);
  const conf = join(nixDir, "nix.conf");
  // Every Nix rejects both: a missing include, and `=` without spaces.
  for (const bad of ["include missing.conf\n", "nix-path=x\n"]) {
    await Deno.writeTextFile(conf, bad);
    const r = await fprof(sb, ["pin", flake]);
    assertEquals(r.code, 1, r.stderr);
    const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
    assertEquals(errors.length, 1, r.stderr);
    assertOk(!r.stderr.includes("is not in the store"), r.stderr);
    assertOk(/configuration line|missing\.conf/.test(errors[0]), errors[0]);
    assertStringIncludes(r.stderr, "hint: fix that line");
    assertEquals(await Deno.readTextFile(conf), bad);
    assertEquals(await readOrNull(join(nixDir, "registry.json")), null);
  }
});

Deno.test("a pin that fails after writing its temporary files removes them", async () => {
  await using sb = await makeNixSandbox();
  const { flake, nixDir } = await pinScene(sb);
  const conf = join(nixDir, "nix.conf");
  await Deno.writeTextFile(conf, "warn-dirty = false\n");
  // The backup of nix.conf, taken just before it is replaced, cannot be
  // written: a file stands where the backups directory goes.
  const pins = dirname(pinStatePath("user", { get: (v) => sb.env[v] }));
  await Deno.mkdir(pins, { recursive: true });
  await Deno.writeTextFile(join(pins, "backups"), "");
  const r = await fprof(sb, ["pin", flake]);
  assertEquals(r.code, 1, r.stderr);
  assertEquals(await fprofTemps(nixDir), []);
  assertEquals(await Deno.readTextFile(conf), "warn-dirty = false\n");
});

Deno.test("a pin stopped half-way, killed or by a full disk, is reported by --status, finished by pin, and undone byte for byte by --unpin", async () => {
  await using sb = await makeNixSandbox();
  const { flake, nixDir } = await pinScene(sb);
  const files = [join(nixDir, "registry.json"), join(nixDir, "nix.conf")];
  await Deno.writeTextFile(files[0], '{"version":2,"flakes":[]}\n');
  await Deno.writeTextFile(files[1], "# mine\nwarn-dirty = false\n");
  await sb.runOk(["nix-env", "-q"]);
  const channel = join(sb.home, ".nix-defexpr", "channels", "nixpkgs");
  const read = () => Promise.all(files.map((f) => Deno.readFile(f)));
  const before = await read();
  const stops: Record<string, string>[] = [
    { FPROF_TEST_CRASH: "pin:between-files" },
    { FPROF_TEST_CRASH: "pin:files-written" },
    { FPROF_TEST_CRASH: "pin:state-temp-written" },
    { FPROF_TEST_FULL_DISK: sb.xdgState, FPROF_TEST_FULL_FROM: "pin:files-written" },
  ];
  for (const env of stops) {
    for (const finish of [false, true]) {
      const what = `${JSON.stringify(env)}, ${finish ? "finished" : "undone"}`;
      const r = await fprof(sb, ["pin", flake], { env });
      if (env.FPROF_TEST_CRASH) assertEquals(r.code, 137, r.stderr);
      else {
        assertEquals(r.code, 1, r.stderr);
        assertOk(!r.stderr.includes("changed nothing"), r.stderr);
        assertStringIncludes(r.stderr, "hint: the pin is half done");
      }
      const st = (await fprofOk(sb, ["pin", "--status"])).stdout;
      assertStringIncludes(st, "a pin was stopped before it finished", what);
      assertStringIncludes(st, "nixpkgs", what);
      if (finish) {
        assertStringIncludes((await fprofOk(sb, ["pin", flake])).stderr, "pinned nixpkgs", what);
        const done = JSON.parse((await fprofOk(sb, ["pin", "--status", "--json"])).stdout);
        assertEquals(done.pending, false, what);
        assertEquals([done.pins[0].inRegistry, done.pins[0].rooted], [true, true], what);
      }
      assertStringIncludes((await fprofOk(sb, ["pin", "--unpin"])).stderr, "unpinned", what);
      assertEquals(await read(), before, what);
      assertEquals(await readOrNull(channel), null, what);
      assertStringIncludes((await fprofOk(sb, ["pin", "--status"])).stdout, "nothing is pinned");
    }
  }

  // Full from the start: nothing changes, no empty backup is left, and the hint says so.
  for (const extra of [[], ["--no-global-registry"]]) {
    const r = await fprof(sb, ["pin", ...extra, flake], {
      env: { FPROF_TEST_FULL_DISK: sb.xdgState },
    });
    assertEquals(r.code, 1, r.stderr);
    assertEquals(r.stderr.split("\n").filter((l) => l.startsWith("error:")).length, 1, r.stderr);
    assertStringIncludes(r.stderr, "fprof changed nothing");
    assertEquals(await read(), before);
  }
  assertEquals(await readOrNull(channel), null);
  const backups = join(sb.xdgState, "fprof", "pins", "backups");
  assertEquals(await Array.fromAsync(Deno.readDir(backups)).catch(() => []), []);
  assertEquals(await fprofTemps(nixDir), []);
  assertStringIncludes((await fprofOk(sb, ["pin", "--status"])).stdout, "nothing is pinned");
});

Deno.test("pin keeps the bytes of nix.conf it does not own, and --unpin says restored only of a file as it was", async () => {
  await using sb = await makeNixSandbox();
  const { flake, nixDir } = await pinScene(sb);
  const conf = join(nixDir, "nix.conf");
  const ascii = (s: string) => [...new TextEncoder().encode(s)];
  // A Latin-1 comment, which is not UTF-8, and CRLF lines.
  const before = new Uint8Array([...ascii("# caf"), 0xe9, ...ascii("\r\nwarn-dirty = false\r\n")]);
  await Deno.writeFile(conf, before);
  await fprofOk(sb, ["pin", flake]);
  const pinned = await Deno.readFile(conf);
  assertEquals(pinned.subarray(0, before.length), before);
  assertStringIncludes(new TextDecoder().decode(pinned.subarray(before.length)), "\r\n");
  let u = await fprofOk(sb, ["pin", "--unpin"]);
  assertStringIncludes(u.stderr, `restored ${conf}`);
  assertEquals(await Deno.readFile(conf), before);

  // Changed since: only fprof's line goes, and the file is not called restored.
  await fprofOk(sb, ["pin", flake]);
  await Deno.writeTextFile(conf, "max-jobs = 2\n", { append: true });
  u = await fprofOk(sb, ["pin", "--unpin"]);
  assertOk(!u.stderr.includes(`restored ${conf}`), u.stderr);
  assertStringIncludes(u.stderr, `took fprof's entries out of ${conf}`);
  assertEquals(await Deno.readFile(conf), new Uint8Array([...before, ...ascii("max-jobs = 2\n")]));
});

Deno.test("pin keeps a nix-path set in an included file, and refuses one included after nix.conf's own line", async () => {
  await using sb = await makeNixSandbox();
  const { flake, nixDir } = await pinScene(sb);
  const conf = join(nixDir, "nix.conf");
  await Deno.writeTextFile(join(nixDir, "more.conf"), `nix-path = mine=${sb.work}\n`);
  await Deno.writeTextFile(conf, "!include more.conf\n");
  await fprofOk(sb, ["pin", flake]);
  const nixPath = JSON.parse(
    (await sb.runOk(["nix-instantiate", "--eval", "--json", "-E", "builtins.nixPath"])).stdout,
  );
  assertEquals(nixPath.find((e: { prefix: string }) => e.prefix === "mine")?.path, sb.work);
  assertEquals((await resolved(sb)).path, "hello-1.0");
  await fprofOk(sb, ["pin", "--unpin"]);
  assertEquals(await Deno.readTextFile(conf), "!include more.conf\n");

  const later = `nix-path = a=${sb.work}\ninclude more.conf\n`;
  await Deno.writeTextFile(conf, later);
  const r = await fprof(sb, ["pin", flake]);
  assertEquals(r.code, 1, r.stderr);
  assertStringIncludes(r.stderr, "includes after its own nix-path line");
  assertStringIncludes(r.stderr, "hint: move that nix-path line");
  assertEquals(await Deno.readTextFile(conf), later);
  assertEquals(await readOrNull(join(nixDir, "registry.json")), null);
});

Deno.test("the temporary files of a killed pin are removed by the next fprof command of any kind", async () => {
  await using sb = await makeNixSandbox();
  const { flake, nixDir } = await pinScene(sb);
  // nix.conf is a link, so its temporary file goes beside the file it links to.
  const dotfiles = join(sb.work, "dotfiles");
  await Deno.mkdir(dotfiles);
  await Deno.writeTextFile(join(dotfiles, "nix.conf"), "warn-dirty = false\n");
  await Deno.symlink(join(dotfiles, "nix.conf"), join(nixDir, "nix.conf"));
  const r = await fprof(sb, ["pin", flake], { env: { FPROF_TEST_CRASH: "pin:temps-written" } });
  assertEquals(r.code, 137, r.stderr);
  for (const dir of [nixDir, dotfiles]) {
    assertEquals((await fprofTemps(dir)).length, 1, `the killed pin left nothing in ${dir}`);
  }
  await fprof(sb, ["generations", "--profile", sb.profile]);
  assertEquals([...await fprofTemps(nixDir), ...await fprofTemps(dotfiles)], []);
});
