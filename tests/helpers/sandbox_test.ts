import { join } from "node:path";
import { assertEquals, assertOk, assertRejects, assertStringIncludes } from "./testing.ts";
import { writeProfileFlake } from "./fixtures.ts";
import {
  DAEMON_CLIENT_USER,
  daemonUnavailable,
  exists,
  makeNixSandbox,
  type NixSandbox,
  SandboxCommandError,
} from "./sandbox.ts";

const noDaemon = daemonUnavailable();

/** Builds `attr` of the flake in `dir` and returns its `out` path. */
async function build(nix: NixSandbox, dir: string, attr: string) {
  const { stdout } = await nix.runOk([
    "nix",
    "build",
    "--json",
    "--no-link",
    `path:${dir}#${attr}`,
  ]);
  return JSON.parse(stdout)[0].outputs.out as string;
}

Deno.test("makeNixSandbox() keeps Nix inside its root", async () => {
  let root: string;
  {
    await using nix = await makeNixSandbox();
    root = nix.root;
    for (
      const dir of [nix.storeDir, nix.stateDir, nix.home, nix.xdgConfig]
    ) {
      assertOk(dir.startsWith(root + "/"), dir);
    }
    assertEquals(nix.env.NIX_STORE_DIR, nix.storeDir);
    assertEquals(nix.env.HOME, nix.home);
    assertEquals(nix.env.NIX_REMOTE, undefined);
    assertEquals(nix.env.NIX_PATH, undefined);
    assertOk(exists(join(nix.profile, "..")), "the profile's directory");

    const ping = await nix.runOk(["nix", "store", "ping"]);
    assertStringIncludes(ping.stderr, "Store URL: local");
    const conf = await nix.runOk(["nix", "show-config"]);
    assertStringIncludes(conf.stdout, "substituters = \n");
    assertStringIncludes(
      conf.stdout,
      `flake-registry = ${root}/etc/global-registry.json`,
    );
    const system = await nix.runOk([
      "nix",
      "eval",
      "--impure",
      "--raw",
      "--expr",
      "builtins.currentSystem",
    ]);
    assertEquals(system.stdout, nix.system);
    // The store is read-only once something is in it; disposal copes.
    await nix.runOk(["nix-store", "--add", nix.confDir]);
  }
  assertOk(!exists(root), "the root is removed on disposal");
});

Deno.test("run() passes stdin, env and cwd and reports failures", async () => {
  await using nix = await makeNixSandbox();
  const res = await nix.run(["sh", "-c", 'cat; echo " $FOO $PWD"; exit 3'], {
    stdin: "in",
    env: { FOO: "foo" },
    cwd: nix.work,
  });
  assertEquals(res, { code: 3, stdout: `in foo ${nix.work}\n`, stderr: "" });
  const err = await assertRejects(
    () => nix.runOk(["nix", "build", "path:/nonexistent#x"]),
    SandboxCommandError,
    "exit code 1",
  );
  assertStringIncludes(err.message, "/nonexistent");
});

Deno.test("a profile set with nix-env survives garbage collection", async () => {
  await using nix = await makeNixSandbox();
  const flake = join(nix.work, "profile");
  await writeProfileFlake(flake, [
    { name: "hello", version: "2.12", bins: ["hello"] },
  ], { system: nix.system });
  const env = await build(nix, flake, "profile");
  await nix.runOk(["nix-env", "-p", nix.profile, "--set", env]);
  const hello = await nix.runOk([join(nix.profile, "bin", "hello")]);
  assertEquals(hello.stdout, "hello 2.12\n");

  // Proof that the collector ran: a path in no generation goes.
  const stray = (await nix.runOk(["nix-store", "--add", join(flake, "flake.nix")]))
    .stdout.trim();
  await nix.runOk(["nix-store", "--gc"]);
  assertOk(!exists(stray), "the unrooted path is collected");
  const live = await nix.runOk(["nix-store", "-qR", env]);
  for (const path of live.stdout.trim().split("\n")) {
    assertOk(exists(path), `${path} survives`);
  }
  const again = await nix.runOk([join(nix.profile, "bin", "hello")]);
  assertEquals(again.stdout, "hello 2.12\n");
});

