/**
 * Integration tests of `fprof init` against the real Nix on an isolated
 * store: a template written by init is switched to end to end, with the
 * template's nixpkgs input (its only one) pointed at the fake package set
 * (`fprof switch --override-input`), and `init --from-current` turns a
 * nix-env profile into a declaration.
 */

import { join } from "node:path";
import { assertEquals, assertStringIncludes } from "./helpers/testing.ts";
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

  // --json says what was written and what to run next.
  const written = JSON.parse(
    (await fprofOk(sb, ["init", "--json", "--force", "--nixpkgs", "path:/src/nixpkgs"])).stdout,
  );
  assertEquals(written, {
    template: "default",
    files: [join(dir, "flake.nix"), join(dir, "fprof.nix")],
    nixpkgs: "path:/src/nixpkgs",
    next: `fprof switch ${dir}`,
  });
  await fprofOk(sb, ["init", "--force"]);

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

Deno.test("init --nixpkgs writes the input; a nixpkgs that cannot be downloaded gets a hint to a local one", async () => {
  await using sb = await makeNixSandbox();
  const { pkgs } = await inputs(sb);
  const dir = join(sb.work, "offline");
  // A download that fails on any machine, as github: does on one without
  // network: a server on loopback that has no such file.
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response("no such file", { status: 404 }),
  );
  const away = `http://127.0.0.1:${server.addr.port}/nixpkgs.tar.gz`;
  await fprofOk(sb, ["init", "--nixpkgs", away, dir]);
  assertStringIncludes(
    await Deno.readTextFile(join(dir, "flake.nix")),
    `inputs.nixpkgs.url = "${away}";`,
  );
  const r = await fprof(sb, ["switch", "--dry-run", dir]);
  assertEquals(r.code, 1, r.stderr);
  assertStringIncludes(r.stderr, "unable to download");
  assertStringIncludes(
    r.stderr,
    "hint: offline? point nixpkgs at a local copy: 'fprof init --nixpkgs",
  );

  // The local copy, written by init, is all the flake needs.
  await fprofOk(sb, ["init", "--force", "--nixpkgs", `path:${pkgs}`, dir]);
  await fprofOk(sb, ["switch", dir]);
  assertEquals(names(JSON.parse((await fprofOk(sb, ["list", "--json"])).stdout)).length > 0, true);

  // The no-flake template has no input to set: refused, not ignored.
  const plain = await fprof(sb, ["init", "--template", "no-flake", "--nixpkgs", away, dir]);
  assertEquals(plain.code, 2, plain.stderr);
  assertStringIncludes(plain.stderr, "error: --nixpkgs sets the flake template's input");
});

Deno.test("init --from-current takes the nixpkgs the packages came from, as manifest.json records it", async () => {
  await using sb = await makeNixSandbox();
  const { pkgs } = await inputs(sb);
  await sb.runOk(["nix", "profile", "install", `path:${pkgs}#hello`]);
  await sb.runOk(["nix", "profile", "install", `path:${pkgs}#jq`]);
  const dir = join(sb.work, "declared");
  const r = await fprofOk(sb, ["init", "--from-current", dir]);
  assertStringIncludes(r.stderr, `nixpkgs: path:${pkgs}, the flake the packages came from`);
  const text = await Deno.readTextFile(join(dir, "flake.nix"));
  assertStringIncludes(text, `inputs.nixpkgs.url = "path:${pkgs}";`);
  // Switched with no --override-input: the input is the one the packages came from.
  await fprofOk(sb, ["switch", dir]);
  const after = JSON.parse((await fprofOk(sb, ["list", "--json"])).stdout);
  assertEquals(names(after), ["hello-2.12.1", "jq-1.7.1"]);
});
