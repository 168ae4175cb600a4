/**
 * Integration tests of history against the real Nix, on an isolated store
 * per test: diff, the parent tree, upgrade, deleting generations, and drift.
 */

import { testPathInfo } from "./helpers/nix_version.ts";
import { join } from "node:path";
import { assertEquals, assertOk, assertStringIncludes } from "./helpers/testing.ts";
import { writePackageSet } from "./helpers/fixtures.ts";
import { fprof, fprofOk, snapshot } from "./helpers/fprof.ts";
import { makeNixSandbox, type NixSandbox } from "./helpers/sandbox.ts";
import { A, abcFlakes, B, nixEnvInstallExtra, profileFlake } from "./helpers/scenario.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

function which(program: string): boolean {
  return (Deno.env.get("PATH") ?? "").split(":").some((dir) => {
    try {
      return Deno.statSync(join(dir, program)).isFile;
    } catch {
      return false;
    }
  });
}

interface Side {
  generation: number;
  storePath: string;
  manifest: string;
}
interface DiffDoc {
  profile: string;
  from: Side;
  to: Side;
  added: { name: string; version: string; storePaths: string[] }[];
  removed: { name: string; version: string; storePaths: string[] }[];
  changed: { name: string; from: string; to: string }[];
  closureSize?: { from: number; to: number; change: number };
}

async function diffJson(sb: NixSandbox, ...args: string[]): Promise<DiffDoc> {
  return JSON.parse(
    (await fprofOk(sb, ["diff", "--json", "--profile", sb.profile, ...args])).stdout,
  );
}

const short = (d: DiffDoc) => ({
  added: d.added.map((p) => `${p.name}-${p.version}`),
  removed: d.removed.map((p) => `${p.name}-${p.version}`),
  changed: d.changed.map((c) => `${c.name} ${c.from} → ${c.to}`),
});

const AB = {
  added: ["ripgrep-14.1.0"],
  removed: ["gone-1.0"],
  changed: ["hello 2.12.1 → 2.12.2"],
};

async function current(sb: NixSandbox): Promise<number> {
  const doc = JSON.parse((await fprofOk(sb, ["list", "--json", "--profile", sb.profile])).stdout);
  return doc.generation;
}

