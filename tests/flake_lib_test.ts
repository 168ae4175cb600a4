/**
 * Integration tests of fprof's Nix library (`lib.mkProfile` in flake.nix)
 * against the real Nix on an isolated store: its plain-Nix `.switch`,
 * `.rollback`, `.list` and `.pin`, its `passthru.fprof` record, and what
 * `fprof switch` and `fprof list` make of that record. The package set is
 * the fake nixpkgs of tests/helpers (buildEnv, writeShellScriptBin,
 * linkFarm from /bin/sh builders).
 */

import { join } from "node:path";
import { machineName } from "../lib/nix/installable.ts";
import { assertEquals, assertOk, assertStringIncludes } from "./helpers/testing.ts";
import { type FixturePackage, writePackageSet } from "./helpers/fixtures.ts";
import { fprofOk } from "./helpers/fprof.ts";
import { writeFprofFlake } from "./helpers/fprof_flake.ts";
import { makeNixSandbox, type NixSandbox } from "./helpers/sandbox.ts";
import { pathExists } from "./helpers/scenario.ts";

const PKGS: FixturePackage[] = [
  { name: "hello", version: "2.12", bins: ["hello"], description: "Prints a greeting" },
  { name: "jq", version: "1.6", bins: ["jq"], outputs: ["out", "man"] },
  { name: "ripgrep", version: "14.1.0", bins: ["rg"], priority: 3 },
  { name: "cowsay", version: "3.7", bins: ["cowsay"] },
  // The templates' desktop machine has it.
  { name: "xterm", version: "390", bins: ["xterm"] },
];

/**
 * A profile flake using fprof's library from a copy of this checkout and
 * the fake package set as nixpkgs. `body` is the let-bound profile
 * definitions' attrset, with `p` the package set and `mk` lib.mkProfile.
 */
async function profileFlake(sb: NixSandbox, name: string, body: string): Promise<string> {
  const pkgs = join(sb.work, "pkgs");
  const fprofDir = join(sb.work, "fprof");
  try {
    await Deno.stat(pkgs);
  } catch {
    await writePackageSet(pkgs, PKGS, { system: sb.system });
    await writeFprofFlake(fprofDir);
  }
  const dir = join(sb.work, name);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    join(dir, "flake.nix"),
    `{
  inputs.nixpkgs.url = "path:${pkgs}";
  inputs.fprof.url = "path:${fprofDir}";
  inputs.fprof.inputs.nixpkgs.follows = "nixpkgs";
  outputs = { self, nixpkgs, fprof }:
    let
      p = nixpkgs.legacyPackages.${sb.system};
      mk = args: fprof.lib.mkProfile ({ pkgs = p; } // args);
    in
    { legacyPackages.${sb.system} = ${body}; };
}
`,
  );
  return `path:${dir}`;
}

const attr = (sb: NixSandbox, name: string) => `legacyPackages.${sb.system}.${name}`;

async function nixRun(sb: NixSandbox, installable: string, ...args: string[]) {
  return await sb.runOk(["nix", "run", installable, "--", ...args]);
}

Deno.test("mkProfile's .switch, .list, .rollback and .pin work with plain Nix", async () => {
  await using sb = await makeNixSandbox();
  const flake = await profileFlake(
    sb,
    "p",
    `{
      one = mk { paths = { inherit (p) hello; }; groups.cli = [ p.jq ]; pinned = { inherit nixpkgs; }; };
      two = mk { paths = [ p.cowsay ]; };
    }`,
  );
  await nixRun(sb, `${flake}#${attr(sb, "one")}.switch`);
  assertEquals(
    (await sb.runOk([join(sb.home, ".nix-profile", "bin", "hello")])).stdout.trim(),
    "hello 2.12",
  );
  const listed = (await nixRun(sb, `${flake}#${attr(sb, "one")}.list`)).stdout;
  assertEquals(listed.trim().split("\n"), ["hello-2.12", "jq-1.6", "jq-1.6-man"]);

  await nixRun(sb, `${flake}#${attr(sb, "two")}.switch`);
  assertOk(await pathExists(join(sb.home, ".nix-profile", "bin", "cowsay")));
  await nixRun(sb, `${flake}#${attr(sb, "two")}.rollback`);
  assertOk(await pathExists(join(sb.home, ".nix-profile", "bin", "hello")));
  assertOk(!(await pathExists(join(sb.home, ".nix-profile", "bin", "cowsay"))));

  const pin = await nixRun(sb, `${flake}#${attr(sb, "one")}.pin`);
  assertStringIncludes(pin.stdout, "pinned nixpkgs to");
  const registry = (await sb.runOk(["nix", "registry", "list"])).stdout;
  const source = /^user +flake:nixpkgs +path:(\S+-source)$/m.exec(registry)?.[1];
  assertOk(source, registry);
  // nix-shell -p and <nixpkgs> find the same tree through the channels profile.
  assertEquals(
    await Deno.realPath(join(sb.home, ".nix-defexpr", "channels", "nixpkgs")),
    source,
  );
});

