/**
 * How many times each command evaluates the profile's package set, counted:
 * the fixture nixpkgs here announces each evaluation with `builtins.trace`,
 * and a `nix` wrapper first on PATH keeps those lines of every Nix process
 * fprof starts. With nixpkgs, each evaluation costs a second or two, so a
 * changed switch must pay exactly one, and a command that changes nothing
 * (a switch again, a dry run, `list --drift`, `upgrade --dry-run` of inputs
 * that did not move) none.
 */

import { join } from "node:path";
import { assertEquals } from "./helpers/testing.ts";
import { type FixturePackage, writePackageSet } from "./helpers/fixtures.ts";
import { fprofOk } from "./helpers/fprof.ts";
import { writeFprofFlake } from "./helpers/fprof_flake.ts";
import { findProgram, makeNixSandbox, type NixSandbox } from "./helpers/sandbox.ts";

const PKGS: FixturePackage[] = [
  { name: "hello", version: "2.12", bins: ["hello"] },
  { name: "jq", version: "1.6", bins: ["jq"] },
  { name: "ripgrep", version: "14.1.0", bins: ["rg"] },
  { name: "xterm", version: "390", bins: ["xterm"] },
  { name: "cowsay", version: "3.7", bins: ["cowsay"] },
];

const MARK = "fprof-test-evaluates-nixpkgs";

/** A package set that traces each evaluation of its packages, and a `nix` that keeps the traces. */
async function tracedNixpkgs(sb: NixSandbox): Promise<{ url: string; path: string; log: string }> {
  const real = join(sb.work, "pkgs");
  await writePackageSet(real, PKGS, { system: sb.system });
  const dir = join(sb.work, "traced");
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    join(dir, "flake.nix"),
    `{
  inputs.real.url = "path:${real}";
  outputs = { self, real }: {
    inherit (real) lib packages;
    legacyPackages.${sb.system} = builtins.trace "${MARK}" real.legacyPackages.${sb.system};
  };
}
`,
  );
  const bin = join(sb.work, "bin");
  await Deno.mkdir(bin, { recursive: true });
  const log = join(sb.work, "evaluations.log");
  await Deno.writeTextFile(log, "");
  const nix = findProgram("nix");
  if (!nix) throw new Error("nix is not on PATH");
  await Deno.writeTextFile(
    join(bin, "nix"),
    `#!/bin/sh
err=$(mktemp)
"${nix}" "$@" 2>"$err"
code=$?
grep -a '${MARK}' "$err" >>'${log}'
cat "$err" >&2
rm -f "$err"
exit $code
`,
  );
  await Deno.chmod(join(bin, "nix"), 0o755);
  return { url: `path:${dir}`, path: `${bin}:${sb.env.PATH}`, log };
}

/** Runs fprof and returns how many evaluations of the package set it caused. */
async function evaluations(
  sb: NixSandbox,
  traced: { path: string; log: string },
  args: string[],
): Promise<number> {
  const before = (await Deno.readTextFile(traced.log)).split("\n").length;
  await fprofOk(sb, args, { env: { PATH: traced.path } });
  return (await Deno.readTextFile(traced.log)).split("\n").length - before;
}

/** The default template, with the traced package set as nixpkgs. */
async function templateFlake(sb: NixSandbox, nixpkgs: string): Promise<string> {
  const dir = join(sb.work, "template");
  await Deno.mkdir(dir, { recursive: true });
  const src = new URL("../templates/default/", import.meta.url).pathname;
  const flake = (await Deno.readTextFile(join(src, "flake.nix")))
    .replace("github:NixOS/nixpkgs/nixos-unstable", nixpkgs);
  await Deno.writeTextFile(join(dir, "flake.nix"), flake);
  await Deno.copyFile(join(src, "fprof.nix"), join(dir, "fprof.nix"));
  return dir;
}

/** flakey-profile's shape: `packages.<system>.profile` from fprof's library, as a list. */
async function listFlake(sb: NixSandbox, nixpkgs: string): Promise<string> {
  const dir = join(sb.work, "listed");
  const lib = join(sb.work, "fprof");
  await writeFprofFlake(lib);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    join(dir, "flake.nix"),
    `{
  inputs.nixpkgs.url = "${nixpkgs}";
  inputs.fprof.url = "path:${lib}";
  inputs.fprof.inputs.nixpkgs.follows = "nixpkgs";
  outputs = { self, nixpkgs, fprof }:
    let pkgs = nixpkgs.legacyPackages.${sb.system};
    in {
      packages.${sb.system}.profile = fprof.lib.mkProfile {
        inherit pkgs;
        paths = with pkgs; [ hello jq ];
      };
    };
}
`,
  );
  return dir;
}

/** The counts every shape must meet, in order; the flake is then changed by `change`. */
async function assertCounts(
  sb: NixSandbox,
  traced: { path: string; log: string },
  dir: string,
  change: () => Promise<void>,
): Promise<void> {
  const flake = `path:${dir}`;
  const counts: Record<string, number> = {};
  counts["first switch"] = await evaluations(sb, traced, ["switch", flake]);
  counts["switch again"] = await evaluations(sb, traced, ["switch", flake]);
  counts["switch --dry-run"] = await evaluations(sb, traced, ["switch", "--dry-run", flake]);
  counts["list --drift"] = await evaluations(sb, traced, ["list", "--drift"]);
  counts["upgrade --dry-run"] = await evaluations(sb, traced, ["upgrade", "--dry-run", flake]);
  await change();
  counts["dry run of a change"] = await evaluations(sb, traced, ["switch", "--dry-run", flake]);
  counts["switch after it"] = await evaluations(sb, traced, ["switch", flake]);
  counts["switch again after it"] = await evaluations(sb, traced, ["switch", flake]);
  assertEquals(counts, {
    "first switch": 1,
    "switch again": 0,
    "switch --dry-run": 0,
    "list --drift": 0,
    "upgrade --dry-run": 0,
    "dry run of a change": 1,
    "switch after it": 0,
    "switch again after it": 0,
  });
}

Deno.test("the template's profile is evaluated once per change, and never for a switch that changes nothing", async () => {
  await using sb = await makeNixSandbox();
  const traced = await tracedNixpkgs(sb);
  const dir = await templateFlake(sb, traced.url);
  await assertCounts(sb, traced, dir, async () => {
    const file = join(dir, "flake.nix");
    const text = await Deno.readTextFile(file);
    await Deno.writeTextFile(
      file,
      text.replace("inherit (pkgs) hello jq;", "inherit (pkgs) hello jq cowsay;"),
    );
  });
  const listed = await fprofOk(sb, ["list"]);
  assertEquals(listed.stdout.includes("cowsay"), true, listed.stdout);
});

Deno.test("a list-shaped profile at packages.<system>.profile is evaluated once per change too", async () => {
  await using sb = await makeNixSandbox();
  const traced = await tracedNixpkgs(sb);
  const dir = await listFlake(sb, traced.url);
  await assertCounts(sb, traced, dir, async () => {
    const file = join(dir, "flake.nix");
    const text = await Deno.readTextFile(file);
    await Deno.writeTextFile(file, text.replace("[ hello jq ]", "[ hello jq cowsay ]"));
  });
});
