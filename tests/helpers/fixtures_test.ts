import { join } from "node:path";
import { assertEquals, assertOk, assertRejects, assertStringIncludes } from "./testing.ts";
import {
  type FixturePackage,
  writeBigProfileFlake,
  writePackageSet,
  writeProfileFlake,
} from "./fixtures.ts";
import { makeNixSandbox, type NixSandbox } from "./sandbox.ts";

/** Builds `installable` and returns its `out` path. */
async function build(nix: NixSandbox, installable: string): Promise<string> {
  const { stdout } = await nix.runOk([
    "nix",
    "build",
    "--json",
    "--no-link",
    installable,
  ]);
  return JSON.parse(stdout)[0].outputs.out;
}

/** The symlinks under `dir`, relative path to target. */
async function links(dir: string, rel = ""): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for await (const entry of Deno.readDir(join(dir, rel))) {
    const path = rel === "" ? entry.name : `${rel}/${entry.name}`;
    if (entry.isSymlink) found[path] = await Deno.readLink(join(dir, path));
    else if (entry.isDirectory) Object.assign(found, await links(dir, path));
  }
  return found;
}

const HELLO: FixturePackage = {
  name: "hello",
  version: "2.12",
  bins: ["hello"],
  outputs: ["out", "man"],
  description: 'Prints "hello" (not ${x})',
  files: { "share/doc/hello/README": "it's $HOME, `quoted`\n" },
};

Deno.test("writeProfileFlake() makes a buildEnv-like profile", async () => {
  await using nix = await makeNixSandbox();
  const flake = join(nix.work, "profile");
  await writeProfileFlake(flake, [
    HELLO,
    { name: "jq", version: "1.6", bins: ["jq"], priority: 3 },
    { name: "jq-old", version: "1.5", bins: ["jq"] },
  ], { system: nix.system });
  const env = await build(nix, `path:${flake}#profile`);

  const tree = await links(env);
  const refs = (await nix.runOk(["nix-store", "-q", "--references", env]))
    .stdout.trim().split("\n").sort();
  const byName = (suffix: string) => refs.find((r) => r.endsWith(suffix))!;
  // The lower priority number wins; jq-old is built but not linked.
  assertEquals(refs.length, 3);
  assertEquals(tree, {
    "bin/hello": `${byName("-hello-2.12")}/bin/hello`,
    "bin/jq": `${byName("-jq-1.6")}/bin/jq`,
    "share/doc/hello/README": `${byName("-hello-2.12")}/share/doc/hello/README`,
    "share/man/man1/hello.1": `${byName("-hello-2.12-man")}/share/man/man1/hello.1`,
  });
  assertEquals((await nix.runOk([join(env, "bin", "hello")])).stdout, "hello 2.12\n");
  assertEquals((await nix.runOk([join(env, "bin", "jq")])).stdout, "jq 1.6\n");
  assertEquals(
    await Deno.readTextFile(join(env, "share/doc/hello/README")),
    HELLO.files!["share/doc/hello/README"],
  );

  // meta is visible to evaluation, for nix-env and fprof to read.
  const meta = await nix.runOk([
    "nix",
    "eval",
    "--json",
    `path:${flake}#packages.${nix.system}.hello.meta`,
  ]);
  assertEquals(JSON.parse(meta.stdout), {
    description: HELLO.description,
    outputsToInstall: ["out", "man"],
  });
});

Deno.test("writeProfileFlake() fixtures fail the way Nix fails", async () => {
  await using nix = await makeNixSandbox();
  const flake = join(nix.work, "profile");
  await writeProfileFlake(flake, [
    { name: "a", version: "1", bins: ["x"] },
    { name: "b", version: "1", bins: ["x"] },
  ], { system: nix.system });

  const collision = await nix.run(["nix", "build", "--no-link", `path:${flake}#profile`]);
  assertEquals(collision.code, 1);
  assertStringIncludes(collision.stderr, "collision between `");
  assertStringIncludes(collision.stderr, "-b-1/bin/x' and `");

  const broken = await nix.run(["nix", "build", "--no-link", `path:${flake}#broken`]);
  assertEquals(broken.code, 1);
  assertStringIncludes(broken.stderr, "error: fixture: broken on purpose");

  const failing = await nix.run(["nix", "build", "--no-link", `path:${flake}#failing`]);
  assertEquals(failing.code, 1);
  assertStringIncludes(failing.stderr, "fixture: failing-1.0 fails to build on purpose");
});