Deno.test("mkProfile records each package in passthru.fprof, and says what to change when misused", async () => {
  await using sb = await makeNixSandbox();
  const flake = await profileFlake(
    sb,
    "p",
    `{
      profile = mk {
        paths = { inherit (p) hello; };
        groups = { cli = { inherit (p) ripgrep; }; docs = [ p.jq ]; };
        extraOutputsToInstall = [ "man" ];
      };
      single = mk { paths = p.hello; };
    }`,
  );
  const record = JSON.parse(
    (await sb.runOk(["nix", "eval", "--json", `${flake}#${attr(sb, "profile")}.passthru.fprof`]))
      .stdout,
  );
  const out = (s: string) => s.startsWith(sb.storeDir + "/");
  assertEquals(record.schema, 1);
  assertEquals(
    record.packages.map((q: Record<string, unknown>) => ({
      ...q,
      outPaths: Object.entries(q.outPaths as Record<string, string>).map(([o, v]) =>
        `${o}:${out(v)}`
      ),
    })),
    [
      {
        name: "hello-2.12",
        pname: "hello",
        version: "2.12",
        outputs: ["out"],
        outPaths: ["out:true"],
        priority: 5,
        description: "Prints a greeting",
        attrPath: "hello",
      },
      {
        name: "ripgrep-14.1.0",
        pname: "ripgrep",
        version: "14.1.0",
        outputs: ["out"],
        outPaths: ["out:true"],
        priority: 3,
        description: null,
        attrPath: "ripgrep",
        group: "cli",
      },
      {
        name: "jq-1.6",
        pname: "jq",
        version: "1.6",
        outputs: ["out", "man"],
        outPaths: ["man:true", "out:true"],
        priority: 5,
        description: null,
        group: "docs",
      },
    ],
  );
  const bad = await sb.run(["nix", "eval", "--json", `${flake}#${attr(sb, "single")}.fprof`]);
  assertEquals(bad.code, 1);
  assertStringIncludes(bad.stderr, "A single package needs brackets: `paths = [ pkgs.hello ];`");
});

Deno.test("fprof switch reads passthru.fprof: descriptions, priorities, attr paths, groups, and the machine's own profile", async () => {
  await using sb = await makeNixSandbox();
  const host = machineName(Deno.hostname());
  assertOk(host, `this test needs a host name that is a Nix identifier: ${Deno.hostname()}`);
  const flake = await profileFlake(
    sb,
    "p",
    `{
      profile = mk { paths = [ p.cowsay ]; };
      profiles.${JSON.stringify(host)} = mk {
        paths = { inherit (p) hello; };
        groups = { cli = { inherit (p) ripgrep; }; docs = [ p.jq ]; };
      };
    }`,
  );
  // No attribute: profiles.<this host> wins over profile.
  const r = await fprofOk(sb, ["switch", "--manifest=json", flake]);
  assertStringIncludes(r.stderr, `built ${attr(sb, `profiles.${host}`)}`);

  const doc = JSON.parse((await fprofOk(sb, ["list", "--json"])).stdout);
  const byName = Object.fromEntries(
    doc.packages.map((q: Record<string, unknown>) => [q.name, q]),
  );
  assertEquals(Object.keys(byName).sort(), ["hello", "jq", "ripgrep"]);
  assertEquals(byName.hello.attrPath, `${attr(sb, `profiles.${host}`)}.packages.hello`);
  assertOk(String(byName.hello.source).startsWith("path:"), byName.hello.source);
  assertEquals(byName.jq.attrPath, undefined);

  const grouped = (await fprofOk(sb, ["list", "--group"])).stdout;
  assertEquals(
    grouped,
    "cli:\n  ripgrep  14.1.0\ndocs:\n  jq  1.6\n(no group):\n  hello  2.12\n",
  );

  // manifest.json's url#attrPath builds the package, as `nix profile upgrade` needs.
  const profileList = (await sb.runOk(["nix", "profile", "list"])).stdout;
  // `url#attr` on one line up to 2.16; a `Flake attribute:` line from 2.20.
  const helloAttr = `${attr(sb, `profiles.${host}`)}.packages.hello`;
  assertOk(
    profileList.includes(`#${helloAttr}`) ||
      profileList.includes(`Flake attribute:    ${helloAttr}`),
    profileList,
  );
  await sb.runOk(["nix", "profile", "upgrade", ".*"]);

  // manifest.nix carries descriptions and priorities (Nix 2.8's
  // manifest.json has no priority) to nix-env and fprof list.
  await fprofOk(sb, ["switch", "--manifest=nix", `${flake}#${attr(sb, `profiles.${host}`)}`]);
  const meta = (await sb.runOk(["nix-env", "-q", "--description"])).stdout;
  assertStringIncludes(meta, "Prints a greeting");
  const nixDoc = JSON.parse((await fprofOk(sb, ["list", "--json"])).stdout);
  const rg = nixDoc.packages.find((q: { name: string }) => q.name === "ripgrep");
  assertEquals([rg.priority, nixDoc.manifest], [3, "nix"]);

  // The same packages in other groups: no new generation, new groups recorded.
  const before = (await fprofOk(sb, ["generations", "--json"])).stdout;
  await profileFlake(
    sb,
    "p",
    `{
      profile = mk { paths = [ p.cowsay ]; };
      profiles.${JSON.stringify(host)} = mk {
        paths = { inherit (p) hello; };
        groups = { cli = { inherit (p) ripgrep; } // { inherit (p) jq; }; };
      };
    }`,
  );
  const regroup = await fprofOk(sb, ["switch", "--manifest=nix", flake]);
  assertStringIncludes(regroup.stderr, "recorded the new groups");
  assertEquals(
    JSON.parse((await fprofOk(sb, ["generations", "--json"])).stdout).generations.length,
    JSON.parse(before).generations.length,
  );
  assertEquals(
    (await fprofOk(sb, ["list", "--group"])).stdout,
    "cli:\n  jq       1.6\n  ripgrep  14.1.0\n(no group):\n  hello  2.12\n",
  );
});

