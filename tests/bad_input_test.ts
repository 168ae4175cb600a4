/**
 * Bad input, end to end: every case runs the real fprof against the real Nix
 * in one isolated store and must fail the way the README promises: one
 * `error:` line (after any of Nix's build progress), one `hint:` line after
 * it, exit 1 (2 for usage errors), no stack trace, nothing on stdout,
 * and no change to the profile, its generations or fprof's records.
 *
 * The cases share one sandbox and one profile with a good generation: none of
 * them may change anything, and each checks that it did not.
 */

import { join } from "node:path";
import { assertEquals, assertOk, assertStringIncludes } from "./helpers/testing.ts";
import { writeProfileFlake } from "./helpers/fixtures.ts";
import { fprof, fprofOk, snapshot } from "./helpers/fprof.ts";
import { makeNixSandbox, type NixSandbox } from "./helpers/sandbox.ts";

/** Paths the cases refer to, made once by {@link setUp}. */
interface Fixtures {
  /** A profile flake of `hello`, whose environment is the profile's generation 1. */
  good: string;
  /** A flake with no outputs at all. */
  empty: string;
  /** A flake whose profile has two packages that both provide `bin/x`. */
  collision: string;
  /** A flake whose profile is a derivation that builds a file. */
  fileEnv: string;
  /** Profiles whose only generation has a bad manifest, by kind of damage. */
  badManifest: { corruptJson: string; unknownJson: string; badNix: string };
  /** A regular file, a directory and a symlink loop, to pass as `--profile`. */
  notProfile: { file: string; dir: string; loop: string };
}

/** One bad input and how fprof must report it. */
interface BadInputCase {
  name: string;
  args: (f: Fixtures, sb: NixSandbox) => string[];
  /** Extra environment of the fprof process. */
  env?: (sb: NixSandbox) => Record<string, string>;
  /** Puts something in place before the run and returns how to remove it. */
  arrange?: (sb: NixSandbox) => Promise<() => Promise<void>>;
  code: 1 | 2;
  /** Parts the `error:` line must contain. */
  error: (f: Fixtures, sb: NixSandbox) => string[];
  /** Parts the `hint:` line must contain; a hint there must be. */
  hint?: string[];
  /** The error and hint are all fprof prints: it fails before any build. */
  alone?: boolean;
}

