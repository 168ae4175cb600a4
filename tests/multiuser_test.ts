/**
 * The whole core scenario as an untrusted user of a multi-user installation:
 * `fprof-test` talks to a root `nix-daemon` (`NIX_REMOTE=daemon`), so every
 * store write fprof makes goes through the daemon's checks, and garbage
 * collection sees only the roots Nix registered.
 *
 * Needs root to start the daemon and switch user; ignored otherwise.
 *
 * @module
 */

import { testPathInfo } from "./helpers/nix_version.ts";
import { join } from "node:path";
import { assertEquals, assertOk, assertStringIncludes } from "./helpers/testing.ts";
import { type FixturePackage, writeProfileFlake } from "./helpers/fixtures.ts";
import { fprofOk } from "./helpers/fprof.ts";
import { daemonUnavailable, makeNixSandbox, type NixSandbox } from "./helpers/sandbox.ts";
import { pathExists } from "./helpers/scenario.ts";

const noDaemon = daemonUnavailable();

const V1: FixturePackage[] = [
  { name: "hello", version: "2.12", bins: ["hello"] },
  { name: "jq", version: "1.6", bins: ["jq"] },
  { name: "ripgrep", version: "13.0", bins: ["rg"] },
];
// jq upgraded, fd added, ripgrep removed.
const V2: FixturePackage[] = [
  { name: "hello", version: "2.12", bins: ["hello"] },
  { name: "jq", version: "1.7", bins: ["jq"] },
  { name: "fd", version: "8.7", bins: ["fd"] },
];
const EXTRA: FixturePackage = { name: "cowsay", version: "3.04", bins: ["cowsay"] };

interface ListedPackage {
  name: string;
  version: string;
  storePaths: string[];
}

interface ListJson {
  generation: number;
  storePath: string;
  manifest: string;
  packages: ListedPackage[];
}

async function listJson(sb: NixSandbox): Promise<ListJson> {
  return JSON.parse((await fprofOk(sb, ["list", "--json"])).stdout);
}

function nameVersions(list: ListJson): string[] {
  return list.packages.map((p) => `${p.name}-${p.version}`).sort();
}

function labels(pkgs: FixturePackage[]): string[] {
  return pkgs.map((p) => `${p.name}-${p.version}`).sort();
}

/** The generation numbers of the sandbox user's default profile, from its links. */
async function generationNumbers(sb: NixSandbox): Promise<number[]> {
  const dir = join(sb.defaultProfile, "..");
  const out: number[] = [];
  for await (const e of Deno.readDir(dir)) {
    const m = /^profile-(\d+)-link$/.exec(e.name);
    if (m) out.push(Number(m[1]));
  }
  return out.sort((a, b) => a - b);
}

/** Runs every package's programs through `~/.nix-profile` and checks what they print. */
async function assertBinariesRun(sb: NixSandbox, pkgs: FixturePackage[]): Promise<void> {
  for (const p of pkgs) {
    for (const bin of p.bins ?? []) {
      const r = await sb.runOk([join(sb.home, ".nix-profile", "bin", bin)]);
      assertEquals(r.stdout, `${p.name} ${p.version}\n`, `${bin} of ${p.name}`);
    }
  }
}

/** Collects garbage after adding a stray path, and proves the collector removed it. */
async function collectGarbage(sb: NixSandbox, label: string): Promise<void> {
  const file = join(sb.work, `stray-${label}.txt`);
  await Deno.writeTextFile(file, `${label}\n`);
  const stray = (await sb.runOk(["nix-store", "--add", file])).stdout.trim();
  await sb.runOk(["nix-store", "--gc"]);
  assertOk(!(await pathExists(stray)), `the collector ran (${stray} is gone)`);
}

/**
 * Each path is content-addressed the way `nix profile` adds its generations;
 * returns each one's references.
 */
async function assertContentAddressed(
  sb: NixSandbox,
  paths: string[],
): Promise<Map<string, string[]>> {
  const infos = await testPathInfo(async (argv) => (await sb.runOk(argv)).stdout, [], paths);
  assertEquals(infos.map((i) => i.path).sort(), [...paths].sort());
  for (const info of infos) {
    assertOk(info.ca?.startsWith("fixed:r:sha256:"), `ca of ${info.path}: ${info.ca}`);
  }
  return new Map(infos.map((i) => [i.path, i.references]));
}

/** `referrer` refers directly to every store path of every package of `gen`. */
function assertReferencesPackages(refs: string[], referrer: string, gen: ListJson): void {
  for (const p of gen.packages) {
    for (const path of p.storePaths) {
      assertOk(refs.includes(path), `${referrer} refers to ${path}`);
    }
  }
}

/** The generation's closure holds every package it lists. */
async function assertKeepsPackages(sb: NixSandbox, gen: ListJson): Promise<void> {
  const closure = (await sb.runOk(["nix-store", "-qR", gen.storePath])).stdout;
  for (const p of gen.packages) {
    for (const path of p.storePaths) {
      assertStringIncludes(closure, `${path}\n`, `${gen.storePath} keeps ${path}`);
    }
  }
}

