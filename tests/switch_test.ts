/**
 * Integration tests of the core loop against the real Nix, on an isolated
 * store per test: switch, list, rollback and generations, and round trips
 * through nix-env and nix profile.
 */

import { testManifestJsonVersion, testPathInfo } from "./helpers/nix_version.ts";
import { join } from "node:path";
import { assertEquals, assertOk, assertStringIncludes } from "./helpers/testing.ts";
import { writeProfileFlake } from "./helpers/fixtures.ts";
import { fprof, fprofOk, snapshot } from "./helpers/fprof.ts";
import { makeNixSandbox, type NixSandbox } from "./helpers/sandbox.ts";
import {
  A,
  abcFlakes,
  B,
  C,
  nixEnvInstallExtra,
  pathExists,
  profileFlake,
} from "./helpers/scenario.ts";

interface ListDoc {
  profile: string;
  generation: number | null;
  storePath: string | null;
  manifest: string;
  packages: { name: string; version: string; storePaths: string[] }[];
}

async function listJson(sb: NixSandbox, ...args: string[]): Promise<ListDoc> {
  return JSON.parse((await fprofOk(sb, ["list", "--json", ...args])).stdout);
}

const names = (doc: ListDoc) => doc.packages.map((p) => `${p.name}-${p.version}`).sort();

async function generationLinks(sb: NixSandbox, profile = sb.profile): Promise<string[]> {
  const dir = join(profile, "..");
  const base = profile.split("/").pop()!;
  return (await Array.fromAsync(Deno.readDir(dir)))
    .map((e) => e.name)
    .filter((n) => n.startsWith(`${base}-`) && n.endsWith("-link"))
    .sort();
}

async function run(sb: NixSandbox, program: string): Promise<string> {
  return (await sb.runOk([join(sb.profile, "bin", program)])).stdout.trim();
}

Deno.test("switch writes manifest.nix that fprof list, nix-env -q and nix profile list read, and survives GC", async () => {
  await using sb = await makeNixSandbox();
  const a = await profileFlake(sb, "a", A);
  const r = await fprofOk(sb, ["switch", a]);
  assertStringIncludes(r.stderr, "+ hello 2.12.1");
  assertStringIncludes(r.stderr, "switched");
  assertEquals(r.stdout, "");

  // No --profile: fprof followed the default, and made ~/.nix-profile for it.
  const doc = await listJson(sb);
  assertEquals(doc.manifest, "nix");
  assertEquals(doc.generation, 1);
  assertEquals(names(doc), ["gone-1.0", "hello-2.12.1", "jq-1.6"]);
  assertEquals(
    await Deno.realPath(join(sb.home, ".nix-profile")),
    await Deno.realPath(doc.profile),
  );
  const human = (await fprofOk(sb, ["list"])).stdout;
  assertEquals(human, "gone   1.0\nhello  2.12.1\njq     1.6\n");

  const nixEnv = await sb.runOk(["nix-env", "-q"]);
  assertEquals(nixEnv.stdout.trim().split("\n").sort(), ["gone-1.0", "hello-2.12.1", "jq-1.6"]);
  const outPaths = await sb.runOk(["nix-env", "-q", "--out-path", "hello"]);
  assertStringIncludes(outPaths.stdout, "-hello-2.12.1");
  const nixProfile = await sb.runOk(["nix", "profile", "list", "--profile", doc.profile]);
  for (const p of doc.packages) assertStringIncludes(nixProfile.stdout, p.storePaths[0]);

  // The generation is content-addressed, and its closure holds every package.
  const [info] = await testPathInfo(async (argv) => (await sb.runOk(argv)).stdout, [], [
    doc.storePath!,
  ]);
  assertOk(info.ca?.startsWith("fixed:r:sha256:"), info.ca);
  const refs = (await sb.runOk(["nix-store", "-q", "--requisites", doc.storePath!])).stdout;
  for (const p of doc.packages) assertStringIncludes(refs, p.storePaths[0]);

  await sb.runOk(["nix-store", "--gc"]);
  const hello = await sb.runOk([join(sb.home, ".nix-profile", "bin", "hello")]);
  assertEquals(hello.stdout, "hello 2.12.1\n");
  assertEquals(names(await listJson(sb)), ["gone-1.0", "hello-2.12.1", "jq-1.6"]);
});