Deno.test("diff shows exactly one upgrade, one addition and one removal, across manifest kinds", async () => {
  await using sb = await makeNixSandbox();
  const [a, b] = [await profileFlake(sb, "a", A), await profileFlake(sb, "b", B)];
  const p = ["--profile", sb.profile];
  // 1: A with manifest.json; 2: B with no manifest; 3: A with manifest.nix.
  await fprofOk(sb, ["switch", ...p, "--manifest=json", a]);
  await fprofOk(sb, ["switch", ...p, "--manifest=none", b]);

  // Defaults: the current generation's parent, and the current one.
  const text = await fprofOk(sb, ["diff", ...p]);
  assertEquals(text.stdout, "~ hello 2.12.1 → 2.12.2\n+ ripgrep 14.1.0\n- gone 1.0\n");
  assertStringIncludes(text.stderr, "generation 1 → 2");
  const doc = await diffJson(sb);
  assertEquals(short(doc), AB);
  assertEquals([doc.from.generation, doc.from.manifest], [1, "json"]);
  assertEquals([doc.to.generation, doc.to.manifest], [2, "none"]);
  assertEquals(doc.closureSize, undefined);
  assertStringIncludes(doc.added[0].storePaths[0], "-ripgrep-14.1.0");

  await fprofOk(sb, ["switch", ...p, "--manifest=nix", a]);
  const back = await diffJson(sb);
  assertEquals([back.from.generation, back.to.generation], [2, 3]);
  assertEquals([back.from.manifest, back.to.manifest], ["none", "nix"]);
  assertEquals(short(back), {
    added: ["gone-1.0"],
    removed: ["ripgrep-14.1.0"],
    changed: ["hello 2.12.2 → 2.12.1"],
  });
  // Explicit generations, in either order; one number means "against the current one".
  assertEquals(short(await diffJson(sb, "1", "2")), AB);
  assertEquals(short(await diffJson(sb, "1")), { added: [], removed: [], changed: [] });
  const none = await fprofOk(sb, ["diff", ...p, "1"]);
  assertEquals(none.stdout, "");
  assertStringIncludes(none.stderr, "no package changes");

  // --closure adds sizes that agree with nix path-info -S.
  const sized = await diffJson(sb, "--closure", "1", "2");
  const [info] = await testPathInfo(async (argv) => (await sb.runOk(argv)).stdout, ["-S"], [
    sized.from.storePath,
  ]);
  assertEquals(sized.closureSize!.from, info.closureSize);
  assertEquals(sized.closureSize!.change, sized.closureSize!.to - sized.closureSize!.from);
  const sizedText = await fprofOk(sb, ["diff", ...p, "--closure", "1", "2"]);
  assertOk(/^closure size: .+ → .+ \([+-±]/m.test(sizedText.stdout), sizedText.stdout);

  const missing = await fprof(sb, ["diff", ...p, "9"]);
  assertEquals(missing.code, 2);
  assertStringIncludes(missing.stderr, "error: generation 9 does not exist");
});

Deno.test("the parent tree after A, B, rollback, C, rollback, and the diffs rollback prints", async () => {
  await using sb = await makeNixSandbox();
  const [a, b, c] = await abcFlakes(sb);
  const p = ["--profile", sb.profile];
  await fprofOk(sb, ["switch", ...p, a]);
  const sw = await fprofOk(sb, ["switch", ...p, b, "--diff", "always"]);
  assertStringIncludes(sw.stderr, "  ~ hello 2.12.1 → 2.12.2\n");
  assertStringIncludes(sw.stderr, "  closure size: ");

  // rollback --dry-run prints the diff it would apply, and changes nothing.
  const before = await snapshot(sb);
  const dry = await fprofOk(sb, ["rollback", ...p, "--dry-run"]);
  assertEquals(
    dry.stdout,
    `would roll back '${sb.profile}': generation 2 → 1 (its parent)\n` +
      "  ~ hello 2.12.2 → 2.12.1\n  + gone 1.0\n  - ripgrep 14.1.0\n",
  );
  assertEquals(await snapshot(sb), before);
  const back = await fprofOk(sb, ["rollback", ...p]);
  assertStringIncludes(back.stderr, "  - ripgrep 14.1.0\n");
  const c3 = await fprofOk(sb, ["switch", ...p, c, "--diff", "never"]);
  assertOk(!c3.stderr.includes("+ cowsay"), c3.stderr);
  await fprofOk(sb, ["rollback", ...p]);

  const tree = (await fprofOk(sb, ["generations", "--tree", ...p])).stdout.split("\n");
  assertEquals(tree.map((l) => l.split("  ")[0]), ["1*", "├─ 2", "└─ 3", ""]);
  assertStringIncludes(tree[0], `3 packages  ${a}#packages.${sb.system}.profile`);
  assertStringIncludes(tree[2], `1 package  ${c}#packages.${sb.system}.profile`);
  assertOk(/^1\* {2}\d{4}-\d\d-\d\d \d\d:\d\d {2}/.test(tree[0]), tree[0]);

  const gens = JSON.parse((await fprofOk(sb, ["generations", "--json", ...p])).stdout);
  assertEquals(
    gens.generations.map((g: { number: number; parent: number | null; packageCount: number }) => [
      g.number,
      g.parent,
      g.packageCount,
    ]),
    [[1, null, 3], [2, 1, 3], [3, 1, 1]],
  );
  assertEquals(gens.current, 1);
});

/** A profile flake whose packages come from its input `pkgs`, a package-set flake. */
async function flakeWithInput(sb: NixSandbox, pkgsDir: string): Promise<string> {
  const dir = join(sb.work, "profile");
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    join(dir, "flake.nix"),
    `{
  inputs.pkgs.url = "path:${pkgsDir}";
  outputs = { self, pkgs }:
    let p = pkgs.legacyPackages.${JSON.stringify(sb.system)};
    in {
      packages.${JSON.stringify(sb.system)}.profile = p.buildEnv {
        name = "profile";
        paths = [ p.hello p.jq ];
      };
    };
}
`,
  );
  return dir;
}