const CASES: BadInputCase[] = [
  {
    name: "a flake that does not exist",
    args: (_, sb) => ["switch", "--profile", sb.profile, `path:${join(sb.work, "nowhere")}`],
    code: 1,
    error: (_, sb) => [join(sb.work, "nowhere")],
  },
  {
    name: "a missing attribute",
    args: (f, sb) => ["switch", "--profile", sb.profile, `path:${f.good}#nope`],
    code: 1,
    error: () => ["does not provide attribute", "nope"],
  },
  {
    name: "a flake with none of the default attributes",
    args: (f, sb) => ["switch", "--profile", sb.profile, `path:${f.empty}`],
    code: 1,
    error: (_, sb) => [
      "does not provide any of the attributes",
      `packages.${sb.system}.profile`,
      `legacyPackages.${sb.system}.profile`,
      `packages.${sb.system}.default`,
    ],
    hint: ["fprof init"],
  },
  {
    name: "an evaluation error",
    args: (f, sb) => ["switch", "--profile", sb.profile, `path:${f.good}#broken`],
    code: 1,
    error: () => ["broken on purpose"],
  },
  {
    name: "a build failure",
    args: (f, sb) => ["switch", "--profile", sb.profile, `path:${f.good}#failing`],
    code: 1,
    error: () => ["builder for", "-failing-1.0.drv' failed", "fails to build on purpose"],
    hint: ["nix log", "-failing-1.0.drv"],
  },
  {
    name: "a collision between two packages",
    args: (f, sb) => ["switch", "--profile", sb.profile, `path:${f.collision}`],
    code: 1,
    error: () => ["-profile.drv' failed", "collision between", "-b-1/bin/x", "-a-1/bin/x"],
    hint: ["nix log", "-profile.drv"],
  },
  {
    name: "a store path that is not valid",
    args: (_, sb) => ["switch", "--profile", sb.profile, `${sb.storeDir}/${"a".repeat(32)}-env`],
    code: 1,
    error: (_, sb) => [`'${sb.storeDir}/${"a".repeat(32)}-env' is not a valid store path`],
    alone: true,
  },
  {
    name: "an environment that is not a directory",
    args: (f, sb) => ["switch", "--profile", sb.profile, `path:${f.fileEnv}`],
    code: 1,
    error: () => ["-file-env' is not a profile environment"],
    hint: ["must build a directory"],
  },
  {
    name: "--profile pointing at a regular file",
    args: (f) => ["switch", "--profile", f.notProfile.file, `path:${f.good}`],
    code: 1,
    error: (f) => [`'${f.notProfile.file}' is not a profile`],
    hint: ["--profile"],
    alone: true,
  },
  {
    name: "--profile pointing at a directory",
    args: (f) => ["switch", "--profile", f.notProfile.dir, `path:${f.good}`],
    code: 1,
    error: (f) => [`'${f.notProfile.dir}' is not a profile`],
    hint: ["--profile"],
    alone: true,
  },
  {
    name: "--profile at a symlink loop",
    args: (f) => ["switch", "--profile", f.notProfile.loop, `path:${f.good}`],
    code: 1,
    error: (f) => [f.notProfile.loop, "too many levels of symbolic links"],
    alone: true,
  },
  {
    name: "list of a generation with a corrupt manifest.json",
    args: (f) => ["list", "--profile", f.badManifest.corruptJson],
    code: 1,
    error: () => ["-corrupt-json/manifest.json", "Cannot parse manifest.json"],
    alone: true,
  },
  {
    name: "list of a generation with a manifest.json of version 99",
    args: (f) => ["list", "--profile", f.badManifest.unknownJson],
    code: 1,
    error: () => ["-unknown-json/manifest.json", "unsupported version 99"],
    alone: true,
  },
  {
    name: "list of a generation with a manifest.nix Nix cannot evaluate",
    args: (f) => ["list", "--profile", f.badManifest.badNix],
    code: 1,
    error: () => ["cannot evaluate '", "-bad-nix/manifest.nix': syntax error"],
    alone: true,
  },
  {
    name: "a malformed config file",
    args: (_, sb) => ["list", "--profile", sb.profile],
    arrange: (sb) => writeConfig(sb, '{\n  // mine\n  "flake": ".",\n  "profile" 1\n}\n'),
    code: 1,
    error: (_, sb) => [configFile(sb), "line 4, column 13: colon expected"],
  },
  {
    name: "a config file with an unknown key",
    args: (_, sb) => ["list", "--profile", sb.profile],
    arrange: (sb) => writeConfig(sb, '{ "flakes": "~/profile" }\n'),
    code: 1,
    error: (_, sb) => [configFile(sb), "unknown setting 'flakes'"],
    hint: ["flake, profile, manifest"],
  },
  {
    name: "list --generation 99",
    args: (_, sb) => ["list", "--profile", sb.profile, "--generation", "99"],
    code: 2,
    error: () => ["generation 99 does not exist"],
    hint: ["existing generations: 1"],
  },
  {
    name: "rollback --to 99",
    args: (_, sb) => ["rollback", "--profile", sb.profile, "--to", "99"],
    code: 2,
    error: () => ["generation 99 does not exist"],
    hint: ["existing generations: 1"],
  },
  {
    name: "rollback of a profile with one generation",
    args: (_, sb) => ["rollback", "--profile", sb.profile],
    code: 1,
    error: () => ["generation 1 has no earlier generation"],
    alone: true,
  },
  {
    name: "rollback with --profile pointing at a regular file",
    args: (f) => ["rollback", "--profile", f.notProfile.file],
    code: 1,
    error: (f) => [`'${f.notProfile.file}' is not a profile`],
    hint: ["--profile"],
    alone: true,
  },
  {
    name: "rollback of a profile that does not exist",
    args: (_, sb) => ["rollback", "--profile", join(sb.work, "typo", "profile")],
    code: 1,
    error: (_, sb) => [`profile '${join(sb.work, "typo", "profile")}' has no generations yet`],
    alone: true,
  },
  {
    name: "nix not on PATH",
    args: (f, sb) => ["switch", "--profile", sb.profile, `path:${f.good}`],
    env: () => ({ PATH: "/nonexistent" }),
    code: 1,
    error: () => ["cannot run 'nix'", "not on PATH"],
    hint: ["install Nix"],
  },
];

