/**
 * Integration tests of `fprof add` and `fprof remove` against the real Nix
 * on an isolated store: the default template (with its nixpkgs input pointed
 * at the fixture package set) and a flake in the style of a hand-written
 * `buildEnv` with `with pkgs; [ … ]`, edited, switched and listed.
 */

import { join } from "node:path";
import { assertEquals, assertOk, assertStringIncludes } from "./helpers/testing.ts";
import { type FixturePackage, writePackageSet } from "./helpers/fixtures.ts";
import { fprof, fprofOk } from "./helpers/fprof.ts";
import { makeNixSandbox, type NixSandbox } from "./helpers/sandbox.ts";

const PKGS: FixturePackage[] = [
  { name: "hello", version: "2.12.1", bins: ["hello"] },
  { name: "jq", version: "1.7.1", bins: ["jq"] },
  { name: "ripgrep", version: "14.1.0", bins: ["rg"] },
  { name: "xterm", version: "390", bins: ["xterm"] },
  { name: "cowsay", version: "3.7", bins: ["cowsay"] },
];

/** `fprof init`'s template, its nixpkgs the fixture set, in a directory of its own. */
async function templateFlake(sb: NixSandbox): Promise<string> {
  const pkgs = join(sb.work, "pkgs");
  await writePackageSet(pkgs, PKGS, { system: sb.system });
  const dir = join(sb.work, "profile");
  await fprofOk(sb, ["init", dir]);
  const file = join(dir, "flake.nix");
  const text = await Deno.readTextFile(file);
  await Deno.writeTextFile(
    file,
    text.replace(/inputs\.nixpkgs\.url = "[^"]*"/, `inputs.nixpkgs.url = "path:${pkgs}"`),
  );
  await sb.handOver(sb.work);
  return dir;
}

const listed = async (sb: NixSandbox) =>
  (JSON.parse((await fprofOk(sb, ["list", "--json"])).stdout).packages as { name: string }[])
    .map((p) => p.name).sort();

const host = Deno.hostname().split(".")[0];
const base = host === "laptop" || host === "desktop" ? ["hello", "jq", "ripgrep"] : ["hello", "jq"];

Deno.test("add and remove edit the template's shared list, switch, and keep every other byte", async () => {
  await using sb = await makeNixSandbox();
  const dir = await templateFlake(sb);
  const file = join(dir, "flake.nix");
  await fprofOk(sb, ["switch", dir]);
  const before = await Deno.readTextFile(file);

  const added = await fprofOk(sb, ["add", "--flake", dir, "cowsay"]);
  assertStringIncludes(added.stderr, "added cowsay to flake.nix:");
  const after = await Deno.readTextFile(file);
  assertEquals(
    after,
    before.replace(
      "shared = { inherit (pkgs) hello jq; };",
      "shared = { inherit (pkgs) hello jq cowsay; };",
    ),
  );
  assertEquals(await listed(sb), [...base, "cowsay"].sort());

  // Upsert: declared already, so no edit, no build and no generation.
  const gens = (await fprofOk(sb, ["generations", "--json"])).stdout;
  const again = await fprofOk(sb, ["add", "--flake", dir, "cowsay"]);
  assertStringIncludes(again.stderr, "cowsay is declared in flake.nix:");
  assertStringIncludes(again.stderr, "already; nothing to do");
  assertEquals(await Deno.readTextFile(file), after);
  assertEquals((await fprofOk(sb, ["generations", "--json"])).stdout, gens);

  await fprofOk(sb, ["remove", "--flake", dir, "cowsay"]);
  assertEquals(await Deno.readTextFile(file), before);
  assertEquals(await listed(sb), base);
});