Deno.test("upgrade moves an input to its next revision, and a dry run or failed build keeps flake.lock", async () => {
  await using sb = await makeNixSandbox();
  const pkgs = join(sb.work, "pkgs");
  const jq = { name: "jq", version: "1.6", bins: ["jq"] };
  await writePackageSet(pkgs, [{ name: "hello", version: "2.12.1", bins: ["hello"] }, jq], {
    system: sb.system,
  });
  const dir = await flakeWithInput(sb, pkgs);
  const p = ["--profile", sb.profile];
  await fprofOk(sb, ["switch", ...p, `path:${dir}`]);
  const lockFile = join(dir, "flake.lock");
  const lock1 = await Deno.readFile(lockFile);

  // Revision 2 of the input: hello 2.12.2.
  await writePackageSet(pkgs, [{ name: "hello", version: "2.12.2", bins: ["hello"] }, jq], {
    system: sb.system,
  });
  const dry = await fprofOk(sb, ["upgrade", ...p, "--dry-run", `path:${dir}`]);
  assertStringIncludes(dry.stdout, "  ~ hello 2.12.1 → 2.12.2\n");
  assertEquals(await Deno.readFile(lockFile), lock1);
  assertEquals(await current(sb), 1);
  // The same plan as JSON; without --dry-run, --json is refused before the lock changes.
  const dryJson = await fprofOk(sb, ["upgrade", ...p, "--dry-run", "--json", `path:${dir}`]);
  assertEquals(JSON.parse(dryJson.stdout).packages.changed, [
    { name: "hello", from: "2.12.1", to: "2.12.2" },
  ]);
  const noDry = await fprof(sb, ["upgrade", ...p, "--json", `path:${dir}`]);
  assertEquals(noDry.code, 2);
  assertStringIncludes(noDry.stderr, "error: --json needs --dry-run");
  assertEquals(await Deno.readFile(lockFile), lock1);

  const up = await fprofOk(sb, ["upgrade", ...p, "--input", "pkgs", `path:${dir}`]);
  assertStringIncludes(up.stderr, "updating input pkgs of");
  assertStringIncludes(up.stderr, "  ~ hello 2.12.1 → 2.12.2\n");
  assertStringIncludes(up.stderr, "switched");
  assertEquals(await current(sb), 2);
  const lock2 = await Deno.readFile(lockFile);
  assertOk(new TextDecoder().decode(lock2) !== new TextDecoder().decode(lock1), "lock changed");
  assertEquals(
    (await sb.runOk([join(sb.profile, "bin", "hello")])).stdout,
    "hello 2.12.2\n",
  );

  // Revision 3 does not build: the upgrade fails and the lock stays as it was.
  await writePackageSet(pkgs, [{ name: "hello", version: "2.13", fail: true }, jq], {
    system: sb.system,
  });
  const failed = await fprof(sb, ["upgrade", ...p, `path:${dir}`]);
  assertEquals(failed.code, 1, failed.stderr);
  assertStringIncludes(failed.stderr, "error: cannot build");
  assertEquals(await Deno.readFile(lockFile), lock2);
  assertEquals(await current(sb), 2);

  const remote = await fprof(sb, ["upgrade", ...p, "github:nobody/nothing"]);
  assertEquals(remote.code, 2);
  assertStringIncludes(remote.stderr, "not a flake on this machine");
});

Deno.test("after deleting generations, rollback still lands on a living ancestor", async () => {
  await using sb = await makeNixSandbox();
  const [a, b, c] = await abcFlakes(sb);
  const p = ["--profile", sb.profile];
  // 1 ← 2 ← 3, and 4 from 1 after a rollback; then back to 3.
  await fprofOk(sb, ["switch", ...p, a]);
  await fprofOk(sb, ["switch", ...p, b]);
  await fprofOk(sb, ["switch", ...p, c]);
  await fprofOk(sb, ["rollback", ...p, "--to", "1"]);
  await fprofOk(sb, ["switch", ...p, "--manifest=json", a]);
  await fprofOk(sb, ["rollback", ...p, "--to", "3"]);

  const refused = await fprof(sb, ["generations", ...p, "--delete", "3"]);
  assertEquals(refused.code, 2);
  assertStringIncludes(refused.stderr, "error: generation 3 is the current one");
  const both = await fprof(sb, ["generations", ...p, "--delete", "2", "--keep", "1"]);
  assertEquals(both.code, 2);

  const before = await snapshot(sb);
  const dry = await fprofOk(sb, ["generations", ...p, "--delete", "2", "--dry-run"]);
  assertEquals(dry.stdout, `would delete generations 2 of '${sb.profile}'\n`);
  const dryJson = await fprofOk(sb, ["generations", ...p, "--delete", "2", "--dry-run", "--json"]);
  assertEquals(JSON.parse(dryJson.stdout), { profile: sb.profile, dryRun: true, deleted: [2] });
  assertEquals(await snapshot(sb), before);

  const del = await fprofOk(sb, ["generations", ...p, "--delete", "2"]);
  assertStringIncludes(del.stderr, "deleted generations 2");
  assertStringIncludes(del.stderr, "nix-collect-garbage");
  const listed = await sb.runOk(["nix-env", "--profile", sb.profile, "--list-generations"]);
  assertEquals(listed.stdout.trim().split("\n").map((l) => l.trim().split(/\s+/)[0]), [
    "1",
    "3",
    "4",
  ]);
  const gens = JSON.parse((await fprofOk(sb, ["generations", "--json", ...p])).stdout);
  assertEquals(
    gens.generations.map((g: { number: number; parent: number | null }) => [g.number, g.parent]),
    [[1, null], [3, 1], [4, 1]],
  );
  const back = await fprofOk(sb, ["rollback", ...p]);
  assertStringIncludes(back.stderr, "generation 3 → 1 (its parent)");

  // --keep 1 from generation 1: 4 is the newest and 1 is current, so only 3 goes.
  const kept = await fprofOk(sb, ["generations", ...p, "--keep", "1", "--json"]);
  assertEquals(JSON.parse(kept.stdout), { profile: sb.profile, dryRun: false, deleted: [3] });
  const left = JSON.parse((await fprofOk(sb, ["generations", "--json", ...p])).stdout);
  assertEquals(left.generations.map((g: { number: number }) => g.number), [1, 4]);
  await sb.runOk(["nix-collect-garbage"]);
  assertEquals((await sb.runOk([join(sb.profile, "bin", "hello")])).stdout, "hello 2.12.1\n");
});