Deno.test("switching to the same content makes no new generation", async () => {
  await using sb = await makeNixSandbox();
  const a = await profileFlake(sb, "a", A);
  await fprofOk(sb, ["switch", "--profile", sb.profile, a]);
  const before = await snapshot(sb);
  const r = await fprofOk(sb, ["switch", "--profile", sb.profile, a]);
  assertStringIncludes(r.stderr, "no changes: generation 1 already has this content");
  assertEquals(await snapshot(sb), before);
  assertEquals(await generationLinks(sb), ["profile-1-link"]);
});

Deno.test("switch shows the diff, and rollback follows the parent rather than the previous number", async () => {
  await using sb = await makeNixSandbox();
  const [a, b, c] = await abcFlakes(sb);
  const p = ["--profile", sb.profile];
  await fprofOk(sb, ["switch", ...p, a]);
  const r = await fprofOk(sb, ["switch", ...p, b]);
  for (const line of ["~ hello 2.12.1 → 2.12.2", "+ ripgrep 14.1.0", "- gone 1.0"]) {
    assertStringIncludes(r.stderr, line);
  }
  assertEquals(await run(sb, "hello"), "hello 2.12.2");

  const back = await fprofOk(sb, ["rollback", ...p]);
  assertStringIncludes(back.stderr, "generation 2 → 1 (its parent)");
  assertEquals(await run(sb, "hello"), "hello 2.12.1");

  // Generation 3 is made from 1; nix-env --rollback would go to 2.
  await fprofOk(sb, ["switch", ...p, c]);
  const dry = await fprofOk(sb, ["rollback", ...p, "--dry-run"]);
  assertStringIncludes(dry.stdout, "generation 3 → 1 (its parent)");
  assertEquals(await run(sb, "cowsay"), "cowsay 3.7");
  await fprofOk(sb, ["rollback", ...p]);
  assertEquals((await listJson(sb, ...p)).generation, 1);

  const gens = JSON.parse((await fprofOk(sb, ["generations", "--json", ...p])).stdout);
  assertEquals(
    gens.generations.map((g: { number: number; parent: number | null; current: boolean }) => [
      g.number,
      g.parent,
      g.current,
    ]),
    [[1, null, true], [2, 1, false], [3, 1, false]],
  );
  assertEquals(gens.generations[1].source.flake, b);
  assertEquals(gens.generations[1].source.attr, `packages.${sb.system}.profile`);
  assertOk(gens.generations[1].source.lockedUrl.includes("narHash="));

  // The records are where the README says, outside the profile directory.
  const records = join(sb.xdgState, "fprof", "profiles", `${encodeURIComponent(sb.profile)}.json`);
  assertEquals(Object.keys(JSON.parse(await Deno.readTextFile(records)).generations), [
    "1",
    "2",
    "3",
  ]);

  // --json: the plan of a dry run, what a rollback did, and a rollback to the current one.
  const dryJson = await fprofOk(sb, ["rollback", ...p, "--to", "2", "--dry-run", "--json"]);
  const plan = JSON.parse(dryJson.stdout);
  assertEquals([plan.action, plan.from.generation, plan.to.generation, plan.reason], [
    "dry-run",
    1,
    2,
    "parent",
  ]);
  assertEquals(plan.packages.added.map((x: { name: string }) => x.name), ["ripgrep"]);
  assertEquals(plan.profile, sb.profile);
  const done = await fprofOk(sb, ["rollback", ...p, "--to", "3", "--json"]);
  assertEquals(JSON.parse(done.stdout).action, "rolled-back");
  assertEquals(JSON.parse(done.stdout).packages.added[0].name, "cowsay");
  const none = await fprofOk(sb, ["rollback", ...p, "--to", "3", "--json"]);
  assertEquals(JSON.parse(none.stdout).action, "none");
  await fprofOk(sb, ["rollback", ...p, "--to", "1"]);

  // --to N goes anywhere, and list --generation reads any generation.
  await fprofOk(sb, ["rollback", ...p, "--to", "2"]);
  assertEquals(names(await listJson(sb, ...p)), ["hello-2.12.2", "jq-1.6", "ripgrep-14.1.0"]);
  assertEquals(names(await listJson(sb, ...p, "--generation", "3")), ["cowsay-3.7"]);
});

Deno.test("rollback of a generation made by another tool goes to the previous number and says so", async () => {
  await using sb = await makeNixSandbox();
  const a = await profileFlake(sb, "a", A);
  await fprofOk(sb, ["switch", "--profile", sb.profile, a]);
  await nixEnvInstallExtra(sb);
  const r = await fprofOk(sb, ["rollback", "--profile", sb.profile]);
  assertStringIncludes(r.stderr, "was not made by fprof");
  assertEquals((await listJson(sb, "--profile", sb.profile)).generation, 1);
});

