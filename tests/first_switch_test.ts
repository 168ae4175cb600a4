/**
 * A new user's first minutes, on whichever Nix runs the suite: the first
 * `fprof switch` of a flake that has inputs but no `flake.lock` yet, with no
 * `--profile`, as root, as an ordinary user who owns a single-user store, and
 * as an untrusted user of `nix-daemon`.
 *
 * Nix 2.34's `nix flake metadata` writes the lock and returns the hash of the
 * tree from before it did; a switch that built from that URL failed with
 * "NAR hash mismatch".
 */

import { join } from "node:path";
import { assertEquals, assertOk, assertStringIncludes } from "./helpers/testing.ts";
import { writePackageSet } from "./helpers/fixtures.ts";
import { fprofOk } from "./helpers/fprof.ts";
import {
  daemonUnavailable,
  makeNixSandbox,
  type NixSandbox,
  type NixSandboxOptions,
  singleUserUnavailable,
} from "./helpers/sandbox.ts";
import { pathExists, writeUnlockedProfileFlake } from "./helpers/scenario.ts";

/** A package set with `hello`, and a profile flake that uses it, unlocked. */
async function newFlake(sb: NixSandbox, name: string): Promise<string> {
  const pkgs = join(sb.work, `${name}-pkgs`);
  await writePackageSet(pkgs, [{ name: "hello", version: "2.12", bins: ["hello"] }], {
    system: sb.system,
  });
  const dir = join(sb.work, name);
  await writeUnlockedProfileFlake(sb, dir, pkgs);
  return dir;
}

async function firstSwitch(sb: NixSandbox): Promise<void> {
  // The dry run comes first, as the README's quick start has it; it locks
  // the flake too.
  const dryDir = await newFlake(sb, "dry");
  const dry = await fprofOk(sb, ["switch", "--dry-run", dryDir]);
  assertStringIncludes(dry.stdout, "would create");
  assertStringIncludes(dry.stdout, "+ hello 2.12");

  const dir = await newFlake(sb, "profile");
  assertOk(!(await pathExists(join(dir, "flake.lock"))));
  const r = await fprofOk(sb, ["switch", dir]);
  assertStringIncludes(r.stderr, "to generation 1");
  assertOk(await pathExists(join(dir, "flake.lock")), "the switch locked the flake");

  const list = JSON.parse((await fprofOk(sb, ["list", "--json"])).stdout);
  assertEquals(list.profile, sb.defaultProfile);
  assertEquals(list.packages.map((p: { name: string }) => p.name), ["hello"]);
  const hello = await sb.runOk([join(sb.home, ".nix-profile", "bin", "hello")]);
  assertEquals(hello.stdout, "hello 2.12\n");
  const q = await sb.runOk(["nix-env", "-q"]);
  assertEquals(q.stdout.trim(), "hello-2.12");
}

const CASES: { who: string; opts: NixSandboxOptions; unavailable?: string }[] = [
  { who: "as the test's own user", opts: {} },
  { who: "as an ordinary user", opts: { singleUser: true }, unavailable: singleUserUnavailable() },
  {
    who: "as an untrusted nix-daemon user",
    opts: { daemon: true },
    unavailable: daemonUnavailable(),
  },
];

for (const { who, opts, unavailable } of CASES) {
  Deno.test({
    name: `the first switch of a flake with no lock file works ${who}`,
    ignore: unavailable !== undefined,
    async fn() {
      await using sb = await makeNixSandbox(opts);
      await firstSwitch(sb);
    },
  });
}