Deno.test("add refuses an unknown name with the nearest ones, and a dry run writes nothing", async () => {
  await using sb = await makeNixSandbox();
  const dir = await templateFlake(sb);
  const file = join(dir, "flake.nix");
  await fprofOk(sb, ["switch", dir]);
  const before = await Deno.readFile(file);

  const typo = await fprof(sb, ["add", "--flake", dir, "cowsya"]);
  assertEquals(typo.code, 2, typo.stderr);
  assertStringIncludes(
    typo.stderr,
    "error: nixpkgs has no package 'cowsya' (did you mean 'cowsay'?)",
  );
  assertStringIncludes(typo.stderr, "hint: nothing was changed");
  assertEquals(await Deno.readFile(file), before);

  const gens = (await fprofOk(sb, ["generations", "--json"])).stdout;
  const dry = await fprofOk(sb, ["add", "--flake", dir, "--dry-run", "--diff", "always", "cowsay"]);
  assertStringIncludes(dry.stdout, "--- a/flake.nix\n+++ b/flake.nix\n");
  assertStringIncludes(dry.stdout, "+          shared = { inherit (pkgs) hello jq cowsay; };\n");
  assertStringIncludes(dry.stdout + dry.stderr, "cowsay");
  assertEquals(await Deno.readFile(file), before);
  assertEquals((await fprofOk(sb, ["generations", "--json"])).stdout, gens);

  // --no-switch edits the file only.
  await fprofOk(sb, ["add", "--flake", dir, "--no-switch", "xterm"]);
  assertStringIncludes(await Deno.readTextFile(file), "inherit (pkgs) hello jq xterm;");
  assertEquals((await fprofOk(sb, ["generations", "--json"])).stdout, gens);
});

Deno.test("add into a group of a machine, and a failed build leaves flake.nix byte for byte", async () => {
  await using sb = await makeNixSandbox();
  const dir = await templateFlake(sb);
  const file = join(dir, "flake.nix");
  const before = await Deno.readFile(file);
  const r = await fprofOk(sb, [
    "add",
    "--flake",
    `${dir}#laptop`,
    "--group",
    "cli",
    "--no-switch",
    "jq",
  ]);
  assertStringIncludes(r.stderr, "(cli)");
  const text = await Deno.readTextFile(file);
  assertStringIncludes(
    text,
    "laptop = machine {\n              cli = { inherit (pkgs) ripgrep jq; };",
  );
  assertStringIncludes(
    text,
    "desktop = machine {\n              cli = { inherit (pkgs) ripgrep; };",
  );
  await Deno.writeFile(file, before);

  const both = await fprof(sb, ["add", "--flake", dir, "--host", "desktop", "jq"]);
  assertEquals(both.code, 2);
  assertStringIncludes(both.stderr, "more than one list fits the entry of 'desktop'");
  assertStringIncludes(both.stderr, "(cli), flake.nix:");

  // `failing` is in the set, and its build fails: the edit is undone.
  const failed = await fprof(sb, ["add", "--flake", dir, "failing"]);
  assertEquals(failed.code, 1, failed.stderr);
  assertStringIncludes(failed.stderr, "left '");
  assertEquals(await Deno.readFile(file), before);
});

/** A hand-written profile: `buildEnv` with `with pkgs; [ … ]`, one entry per line, comments. */
const HAND_WRITTEN = (pkgs: string, system: string) =>
  `{
  inputs.nixpkgs.url = "path:${pkgs}";
  outputs = { self, nixpkgs }:
    let pkgs = nixpkgs.legacyPackages.${JSON.stringify(system)};
    in {
      packages.${JSON.stringify(system)}.profile = pkgs.buildEnv {
        name = "profile";
        paths = with pkgs; [
          hello # the greeter
          # a comment between entries
          jq
        ];
      };
    };
}
`;

Deno.test("add and remove keep the layout and comments of a with pkgs; [ … ] list", async () => {
  await using sb = await makeNixSandbox();
  const pkgs = join(sb.work, "pkgs");
  await writePackageSet(pkgs, PKGS, { system: sb.system });
  const dir = join(sb.work, "hand");
  await Deno.mkdir(dir);
  const source = HAND_WRITTEN(pkgs, sb.system);
  await Deno.writeTextFile(join(dir, "flake.nix"), source);
  await sb.handOver(sb.work);
  await fprofOk(sb, ["add", "--flake", dir, "ripgrep", "cowsay"]);
  assertEquals(
    await Deno.readTextFile(join(dir, "flake.nix")),
    source.replace("          jq\n", "          jq\n          ripgrep\n          cowsay\n"),
  );
  assertEquals(await listed(sb), ["cowsay", "hello", "jq", "ripgrep"]);
  await fprofOk(sb, ["remove", "--flake", dir, "hello", "ripgrep", "cowsay"]);
  assertEquals(
    await Deno.readTextFile(join(dir, "flake.nix")),
    source.replace("          hello # the greeter\n", ""),
  );
  assertEquals(await listed(sb), ["jq"]);
  const gone = await fprof(sb, ["remove", "--flake", dir, "jqq"]);
  assertEquals(gone.code, 2);
  assertStringIncludes(gone.stderr, "did you mean 'jq'?");
  assertOk(!gone.stderr.includes("internal error"), gone.stderr);
});