Deno.test("--manifest=json serves nix profile, and auto keeps json afterwards", async () => {
  await using sb = await makeNixSandbox();
  const a = await profileFlake(sb, "a", A);
  const p = ["--profile", sb.profile];
  await fprofOk(sb, ["switch", ...p, "--manifest=json", a]);
  const doc = await listJson(sb, ...p);
  assertEquals(doc.manifest, "json");
  const manifest = JSON.parse(await Deno.readTextFile(join(sb.profile, "manifest.json")));
  assertEquals(manifest.version, testManifestJsonVersion());
  assertOk(!(await pathExists(join(sb.profile, "manifest.nix"))));

  const listed = await sb.runOk(["nix", "profile", "list", ...p]);
  for (const pkg of doc.packages) assertStringIncludes(listed.stdout, pkg.storePaths[0]);

  // nix profile install adds to the declared packages.
  await sb.runOk(["nix", "profile", "install", ...p, `${a}#jq`.replace("#jq", "#hello")]);
  const added = join(sb.work, "added");
  await writeProfileFlake(added, [{ name: "extra", version: "0.1", bins: ["extra"] }], {
    system: sb.system,
  });
  await sb.runOk(["nix", "profile", "install", ...p, `path:${added}#extra`]);
  const after = await listJson(sb, ...p);
  assertOk(names(after).includes("extra-0.1"), names(after).join(" "));
  assertOk(names(after).includes("jq-1.6"));

  // The next switch sees manifest.json and keeps writing it; --yes drops
  // what nix profile added without asking.
  const b = await profileFlake(sb, "b", B);
  const r = await fprofOk(sb, ["switch", ...p, "--yes", b]);
  assertStringIncludes(r.stderr, "- extra 0.1");
  assertEquals((await listJson(sb, ...p)).manifest, "json");
  await sb.runOk(["nix-store", "--gc"]);
  assertEquals(await run(sb, "rg"), "ripgrep 14.1.0");
});

Deno.test("nix-env -i on an fprof generation keeps the declared packages", async () => {
  await using sb = await makeNixSandbox();
  const a = await profileFlake(sb, "a", A);
  await fprofOk(sb, ["switch", "--profile", sb.profile, a]);
  await nixEnvInstallExtra(sb);
  assertEquals(names(await listJson(sb, "--profile", sb.profile)), [
    "extra-0.1",
    "gone-1.0",
    "hello-2.12.1",
    "jq-1.6",
  ]);
  await sb.runOk(["nix-env", "--profile", sb.profile, "-e", "gone"]);
  assertEquals(names(await listJson(sb, "--profile", sb.profile)), [
    "extra-0.1",
    "hello-2.12.1",
    "jq-1.6",
  ]);
  assertEquals(await run(sb, "hello"), "hello 2.12.1");
});

Deno.test("--manifest=none makes the environment itself the generation, listed from its references", async () => {
  await using sb = await makeNixSandbox();
  const a = await profileFlake(sb, "a", A);
  await fprofOk(sb, ["switch", "--profile", sb.profile, "--manifest=none", a]);
  const doc = await listJson(sb, "--profile", sb.profile);
  assertEquals(doc.manifest, "none");
  assertStringIncludes(doc.storePath!, "-profile");
  assertEquals(names(doc), ["gone-1.0", "hello-2.12.1", "jq-1.6"]);
  // auto on a manifest-less generation writes manifest.nix.
  await fprofOk(sb, ["switch", "--profile", sb.profile, "--manifest", a]);
  assertEquals((await listJson(sb, "--profile", sb.profile)).manifest, "nix");
});

Deno.test("--dry-run builds and prints the plan but changes nothing", async () => {
  await using sb = await makeNixSandbox();
  const [a, b] = [await profileFlake(sb, "a", A), await profileFlake(sb, "b", B)];
  await fprofOk(sb, ["switch", "--profile", sb.profile, a]);
  const before = await snapshot(sb);
  const r = await fprofOk(sb, ["switch", "--profile", sb.profile, "--dry-run", b]);
  assertStringIncludes(r.stdout, "would switch");
  assertStringIncludes(r.stdout, "~ hello 2.12.1 → 2.12.2");
  assertEquals(await snapshot(sb), before);
});

