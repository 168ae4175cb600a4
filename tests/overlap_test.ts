/**
 * Integration tests of what overlaps in a profile: two packages providing
 * the same file, a command shadowed by an earlier PATH directory, a profile
 * missing from PATH, as `fprof switch` warns about them and `fprof which`
 * answers for one command.
 */

import { join } from "node:path";
import { assertEquals, assertOk, assertStringIncludes } from "./helpers/testing.ts";
import { type FixturePackage, writeProfileFlake } from "./helpers/fixtures.ts";
import { fprof, fprofOk } from "./helpers/fprof.ts";
import { makeNixSandbox, type NixSandbox } from "./helpers/sandbox.ts";

/** `hello` and `hello-alt` both provide `bin/hello` and `share/man/man1/hello.1`. */
const TWINS: FixturePackage[] = [
  { name: "hello", version: "1.0", bins: ["hello"], files: { "share/man/man1/hello.1": "one" } },
  {
    name: "hello-alt",
    version: "1.0",
    bins: ["hello", "hola"],
    files: { "share/man/man1/hello.1": "two" },
  },
];

/**
 * A profile flake of `pkgs` whose buildEnv takes `ignoreCollisions`, so that
 * two packages may provide one file and the first one's is linked.
 */
async function collidingFlake(sb: NixSandbox, name: string, pkgs: FixturePackage[]) {
  const dir = join(sb.work, name);
  await writeProfileFlake(dir, pkgs, { system: sb.system });
  const file = join(dir, "flake.nix");
  const text = await Deno.readTextFile(file);
  const from = `fixture.buildEnv { name = "profile"; paths = packages; }`;
  assertOk(text.includes(from), "the fixture's buildEnv call changed");
  await Deno.writeTextFile(
    file,
    text.replace(
      from,
      `fixture.buildEnv { name = "profile"; paths = packages; ignoreCollisions = true; }`,
    ),
  );
  return `path:${dir}`;
}

/** A directory holding an executable `name` of its own, for PATH to find first. */
async function otherBin(sb: NixSandbox, name: string): Promise<string> {
  const dir = join(sb.work, "other-bin");
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(join(dir, name), "#!/bin/sh\necho other\n", { mode: 0o755 });
  return dir;
}

const warnings = (stderr: string) => stderr.split("\n").filter((l) => l.startsWith("warning: "));

/** The sandbox's PATH with `dirs` first. */
const pathWith = (sb: NixSandbox, ...dirs: string[]) => [...dirs, sb.env.PATH].join(":");

Deno.test("switch names both packages of a file they both provide, and the one the profile has", async () => {
  await using sb = await makeNixSandbox();
  const flake = await collidingFlake(sb, "twins", TWINS);
  const env = { PATH: pathWith(sb, join(sb.profile, "bin")) };
  const r = await fprofOk(sb, ["switch", "--profile", sb.profile, flake], { env });
  const profileHello = await Deno.realPath(join(sb.profile, "bin", "hello"));
  assertOk(/-hello-1\.0\/bin\/hello$/.test(profileHello), profileHello);
  assertEquals(warnings(r.stderr), [
    "warning: bin/hello is provided by hello 1.0 and hello-alt 1.0; the profile has hello 1.0's",
    "warning: share/man/man1/hello.1 is provided by hello 1.0 and hello-alt 1.0; " +
    "the profile has hello 1.0's",
  ], r.stderr);
  assertStringIncludes(r.stderr, "hint: remove all but one of them from the flake, or wrap");

  const dry = await fprofOk(sb, ["switch", "--profile", sb.profile, "--dry-run", "--json", flake], {
    env,
  });
  const doc = JSON.parse(dry.stdout);
  assertEquals(doc.warnings.map((w: { kind: string; file: string }) => [w.kind, w.file]), [
    ["collision", "bin/hello"],
    ["collision", "share/man/man1/hello.1"],
  ]);
  assertEquals(doc.warnings[0].packages.map((p: { name: string }) => p.name), [
    "hello",
    "hello-alt",
  ]);
  assertEquals(doc.warnings[0].winner.storePath, profileHello.replace(/\/bin\/hello$/, ""));
  assertEquals(warnings(dry.stderr), [], "--json keeps the warnings off stderr");
});