Deno.test({
  name: "makeNixSandbox({ daemon }) serves an unprivileged user",
  ignore: noDaemon !== undefined,
  async fn() {
    await using nix = await makeNixSandbox({ daemon: true });
    assertEquals(nix.user, DAEMON_CLIENT_USER);
    assertEquals(nix.env.NIX_REMOTE, "daemon");
    const id = await nix.runOk(["id", "-un"]);
    assertEquals(id.stdout.trim(), DAEMON_CLIENT_USER);
    const ping = await nix.runOk(["nix", "store", "ping"]);
    assertStringIncludes(ping.stderr, "Store URL: daemon");

    // The client can add and build; the daemon (root) owns the results.
    const file = join(nix.work, "note.txt");
    await Deno.writeTextFile(file, "note\n");
    const added = (await nix.runOk(["nix-store", "--add", file])).stdout.trim();
    assertEquals((await Deno.stat(added)).uid, 0);
    assertEquals((await Deno.stat(nix.storeDir)).uid, 0);

    const flake = join(nix.work, "profile");
    await writeProfileFlake(flake, [
      { name: "hello", version: "2.12", bins: ["hello"] },
    ], { system: nix.system });
    const env = await build(nix, flake, "profile");

    // The per-user profile directory belongs to the client, as the daemon
    // makes it on a real installation.
    const profileDir = await Deno.stat(join(nix.profile, ".."));
    assertEquals(profileDir.uid, (await Deno.stat(nix.home)).uid);
    await nix.runOk(["nix-env", "-p", nix.profile, "--set", env]);
    const hello = await nix.runOk([join(nix.profile, "bin", "hello")]);
    assertEquals(hello.stdout, "hello 2.12\n");
    // The generation is an indirect root, registered through the daemon.
    const roots = await nix.runOk(["nix-store", "--gc", "--print-roots"]);
    // The link is quoted from Nix 2.3x on.
    const root = roots.stdout.split("\n").find((l) =>
      l.replaceAll('"', "").startsWith(`${nix.profile}-1-link -> `)
    );
    assertEquals(root?.replaceAll('"', ""), `${nix.profile}-1-link -> ${env}`);

    // Nix 2.8 lets any daemon user collect garbage; the note is garbage.
    await nix.runOk(["nix-store", "--gc"]);
    assertOk(!exists(added), "the unrooted path is collected");
    assertOk(exists(env), "the profile is kept");
  },
});

Deno.test({
  name: "a daemon client copies content-addressed paths only",
  ignore: noDaemon !== undefined,
  async fn() {
    await using nix = await makeNixSandbox({ daemon: true });
    const dir = join(nix.work, "tree");
    await Deno.mkdir(dir);
    await Deno.writeTextFile(join(dir, "file"), "content\n");
    const ca = (await nix.runOk(["nix-store", "--add", dir])).stdout.trim();
    const flake = join(nix.work, "profile");
    await writeProfileFlake(flake, [{ name: "hello", version: "2.12" }], {
      system: nix.system,
    });
    const built = await build(nix, flake, "hello");

    const cache = `file://${join(nix.work, "cache")}`;
    await nix.handOver(nix.work);
    await nix.runOk(["nix", "copy", "--to", cache, ca, built]);
    await nix.runOk(["nix-store", "--delete", ca, built]);

    // A correct content address is its own proof; no signature needed.
    await nix.runOk(["nix", "copy", "--from", cache, ca]);
    assertOk(exists(ca), "the content-addressed path is back");
    // An input-addressed path would need a trusted signature.
    const res = await nix.run(["nix", "copy", "--from", cache, built]);
    assertEquals(res.code, 1);
    // "lacks a valid signature" up to 2.2x, "lacks a signature by a trusted key" since.
    assertOk(/lacks a (valid )?signature/.test(res.stderr), res.stderr);
  },
});

Deno.test({
  name: "run() gives another user a home of its own",
  ignore: noDaemon !== undefined,
  async fn() {
    await using nix = await makeNixSandbox({ daemon: true });
    const res = await nix.runOk(["sh", "-c", 'id -un; echo "$HOME"'], {
      user: "root",
    });
    assertEquals(res.stdout, `root\n${join(nix.root, "home", "root")}\n`);
    // Root is trusted by the daemon, which is what makes it differ.
    const ping = await nix.runOk(["nix", "store", "ping"], { user: "root" });
    assertStringIncludes(ping.stderr, "Store URL: daemon");
  },
});