Deno.test("attributes are found in the documented order, and store paths and result links work", async () => {
  await using sb = await makeNixSandbox();
  for (const attr of ["legacyPackages.profile", "packages.default"] as const) {
    const dir = join(sb.work, attr);
    await writeProfileFlake(dir, C, { system: sb.system, attr });
    const profile = join(sb.work, `p-${attr}`, "profile");
    const r = await fprofOk(sb, ["switch", "--profile", profile, `path:${dir}`]);
    assertStringIncludes(r.stderr, `${attr.split(".")[0]}.${sb.system}.${attr.split(".")[1]}`);
    assertEquals(names(await listJson(sb, "--profile", profile)), ["cowsay-3.7"]);
  }
  // A result link from nix build is a store path installable.
  const a = await profileFlake(sb, "a", A);
  await sb.runOk(["nix", "build", `${a}#profile`, "--out-link", join(sb.work, "result")], {
    cwd: sb.work,
  });
  await fprofOk(sb, ["switch", "--profile", sb.profile, "./result"], { cwd: sb.work });
  assertEquals(names(await listJson(sb, "--profile", sb.profile)), [
    "gone-1.0",
    "hello-2.12.1",
    "jq-1.6",
  ]);
  const gens = JSON.parse(
    (await fprofOk(sb, ["generations", "--json", "--profile", sb.profile])).stdout,
  );
  assertEquals(gens.generations[0].source, null);
});

Deno.test("switch refuses to drop bin/nix from the profile unless --force", async () => {
  await using sb = await makeNixSandbox();
  const withNix = await profileFlake(sb, "n", [
    { name: "nix", version: "2.8.0", bins: ["nix"] },
    ...C,
  ]);
  const withoutNix = await profileFlake(sb, "c", C);
  await fprofOk(sb, ["switch", "--profile", sb.profile, withNix]);
  const before = await snapshot(sb);
  const r = await fprof(sb, ["switch", "--profile", sb.profile, withoutNix]);
  assertEquals(r.code, 1);
  assertStringIncludes(
    r.stderr,
    "error: refusing to switch: the current generation provides 'bin/nix'",
  );
  assertEquals(await snapshot(sb), before);
  await fprofOk(sb, ["switch", "--profile", sb.profile, "--force", withoutNix]);
  assertEquals(names(await listJson(sb, "--profile", sb.profile)), ["cowsay-3.7"]);
  // Rolling back onto the generation with nix is fine; away from it again is not.
  await fprofOk(sb, ["rollback", "--profile", sb.profile]);
  assertEquals((await fprof(sb, ["rollback", "--profile", sb.profile, "--to", "2"])).code, 1);
});

Deno.test("an environment with its own manifest.nix and multi-output packages lists cleanly", async () => {
  await using sb = await makeNixSandbox();
  const dir = join(sb.work, "builtin");
  await writeProfileFlake(dir, [
    { name: "tool", version: "3.1", bins: ["tool"], outputs: ["out", "man"] },
    { name: "hello", version: "2.12.1", bins: ["hello"] },
  ], { system: sb.system, env: "builtin" });
  await fprofOk(sb, ["switch", "--profile", sb.profile, `path:${dir}`]);
  const doc = await listJson(sb, "--profile", sb.profile);
  assertEquals(names(doc), ["hello-2.12.1", "tool-3.1"]);
  assertEquals(doc.packages.find((p) => p.name === "tool")!.storePaths.length, 2);
  assertEquals(
    (await sb.runOk(["nix-env", "--profile", sb.profile, "-q"])).stdout,
    "hello-2.12.1\ntool-3.1\n",
  );
});

Deno.test("the config file supplies the default flake, profile and manifest; flags win", async () => {
  await using sb = await makeNixSandbox();
  const [a, b] = [await profileFlake(sb, "a", A), await profileFlake(sb, "b", B)];
  const profile = join(sb.work, "cfg", "profile");
  await Deno.mkdir(join(sb.xdgConfig, "fprof"), { recursive: true });
  await Deno.writeTextFile(
    join(sb.xdgConfig, "fprof", "config.jsonc"),
    `{\n  // my laptop\n  "flake": "${a}",\n  "profile": "${profile}",\n  "manifest": "json",\n}\n`,
  );
  await fprofOk(sb, ["switch"]);
  const doc = await listJson(sb);
  assertEquals([doc.profile, doc.manifest], [profile, "json"]);
  await fprofOk(sb, ["switch", "--manifest=nix", b]);
  const doc2 = await listJson(sb);
  assertEquals([doc2.manifest, names(doc2).length], ["nix", 3]);
  assertStringIncludes(names(doc2).join(" "), "ripgrep");
});