Deno.test("the flake's lib and templates evaluate without fetching nixpkgs, and its checks evaluate both templates", async () => {
  await using sb = await makeNixSandbox();
  const pkgs = join(sb.work, "pkgs");
  await writePackageSet(pkgs, PKGS, { system: sb.system });
  const flake = await writeFprofFlake(join(sb.work, "fprof"));
  const override = ["--override-input", "nixpkgs", `path:${pkgs}`];
  const templates = JSON.parse(
    (await sb.runOk([
      "nix",
      "eval",
      "--json",
      `${flake}#templates`,
      "--apply",
      "builtins.attrNames",
      ...override,
    ])).stdout,
  );
  assertEquals(templates, ["default", "no-flake"]);
  const checks = `${flake}#checks.${sb.system}`;
  const names = JSON.parse(
    (await sb.runOk([
      "nix",
      "eval",
      "--json",
      checks,
      "--apply",
      "builtins.attrNames",
      ...override,
    ])).stdout,
  );
  assertEquals(names, ["default", "desktop", "laptop", "no-flake"]);
  for (const name of names) {
    const built = JSON.parse(
      (await sb.runOk(["nix", "build", "--json", "--no-link", `${checks}.${name}`, ...override]))
        .stdout,
    );
    const summary = JSON.parse(await Deno.readTextFile(built[0].outputs.out));
    assertOk(summary.packages.includes("hello-2.12"), JSON.stringify(summary));
  }
});

Deno.test("the flake's lib and templates evaluate offline from its flake.lock, and nix flake init copies the library", async () => {
  await using sb = await makeNixSandbox();
  const flake = await writeFprofFlake(join(sb.work, "fprof"));
  const lock = await Deno.readTextFile(join(sb.work, "fprof", "flake.lock"));
  const names = async (attr: string) =>
    JSON.parse(
      (await sb.runOk([
        "nix",
        "eval",
        "--json",
        `${flake}#${attr}`,
        "--apply",
        "builtins.attrNames",
      ]))
        .stdout,
    );
  assertEquals(await names("lib"), ["mkProfile"]);
  assertEquals(await names("templates"), ["default", "no-flake"]);
  // Nothing was fetched or locked again: the store has no nixpkgs, and the lock is as committed.
  assertEquals(await Deno.readTextFile(join(sb.work, "fprof", "flake.lock")), lock);
  const dir = join(sb.work, "mine");
  await Deno.mkdir(dir);
  await sb.runOk(["nix", "flake", "init", "-t", flake], { cwd: dir });
  assertEquals((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort(), [
    "flake.nix",
    "fprof.nix",
  ]);
});