Deno.test("a switch with nothing overlapping warns of nothing, through ~/.nix-profile on PATH", async () => {
  await using sb = await makeNixSandbox();
  const dir = join(sb.work, "plain");
  await writeProfileFlake(dir, [
    { name: "hello", version: "1.0", bins: ["hello"] },
    { name: "jq", version: "1.6", bins: ["jq"] },
  ], { system: sb.system });
  // No --profile: the first switch makes ~/.nix-profile, which PATH names.
  const env = { PATH: pathWith(sb, join(sb.home, ".nix-profile", "bin")) };
  const r = await fprofOk(sb, ["switch", `path:${dir}`], { env });
  assertStringIncludes(r.stderr, "switched");
  assertEquals(warnings(r.stderr), [], r.stderr);
});

Deno.test("switch warns of a command an earlier PATH directory shadows, and of a profile not on PATH", async () => {
  await using sb = await makeNixSandbox();
  const flake = await collidingFlake(sb, "one", [{
    name: "hello",
    version: "1.0",
    bins: ["hello"],
  }]);
  const other = await otherBin(sb, "hello");
  const bin = join(sb.profile, "bin");
  const shadowed = await fprofOk(sb, ["switch", "--profile", sb.profile, flake], {
    env: { PATH: pathWith(sb, other, bin) },
  });
  assertEquals(warnings(shadowed.stderr), [
    `warning: 'hello' runs ${other}/hello, not the profile's: ${other} comes before ${bin} on PATH`,
  ]);
  assertStringIncludes(
    shadowed.stderr,
    `hint: put ${bin} before ${other} in PATH, or remove ${other}/hello\n`,
  );
  // After the profile, the other directory shadows nothing.
  const after = await fprofOk(sb, ["switch", "--profile", sb.profile, flake], {
    env: { PATH: pathWith(sb, bin, other) },
  });
  assertEquals(warnings(after.stderr), []);

  const work = join(sb.stateDir, "profiles", "work");
  const missing = await fprofOk(sb, ["switch", "--profile", work, flake], {
    env: { PATH: pathWith(sb, bin) },
  });
  assertEquals(warnings(missing.stderr), [
    `warning: ${work}/bin is not on PATH, so the shell finds none of the profile's commands`,
  ]);
  assertStringIncludes(missing.stderr, `export PATH="${work}/bin:$PATH"\n`);
  const dry = await fprofOk(sb, ["switch", "--profile", work, "--dry-run", "--json", flake], {
    env: { PATH: pathWith(sb, other, bin) },
  });
  assertEquals(JSON.parse(dry.stdout).warnings, [
    { kind: "not-on-path", bin: `${work}/bin`, line: `export PATH="${work}/bin:$PATH"` },
  ]);
});

Deno.test("which names the package the profile runs, the other that has the command, and what PATH runs", async () => {
  await using sb = await makeNixSandbox();
  const flake = await collidingFlake(sb, "twins", TWINS);
  const bin = join(sb.profile, "bin");
  await fprofOk(sb, ["switch", "--profile", sb.profile, flake]);
  const other = await otherBin(sb, "hello");
  const p = ["--profile", sb.profile];

  const own = await fprofOk(sb, ["which", ...p, "hello"], { env: { PATH: pathWith(sb, bin) } });
  const lines = own.stdout.split("\n");
  assertOk(/^provides {2}hello 1\.0 {2}\S+-hello-1\.0\/bin\/hello$/.test(lines[0]), own.stdout);
  assertOk(
    /^also {6}hello-alt 1\.0 {2}\S+-hello-alt-1\.0\/bin\/hello \(not linked\)$/.test(lines[1]),
  );
  assertEquals(lines[2], `runs      ${bin}/hello (the profile's)`);

  const shadowed = await fprofOk(sb, ["which", ...p, "--json", "hello"], {
    env: { PATH: pathWith(sb, other, bin) },
  });
  const doc = JSON.parse(shadowed.stdout);
  assertEquals(doc.provider.name, "hello");
  assertEquals(doc.others.map((o: { name: string }) => o.name), ["hello-alt"]);
  assertEquals([doc.runs, doc.runsProfile, doc.onPath], [`${other}/hello`, false, true]);

  const alone = await fprofOk(sb, ["which", ...p, "hola"], { env: { PATH: pathWith(sb, other) } });
  assertEquals(alone.stdout.split("\n").slice(1), [
    "runs      nothing: the profile is not on PATH",
    "",
  ]);

  const none = await fprof(sb, ["which", ...p, "nope"]);
  assertEquals(none.code, 1);
  assertEquals(none.stdout, "");
  const errs = none.stderr.split("\n").filter((l) => /^(error|hint): /.test(l));
  assertEquals(errs.length, 2, none.stderr);
  assertStringIncludes(errs[0], `error: 'nope' is not a command of '${sb.profile}' (generation 1)`);
});