Deno.test({
  name: "fprof works end to end for an untrusted user of nix-daemon",
  ignore: noDaemon !== undefined,
  async fn() {
    await using sb = await makeNixSandbox({ daemon: true });
    const flake = join(sb.work, "profile");
    const extras = join(sb.work, "extras");
    await writeProfileFlake(flake, V1, { system: sb.system });
    await writeProfileFlake(extras, [EXTRA], { system: sb.system });
    await sb.handOver(sb.work);

    // First switch: manifest.nix by default, and ~/.nix-profile is made.
    const first = await fprofOk(sb, ["switch", `path:${flake}`]);
    assertStringIncludes(first.stderr, "writing manifest.nix");
    assertStringIncludes(first.stderr, "to generation 1");
    assertEquals(await Deno.readLink(join(sb.home, ".nix-profile")), sb.defaultProfile);
    const gen1 = await listJson(sb);
    assertEquals(gen1.manifest, "nix");
    assertEquals(nameVersions(gen1), labels(V1));

    // The generation is content-addressed, so the daemon took it from an
    // untrusted user without a signature, and its closure keeps every
    // package alive. Its manifest.nix is a link to a store path of its own,
    // as nix-env makes it: `nix profile` follows that link into the store.
    const manifestNix = await Deno.readLink(join(gen1.storePath, "manifest.nix"));
    assertOk(manifestNix.startsWith(sb.storeDir + "/"), `manifest.nix -> ${manifestNix}`);
    const refs1 = await assertContentAddressed(sb, [gen1.storePath, manifestNix]);
    assertOk(refs1.get(gen1.storePath)!.includes(manifestNix), "the generation refers to it");
    assertReferencesPackages(refs1.get(manifestNix)!, manifestNix, gen1);
    await assertKeepsPackages(sb, gen1);
    // Made by the client through the daemon, not by root.
    const link = await Deno.lstat(`${sb.defaultProfile}-1-link`);
    assertEquals(link.uid, (await Deno.stat(sb.home)).uid);

    // nix-env and nix profile read the profile through ~/.nix-profile.
    const q = await sb.runOk(["nix-env", "-q"]);
    assertEquals(q.stdout.trim().split("\n").sort(), labels(V1));
    const plist = await sb.runOk(["nix", "profile", "list"]);
    for (const p of gen1.packages) assertStringIncludes(plist.stdout, p.storePaths[0]);

    await collectGarbage(sb, "1");
    await assertBinariesRun(sb, V1);

    // The same content again makes no generation.
    const same = await fprofOk(sb, ["switch", `path:${flake}`]);
    assertStringIncludes(same.stderr, "no changes: generation 1 already has this content");
    assertEquals(await generationNumbers(sb), [1]);

    // A changed flake: one upgraded, one added, one removed.
    await writeProfileFlake(flake, V2, { system: sb.system });
    await sb.handOver(sb.work);
    const second = await fprofOk(sb, ["switch", `path:${flake}`]);
    assertStringIncludes(second.stderr, "to generation 2");
    assertStringIncludes(second.stderr, "+ fd 8.7");
    assertStringIncludes(second.stderr, "- ripgrep 13.0");
    assertStringIncludes(second.stderr, "jq 1.6 → 1.7");
    assertEquals(nameVersions(await listJson(sb)), labels(V2));
    await assertBinariesRun(sb, V2);

    const back = await fprofOk(sb, ["rollback"]);
    assertStringIncludes(back.stderr, "generation 2 → 1 (its parent)");
    const rolled = await listJson(sb);
    assertEquals(rolled.generation, 1);
    assertEquals(rolled.storePath, gen1.storePath);
    await assertBinariesRun(sb, V1);

    // manifest.json, for nix profile.
    const json = await fprofOk(sb, ["switch", "--manifest=json", `path:${flake}`]);
    assertStringIncludes(json.stderr, "writing manifest.json");
    assertStringIncludes(json.stderr, "to generation 3");
    const gen3 = await listJson(sb);
    assertEquals(gen3.manifest, "json");
    assertEquals(nameVersions(gen3), labels(V2));
    // As nix profile makes it: manifest.json inside, packages referred to directly.
    const refs3 = await assertContentAddressed(sb, [gen3.storePath]);
    assertReferencesPackages(refs3.get(gen3.storePath)!, gen3.storePath, gen3);
    await assertKeepsPackages(sb, gen3);
    const plist3 = await sb.runOk(["nix", "profile", "list"]);
    for (const p of gen3.packages) assertStringIncludes(plist3.stdout, p.storePaths[0]);

    // nix profile keeps the declared packages when it adds one.
    await sb.runOk(["nix", "profile", "install", `path:${extras}#${EXTRA.name}`]);
    const gen4 = await listJson(sb);
    assertEquals(gen4.generation, 4);
    assertEquals(nameVersions(gen4), labels([...V2, EXTRA]));
    const text = (await fprofOk(sb, ["list"])).stdout;
    for (const p of [...V2, EXTRA]) assertStringIncludes(text, p.name);

    await collectGarbage(sb, "2");
    await assertBinariesRun(sb, [...V2, EXTRA]);
  },
});
