/**
 * What fprof tells the user, against the real Nix: errors that say what to
 * type instead, and the plan of `switch --dry-run --json`.
 */

import { join } from "node:path";
import { assertEquals, assertOk, assertStringIncludes } from "./helpers/testing.ts";
import { writeFleetFlake, writeProfileFlake } from "./helpers/fixtures.ts";
import { fprof, fprofOk } from "./helpers/fprof.ts";
import { makeNixSandbox } from "./helpers/sandbox.ts";

Deno.test("a missing attribute lists the ones the flake has and suggests one", async () => {
  await using sb = await makeNixSandbox();
  const dir = join(sb.work, "profile");
  await writeProfileFlake(dir, [{ name: "hello", version: "2.12.1", bins: ["hello"] }], {
    system: sb.system,
  });
  const r = await fprof(sb, ["switch", `path:${dir}#laptop`]);
  assertEquals(r.code, 1, r.stderr);
  assertStringIncludes(
    r.stderr,
    `error: flake 'path:${dir}' does not provide attribute 'laptop'; available: packages.${sb.system}.`,
  );
  assertStringIncludes(r.stderr, `packages.${sb.system}.profile`);
  assertStringIncludes(
    r.stderr,
    `hint: name the attribute to build, as in 'fprof switch path:${dir}#`,
  );
  assertEquals(r.stderr.split("\n").filter((l) => l.startsWith("error:")).length, 1, r.stderr);
});

Deno.test("FLAKE#NAME finds the machine NAME under profiles, as nixos-rebuild finds its configurations", async () => {
  await using sb = await makeNixSandbox();
  const dir = join(sb.work, "machines");
  const pkg = (name: string) => ({ name, version: "1.0", bins: [name] });
  await writeFleetFlake(dir, { laptop: [pkg("hello")], desktop: [pkg("cowsay")] }, {
    system: sb.system,
  });
  const r = await fprofOk(sb, ["switch", "--profile", sb.profile, `path:${dir}#desktop`]);
  assertStringIncludes(r.stderr, `built legacyPackages.${sb.system}.profiles.desktop`);
  const list = JSON.parse((await fprofOk(sb, ["list", "--json", "--profile", sb.profile])).stdout);
  assertEquals(list.packages.map((p: { name: string }) => p.name), ["cowsay"]);
  // A name that is neither is named as typed.
  const bad = await fprof(sb, ["switch", "--profile", sb.profile, `path:${dir}#server`]);
  assertEquals(bad.code, 1, bad.stderr);
  assertStringIncludes(bad.stderr, "does not provide attribute 'server'");
});

Deno.test("switch --dry-run --json prints the plan, and nothing changes", async () => {
  await using sb = await makeNixSandbox();
  const dir = join(sb.work, "profile");
  await writeProfileFlake(dir, [{ name: "hello", version: "2.12.1", bins: ["hello"] }], {
    system: sb.system,
  });
  const flake = `path:${dir}`;
  const dry = await fprofOk(sb, ["switch", "--profile", sb.profile, "--dry-run", "--json", flake]);
  const plan = JSON.parse(dry.stdout);
  assertEquals(plan.action, "switch");
  assertEquals(plan.from, null);
  assertEquals(plan.profile, sb.profile);
  assertEquals(plan.to.manifest, "nix");
  assertEquals(plan.packages.added.map((p: { name: string }) => p.name), ["hello"]);
  assertEquals(plan.dropsNix, false);
  assertEquals(
    (await fprofOk(sb, ["generations", "--profile", sb.profile, "--json"])).stdout.includes(
      '"number"',
    ),
    false,
  );

  await fprofOk(sb, ["switch", "--profile", sb.profile, flake]);
  const again = JSON.parse(
    (await fprofOk(sb, ["switch", "--profile", sb.profile, "--dry-run", "--json", flake])).stdout,
  );
  assertEquals(again.action, "none");
  assertEquals(again.from.generation, 1);
  assertEquals(again.to.storePath, again.from.storePath);

  const bad = await fprof(sb, ["switch", "--profile", sb.profile, "--json", flake]);
  assertEquals(bad.code, 2);
  assertStringIncludes(bad.stderr, "error: --json needs --dry-run");
});

Deno.test("a syntax error in the flake keeps Nix's file, line, column and code excerpt", async () => {
  await using sb = await makeNixSandbox();
  const dir = join(sb.work, "profile");
  await Deno.mkdir(dir);
  await Deno.writeTextFile(
    join(dir, "flake.nix"),
    "{\n  outputs = { self }: {\n    x = 1\n  };\n}\n",
  );
  const r = await fprof(sb, ["switch", dir]);
  assertEquals(r.code, 1, r.stderr);
  const lines = r.stderr.trimEnd().split("\n");
  const at = lines.findIndex((l) => l.startsWith("error: "));
  assertOk(
    /^error: cannot read flake '.*': syntax error, unexpected '\}', expecting ';' at .*-source\/flake\.nix:4:3$/
      .test(lines[at]),
    r.stderr,
  );
  assertEquals(lines.slice(at + 1, at + 5), [
    "  3|     x = 1",
    "  4|   };",
    "   |   ^",
    "  5| }",
  ]);
});

Deno.test("list sorts by name the packages nix-env -i and nix profile install added in another order", async () => {
  await using sb = await makeNixSandbox();
  const pkgs = join(sb.work, "pkgs.nix");
  const drv = (name: string) =>
    `${name} = derivation { name = "${name}-1.0"; system = "${sb.system}"; builder = "/bin/sh"; ` +
    `args = [ "-c" "/bin/mkdir -p $out/bin" ]; };`;
  await Deno.writeTextFile(pkgs, `{ ${["bravo", "alpha", "charlie"].map(drv).join(" ")} }`);
  const byNixEnv = join(sb.work, "env-profile");
  const byNixProfile = join(sb.work, "nix-profile");
  // One at a time, in an order that is sorted neither forwards nor backwards.
  for (const name of ["bravo", "alpha", "charlie"]) {
    await sb.runOk(["nix-env", "--profile", byNixEnv, "-i", "-f", pkgs, "-A", name]);
    const out = (await sb.runOk(["nix-build", "--no-out-link", pkgs, "-A", name])).stdout.trim();
    await sb.runOk(["nix", "profile", "install", "--profile", byNixProfile, out]);
  }
  for (const profile of [byNixEnv, byNixProfile]) {
    const text = (await fprofOk(sb, ["list", "--profile", profile])).stdout;
    assertEquals(text, "alpha    1.0\nbravo    1.0\ncharlie  1.0\n");
    const json = JSON.parse((await fprofOk(sb, ["list", "--json", "--profile", profile])).stdout);
    assertEquals(json.packages.map((p: { name: string }) => p.name), ["alpha", "bravo", "charlie"]);
  }
});