Deno.test("two adds at once both land, and a git flake stays a git flake with no new file", async () => {
  await using sb = await makeNixSandbox();
  const dir = await templateFlake(sb);
  await fprofOk(sb, ["switch", dir]);
  const git = (args: string[]) =>
    sb.runOk(["git", "-C", dir, "-c", "user.name=t", "-c", "user.email=t@t", ...args]);
  await git(["init", "-q"]);
  await git(["add", "."]);
  await git(["commit", "-qm", "profile"]);
  const both = await Promise.all([
    fprof(sb, ["add", "--flake", dir, "--no-switch", "cowsay"]),
    fprof(sb, ["add", "--flake", dir, "--no-switch", "xterm"]),
  ]);
  for (const r of both) assertEquals(r.code, 0, r.stderr);
  const text = await Deno.readTextFile(join(dir, "flake.nix"));
  assertOk(
    /inherit \(pkgs\) hello jq (cowsay xterm|xterm cowsay);/.test(text),
    text.split("\n").find((l) => l.includes("shared =")),
  );
  assertEquals((await git(["status", "--porcelain"])).stdout, " M flake.nix\n");
  await fprofOk(sb, ["switch", dir]);
  assertEquals(await listed(sb), [...base, "cowsay", "xterm"].sort());
});

Deno.test("a computed list is refused with its place, and the file is left alone", async () => {
  await using sb = await makeNixSandbox();
  const pkgs = join(sb.work, "pkgs");
  await writePackageSet(pkgs, PKGS, { system: sb.system });
  const dir = join(sb.work, "computed");
  await Deno.mkdir(dir);
  const source = HAND_WRITTEN(pkgs, sb.system).replace(
    /paths = with pkgs; \[[^\]]*\];/,
    'paths = map (n: pkgs.${n}) [ "hello" "jq" ];',
  );
  await Deno.writeTextFile(join(dir, "flake.nix"), source);
  await sb.handOver(sb.work);
  const r = await fprof(sb, ["add", "--flake", dir, "cowsay"]);
  assertEquals(r.code, 1, r.stderr);
  assertStringIncludes(
    r.stderr,
    "error: flake.nix:8 (paths) is computed, not a list fprof can edit",
  );
  assertStringIncludes(r.stderr, "hint: edit it by hand, or declare");
  assertEquals(await Deno.readTextFile(join(dir, "flake.nix")), source);
});

Deno.test("add --upgrade of a declared name updates nixpkgs and switches to the new version", async () => {
  await using sb = await makeNixSandbox();
  const dir = await templateFlake(sb);
  await fprofOk(sb, ["switch", dir]);
  const file = join(dir, "flake.nix");
  const before = await Deno.readTextFile(file);
  const newer = PKGS.map((p) => p.name === "hello" ? { ...p, version: "2.13" } : p);
  await writePackageSet(join(sb.work, "pkgs"), newer, { system: sb.system });
  await sb.handOver(sb.work);
  const r = await fprofOk(sb, ["add", "--flake", dir, "--upgrade", "hello"]);
  assertStringIncludes(r.stderr, "hello is declared in flake.nix:");
  assertEquals(await Deno.readTextFile(file), before);
  const doc = JSON.parse((await fprofOk(sb, ["list", "--json"])).stdout);
  assertEquals(
    doc.packages.find((p: { name: string }) => p.name === "hello").version,
    "2.13",
  );
});
