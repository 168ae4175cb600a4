/**
 * Integration tests of `fprof init` against the real Nix on an isolated
 * store: a template written by init is switched to end to end, with the
 * template's nixpkgs input (its only one) pointed at the fake package set
 * (`fprof switch --override-input`), and `init --from-current` turns a
 * nix-env profile into a declaration.
 */

import { join } from "node:path";
import { assertEquals, assertStringIncludes } from "../lib/testing.ts";
import { type FixturePackage, writePackageSet } from "./helpers/fixtures.ts";
import { fprof, fprofOk } from "./helpers/fprof.ts";
import { makeNixSandbox, type NixSandbox } from "./helpers/sandbox.ts";

// What the default template declares, and what the round trip installs.
const PKGS: FixturePackage[] = [
  { name: "hello", version: "2.12.1", bins: ["hello"], description: "Prints a greeting" },
  { name: "jq", version: "1.7.1", bins: ["jq"], outputs: ["out", "man"] },
  { name: "ripgrep", version: "14.1.0", bins: ["rg"] },
  { name: "xterm", version: "390", bins: ["xterm"] },
  { name: "cowsay", version: "3.7", bins: ["cowsay"] },
];

/** The fake nixpkgs, as `--override-input` arguments. */
async function inputs(sb: NixSandbox): Promise<{ pkgs: string; overrides: string[] }> {
  const pkgs = join(sb.work, "pkgs");
  await writePackageSet(pkgs, PKGS, { system: sb.system });
  return { pkgs, overrides: ["--override-input", `nixpkgs=path:${pkgs}`] };
}

const names = (doc: { packages: { name: string; version: string }[] }) =>
  doc.packages.map((p) => `${p.name}-${p.version}`).sort();

Deno.test("init writes the default template, refuses to overwrite it, and fprof switch builds it", async () => {
  await using sb = await makeNixSandbox();
  const { overrides } = await inputs(sb);
  const r = await fprofOk(sb, ["init"]);
  const dir = join(sb.xdgConfig, "fprof", "profile");
  assertStringIncludes(r.stderr, `wrote '${dir}/flake.nix' and 'fprof.nix' beside it`);
  assertStringIncludes(r.stderr, `then run: fprof switch ${dir}`);
  // No input but nixpkgs: nothing to fetch from a placeholder.
  const flake = await Deno.readTextFile(join(dir, "flake.nix"));
  assertEquals([...flake.matchAll(/^\s*(?:inputs\.)?(\w+)\.url = /gm)].map((m) => m[1]), [
    "nixpkgs",
  ]);

  const again = await fprof(sb, ["init"]);
  assertEquals(again.code, 1);
  assertStringIncludes(again.stderr, "exists already");
  await fprofOk(sb, ["init", "--force"]);

  const sw = await fprofOk(sb, ["switch", dir, ...overrides]);
  // Nix warns once per evaluation that it does not write the overridden lock; fprof shows it once.
  assertEquals(sw.stderr.split("warning: not writing modified lock file").length, 2, sw.stderr);
  const doc = JSON.parse((await fprofOk(sb, ["list", "--json"])).stdout);
  // Unless this machine is called laptop or desktop, it gets the shared list.
  const host = Deno.hostname().split(".")[0];
  const expected = host === "desktop"
    ? ["hello-2.12.1", "jq-1.7.1", "ripgrep-14.1.0", "xterm-390"]
    : host === "laptop"
    ? ["hello-2.12.1", "jq-1.7.1", "ripgrep-14.1.0"]
    : ["hello-2.12.1", "jq-1.7.1"];
  assertEquals(names(doc), expected);
  assertEquals(
    doc.packages.find((p: { name: string }) => p.name === "hello").description,
    "Prints a greeting",
  );

  // The machines evaluate too, and the plain-Nix fallback of the comments runs.
  for (const machine of ["laptop", "desktop"]) {
    await sb.runOk([
      "nix",
      "eval",
      "--json",
      `${dir}#legacyPackages.${sb.system}.profiles.${machine}.fprof.schema`,
      ...overrides.map((a) => a.replace(/^(\w+)=/, "$1 ")).flatMap((a) => a.split(" ")),
    ]);
  }
});

Deno.test("init --from-current declares the packages nix-env -i installed, and switching to it keeps them", async () => {
  await using sb = await makeNixSandbox();
  const { pkgs, overrides } = await inputs(sb);
  await Deno.writeTextFile(
    join(pkgs, "default.nix"),
    `let f = import ./fixture.nix { system = ${JSON.stringify(sb.system)}; };
in f.byName (map f.mkPackage (builtins.fromJSON (builtins.readFile ./packages.json)))
`,
  );
  await sb.runOk(["nix-env", "-f", join(pkgs, "default.nix"), "-iA", "hello", "jq", "cowsay"]);
  const before = JSON.parse((await fprofOk(sb, ["list", "--json"])).stdout);
  assertEquals(names(before), ["cowsay-3.7", "hello-2.12.1", "jq-1.7.1"]);

  const dir = join(sb.work, "declared");
  const r = await fprofOk(sb, ["init", "--from-current", dir]);
  assertStringIncludes(r.stderr, "declared 3 package(s) of generation 1");
  const text = await Deno.readTextFile(join(dir, "flake.nix"));
  assertStringIncludes(text, "cowsay = pkgs.cowsay; # attribute guessed from the package name");

  await fprofOk(sb, ["switch", dir, ...overrides]);
  const after = JSON.parse((await fprofOk(sb, ["list", "--json"])).stdout);
  assertEquals(after.generation, 2);
  assertEquals(names(after), names(before));
});

Deno.test("init --template no-flake writes default.nix and the library, and its next command switches", async () => {
  await using sb = await makeNixSandbox();
  const { pkgs } = await inputs(sb);
  const dir = join(sb.work, "plain");
  const r = await fprofOk(sb, ["init", "--template", "no-flake", dir]);
  assertStringIncludes(r.stderr, `wrote '${dir}/default.nix' and 'fprof.nix' beside it`);
  assertStringIncludes(r.stderr, `fprof switch "$(nix-build --no-out-link ${dir} -A profile)"`);
  // The template's own nixpkgs is a download; the test's package set stands in for it.
  const stand = `(builtins.getFlake "path:${pkgs}").legacyPackages.${sb.system}`;
  const built = await sb.runOk([
    "nix-build",
    "--no-out-link",
    dir,
    "-A",
    "profile",
    "--arg",
    "pkgs",
    stand,
  ]);
  await fprofOk(sb, ["switch", built.stdout.trim()]);
  const doc = JSON.parse((await fprofOk(sb, ["list", "--json"])).stdout);
  assertEquals(names(doc), ["hello-2.12.1", "jq-1.7.1", "ripgrep-14.1.0"]);
});