Deno.test("writeProfileFlake() env builtin makes what nix-env makes", async () => {
  await using nix = await makeNixSandbox();
  const flake = join(nix.work, "profile");
  await writeProfileFlake(flake, [HELLO, { name: "jq", version: "1.6", bins: ["jq"] }], {
    system: nix.system,
    env: "builtin",
    attr: "legacyPackages.profile",
  });
  const env = await build(nix, `path:${flake}#profile`);
  assertOk((await Deno.lstat(join(env, "manifest.nix"))).isSymlink);
  await nix.runOk(["nix-env", "-p", nix.profile, "--set", env]);
  const q = await nix.runOk(["nix-env", "-p", nix.profile, "-q", "--description"]);
  assertEquals(q.stdout.split("\n").map((l) => l.trimEnd()), [
    `hello-2.12  ${HELLO.description}`,
    "jq-1.6",
    "",
  ]);
  const out = await nix.runOk(["nix-env", "-p", nix.profile, "-q", "--out-path", "hello"]);
  assertStringIncludes(out.stdout, "man=");
  assertEquals((await nix.runOk([join(nix.profile, "bin", "jq")])).stdout, "jq 1.6\n");
});

Deno.test("writeProfileFlake() attr packages.default is the flake's default", async () => {
  await using nix = await makeNixSandbox();
  const flake = join(nix.work, "profile");
  await writeProfileFlake(flake, [{ name: "hello", version: "2.12", bins: ["hello"] }], {
    system: nix.system,
    attr: "packages.default",
  });
  const env = await build(nix, `path:${flake}`);
  assertEquals((await nix.runOk([join(env, "bin", "hello")])).stdout, "hello 2.12\n");
});

Deno.test("writePackageSet() stands in for nixpkgs", async () => {
  await using nix = await makeNixSandbox();
  const set = join(nix.work, "nixpkgs");
  await writePackageSet(set, [
    HELLO,
    { name: "ripgrep", version: "13.0", bins: ["rg"], outputs: ["out", "doc"] },
  ], { system: nix.system });
  // A profile flake written for nixpkgs, using the same names.
  const flake = join(nix.work, "profile");
  await Deno.mkdir(flake);
  await Deno.writeTextFile(
    join(flake, "flake.nix"),
    `{
  inputs.nixpkgs.url = "path:${set}";
  outputs = { self, nixpkgs }: {
    packages = nixpkgs.lib.genAttrs [ "${nix.system}" ] (system:
      let pkgs = nixpkgs.legacyPackages.\${system}; in {
        profile = pkgs.buildEnv {
          name = "profile";
          paths = [ pkgs.hello pkgs.ripgrep ];
          extraOutputsToInstall = [ "doc" ];
        };
      });
  };
}
`,
  );
  const env = await build(nix, `path:${flake}#profile`);
  assertEquals(Object.keys(await links(env)).sort(), [
    "bin/hello",
    "bin/rg",
    "share/doc/hello/README",
    "share/doc/ripgrep",
    "share/man/man1/hello.1",
  ]);
  const pkg = await build(nix, `path:${set}#hello`);
  assertEquals((await nix.runOk([join(pkg, "bin", "hello")])).stdout, "hello 2.12\n");
});

Deno.test("writeProfileFlake() rejects specs Nix would mishandle", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const system = "x86_64-linux";
    const cases: [FixturePackage[], string][] = [
      [[{ name: "has space" }], "characters a store path cannot"],
      [[{ name: "profile" }], "taken by another attribute"],
      [[{ name: "a" }, { name: "a" }], "used twice"],
      [[{ name: "a", outputs: ["man"] }], "must include 'out'"],
      [[{ name: "a", bins: ["../x"] }], "not a plain file name"],
      [[{ name: "a", files: { "../x": "" } }], "not a plain relative path"],
    ];
    for (const [pkgs, message] of cases) {
      await assertRejects(() => writeProfileFlake(dir, pkgs, { system }), TypeError, message);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Builds a big profile and sets it, checking that every package is there. */
async function bigProfile(nix: NixSandbox, count: number): Promise<void> {
  const flake = join(nix.work, "big");
  await writeBigProfileFlake(flake, count, { system: nix.system });
  const env = await build(nix, `path:${flake}#profile`);
  await nix.runOk(["nix-env", "-p", nix.profile, "--set", env]);
  assertEquals(
    (await nix.runOk([join(nix.profile, "bin", `p${count}`)])).stdout,
    `p${count} 1.0\n`,
  );
  const q = await nix.runOk(["nix-env", "-p", nix.profile, "-q"]);
  assertEquals(q.stdout.trim().split("\n").length, count);
  const refs = await nix.runOk(["nix-store", "-q", "--references", env]);
  // The packages and the manifest.
  assertEquals(refs.stdout.trim().split("\n").length, count + 1);
}

Deno.test("writeBigProfileFlake() builds 1,000 packages", async () => {
  await using nix = await makeNixSandbox();
  await bigProfile(nix, 1000);
});

Deno.test({
  name: "writeBigProfileFlake() builds 10,000 packages",
  // About 8 s on tmpfs and 12 s on disk: opt in with FPROF_TEST_BIG=1.
  ignore: !Deno.env.get("FPROF_TEST_BIG"),
  async fn() {
    await using nix = await makeNixSandbox();
    await bigProfile(nix, 10_000);
  },
});