Deno.test("bad input fails with one error line and changes nothing", async (t) => {
  await using sb = await makeNixSandbox();
  const f = await setUp(sb);
  for (const c of CASES) {
    await t.step(c.name, async () => {
      const remove = await c.arrange?.(sb);
      try {
        const before = await onDisk(sb);
        const r = await fprof(sb, c.args(f, sb), { env: c.env?.(sb) });
        const what = `fprof ${c.args(f, sb).join(" ")}\n--- stderr\n${r.stderr}`;
        assertEquals(r.code, c.code, what);
        assertEquals(r.stdout, "", what);
        assertOk(!r.stderr.includes("    at "), `a stack trace: ${what}`);
        const { error, hint } = errorLines(r.stderr, what);
        for (const part of c.error(f, sb)) assertStringIncludes(error, part, what);
        // Every error a user can cause says what to do about it.
        assertOk(hint !== undefined, `no hint: ${what}`);
        for (const part of c.hint ?? []) assertStringIncludes(hint, part, what);
        if (c.alone) {
          assertOk(
            !/^(?!error: |hint: |Try 'fprof| {2}\s*\d*\|)/m.test(r.stderr.trimEnd()),
            `more than the error: ${what}`,
          );
        }
        assertEquals(await onDisk(sb), before, `changed on disk: ${what}`);
      } finally {
        await remove?.();
      }
    });
  }
});

/**
 * The `error:` line and the optional `hint:` line that follows it, after
 * checking that they are the last lines and that no other line is an error.
 */
function errorLines(stderr: string, what: string): { error: string; hint?: string } {
  const lines = stderr.trimEnd().split("\n");
  const errors = lines.flatMap((l, i) => /^\s*error:/.test(l) ? [i] : []);
  assertEquals(errors.length, 1, `expected exactly one error line: ${what}`);
  const [at] = errors;
  assertOk(lines[at].startsWith("error: "), `an indented error line: ${what}`);
  // A usage error (exit 2) ends by pointing to the command's help, and the
  // code Nix quotes at an error's location follows the error line.
  const after = lines.slice(at + 1).filter((l) =>
    !/^Try 'fprof [a-z]+ --help'\.$/.test(l) && !/^ {2}\s*\d*\|/.test(l)
  );
  assertOk(
    after.length === 0 || (after.length === 1 && after[0].startsWith("hint: ")),
    `only a hint may follow the error: ${what}`,
  );
  assertOk(!lines.slice(0, at).some((l) => l.startsWith("hint:")), `a stray hint: ${what}`);
  return { error: lines[at], hint: after[0] };
}

/**
 * What a failed command must leave as it was: the profiles, their generations
 * and fprof's records ({@link snapshot}), plus the names of the files beside
 * the profiles and in the work directory, where a stray lock file or a
 * mistyped profile's directory would appear.
 */
async function onDisk(sb: NixSandbox): Promise<string> {
  const names = async (dir: string) =>
    (await Array.fromAsync(Deno.readDir(dir), (e) => join(dir, e.name))).sort();
  return [
    await snapshot(sb),
    ...await names(join(sb.profile, "..")),
    ...await names(sb.work),
  ].join("\n");
}

/** Makes the flakes, files and profiles the cases use, and generation 1. */
async function setUp(sb: NixSandbox): Promise<Fixtures> {
  const system = { system: sb.system };
  const good = join(sb.work, "good");
  await writeProfileFlake(good, [{ name: "hello", version: "2.12", bins: ["hello"] }], system);
  const collision = join(sb.work, "collision");
  await writeProfileFlake(collision, [
    { name: "a", version: "1", bins: ["x"] },
    { name: "b", version: "1", bins: ["x"] },
  ], system);
  const empty = join(sb.work, "empty");
  await Deno.mkdir(empty);
  await Deno.writeTextFile(join(empty, "flake.nix"), "{ outputs = { self }: { }; }\n");
  const fileEnv = join(sb.work, "file-env");
  await Deno.mkdir(fileEnv);
  await Deno.writeTextFile(
    join(fileEnv, "flake.nix"),
    `{
  outputs = { self }: {
    packages.${JSON.stringify(sb.system)}.profile = derivation {
      name = "file-env";
      system = ${JSON.stringify(sb.system)};
      builder = "/bin/sh";
      args = [ "-c" "echo not a directory > $out" ];
    };
  };
}
`,
  );

  const notProfile = {
    file: join(sb.work, "a-file"),
    dir: join(sb.work, "a-dir"),
    loop: join(sb.work, "a-loop"),
  };
  await Deno.writeTextFile(notProfile.file, "not a profile\n");
  await Deno.mkdir(notProfile.dir);
  await Deno.symlink("a-loop-too", notProfile.loop);
  await Deno.symlink("a-loop", join(sb.work, "a-loop-too"));

  // Generations another tool made, each holding a damaged manifest; they
  // live beside the main profile, so that the snapshots cover them too.
  const profiles = join(sb.profile, "..");
  const badManifest = {
    corruptJson: await badGeneration(sb, join(profiles, "corrupt-json"), {
      "manifest.json": '{"version": 2, "elements": [',
    }),
    unknownJson: await badGeneration(sb, join(profiles, "unknown-json"), {
      "manifest.json": '{"version": 99, "elements": []}\n',
    }),
    badNix: await badGeneration(sb, join(profiles, "bad-nix"), {
      "manifest.nix": '[ { name = "hello"; outPath = ',
    }),
  };

  await fprofOk(sb, ["switch", "--profile", sb.profile, `path:${good}`]);
  return { good, empty, collision, fileEnv, badManifest, notProfile };
}

/** Makes `profile` with one generation: a store directory holding `files`. */
async function badGeneration(
  sb: NixSandbox,
  profile: string,
  files: Record<string, string>,
): Promise<string> {
  const dir = join(sb.work, "generations", profile.split("/").pop()!);
  await Deno.mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(join(dir, name), text);
  }
  const path = (await sb.runOk(["nix-store", "--add", dir])).stdout.trim();
  await sb.runOk(["nix-env", "--profile", profile, "--set", path]);
  return profile;
}

function configFile(sb: NixSandbox): string {
  return join(sb.xdgConfig, "fprof", "config.jsonc");
}

async function writeConfig(sb: NixSandbox, text: string): Promise<() => Promise<void>> {
  await Deno.mkdir(join(sb.xdgConfig, "fprof"), { recursive: true });
  await Deno.writeTextFile(configFile(sb), text);
  return () => Deno.remove(configFile(sb));
}