Deno.test("drift: after nix-env -i, switch names the package it would drop and refuses without --yes", async () => {
  await using sb = await makeNixSandbox();
  const [a, b] = [await profileFlake(sb, "a", A), await profileFlake(sb, "b", B)];
  const p = ["--profile", sb.profile];
  await fprofOk(sb, ["switch", ...p, a]);
  await nixEnvInstallExtra(sb);

  const drift = await fprofOk(sb, ["list", ...p, "--drift"]);
  assertEquals(drift.stdout, "+ extra 0.1\n");
  const driftDoc = JSON.parse((await fprofOk(sb, ["list", ...p, "--drift", "--json"])).stdout);
  assertEquals(driftDoc.extra.map((x: { name: string }) => x.name), ["extra"]);
  assertEquals([driftDoc.missing, driftDoc.changed, driftDoc.generation], [[], [], 2]);
  assertEquals(driftDoc.flake, `${a}#packages.${sb.system}.profile`);

  const before = await snapshot(sb);
  const refused = await fprof(sb, ["switch", ...p, b]);
  assertEquals(refused.code, 1, refused.stderr);
  assertStringIncludes(
    refused.stderr,
    "error: refusing to switch: generation 2 was not made by fprof",
  );
  assertStringIncludes(refused.stderr, "would drop: extra 0.1\n");
  assertStringIncludes(refused.stderr, "--yes");
  assertEquals(await snapshot(sb), before);

  // A dry run only warns, and its plan names what the switch would drop; --yes switches.
  const plan = JSON.parse((await fprofOk(sb, ["switch", ...p, "--dry-run", "--json", b])).stdout);
  assertEquals(plan.drift.map((x: { name: string }) => x.name), ["extra"]);
  const dry = await fprofOk(sb, ["switch", ...p, "--dry-run", b]);
  assertStringIncludes(dry.stderr, "warning: generation 2 was not made by fprof");
  const yes = await fprofOk(sb, ["switch", ...p, "--yes", b]);
  assertStringIncludes(yes.stderr, "  - extra 0.1\n");
  assertEquals(await current(sb), 3);
  // fprof made generation 3, so the next switch asks nothing.
  await fprofOk(sb, ["switch", ...p, a]);
  assertEquals((await fprofOk(sb, ["list", ...p, "--drift"])).stdout, "");
});

Deno.test({
  name: "drift: on a terminal, switch asks, and only a yes goes on",
  // util-linux's script(1) gives fprof a terminal on stdin.
  ignore: !which("script"),
  async fn() {
    await using sb = await makeNixSandbox();
    const [a, b] = [await profileFlake(sb, "a", A), await profileFlake(sb, "b", B)];
    await fprofOk(sb, ["switch", "--profile", sb.profile, a]);
    await nixEnvInstallExtra(sb);
    const onTerminal = (answer: string) =>
      sb.run([
        "script",
        "-qec",
        `${Deno.execPath()} run -A --quiet ${MAIN} switch --profile ${sb.profile} ${b}`,
        "/dev/null",
      ], { stdin: `${answer}\n`, env: { NO_COLOR: "1" } });
    const no = await onTerminal("n");
    assertEquals(no.code, 1, no.stdout);
    // script(1) puts the terminal's output, stderr included, on its stdout.
    assertStringIncludes(no.stdout, "would drop: extra 0.1");
    assertStringIncludes(no.stdout, "drop them and switch? [y/N]");
    assertStringIncludes(no.stdout, "error: switch cancelled; nothing was changed");
    assertEquals(await current(sb), 2);
    const yes = await onTerminal("y");
    assertEquals(yes.code, 0, yes.stdout);
    assertEquals(await current(sb), 3);
  },
});
