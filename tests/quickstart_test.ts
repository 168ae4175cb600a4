/**
 * The README's first five minutes, run as written: the "Quick start" block and
 * "An example session", command for command through bash, on an isolated
 * store with no network. `fprof` on PATH runs this checkout; `$EDITOR` is a
 * script that makes the edits the README's comments describe, and points the
 * flake's nixpkgs at the test's package set (the one thing a test machine
 * cannot reach). The session's output must match the README's, so the two
 * cannot drift apart.
 */

import { join } from "node:path";
import { assertEquals, assertOk } from "./helpers/testing.ts";
import { machineName } from "../lib/nix/installable.ts";
import { type FixturePackage, writePackageSet } from "./helpers/fixtures.ts";
import { makeNixSandbox, type NixSandbox, type RunResult } from "./helpers/sandbox.ts";

const ROOT = new URL("..", import.meta.url).pathname;

// What the template declares, in the versions the README shows.
const PKGS: FixturePackage[] = [
  { name: "hello", version: "2.12.1", bins: ["hello"], description: "Prints a greeting" },
  { name: "jq", version: "1.7.1", bins: ["jq"] },
  { name: "ripgrep", version: "14.1.0", bins: ["rg"] },
  { name: "xterm", version: "390", bins: ["xterm"] },
];

/** The body of the README block that follows `heading` and starts with ```` ```lang ````. */
export function readmeBlock(readme: string, heading: string, lang: string): string {
  const at = readme.indexOf(`\n${heading}\n`);
  assertOk(at >= 0, `README.md has no '${heading}'`);
  const open = readme.indexOf("```" + lang + "\n", at);
  const close = readme.indexOf("\n```\n", open);
  return readme.slice(open + lang.length + 4, close + 1);
}

/** A console block as commands, each with the lines the README shows after it. */
export function parseSession(block: string): { command: string; output: string[] }[] {
  const steps: { command: string; output: string[] }[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("$ ")) steps.push({ command: line.slice(2), output: [] });
    else if (line !== "") steps.at(-1)?.output.push(line);
  }
  return steps;
}

/**
 * A sandbox whose PATH has `fprof` (this checkout) and whose `$EDITOR` makes
 * the README's edits: the first points nixpkgs at the test's package set, the
 * next one adds ripgrep to the shared list.
 */
async function quickStartSandbox(): Promise<
  { sb: NixSandbox; run: (script: string, cwd: string) => Promise<RunResult> }
> {
  const sb = await makeNixSandbox();
  const pkgs = join(sb.work, "pkgs");
  await writePackageSet(pkgs, PKGS, { system: sb.system });
  const bin = join(sb.work, "bin");
  await Deno.mkdir(bin);
  await Deno.writeTextFile(
    join(bin, "fprof"),
    `#!/bin/sh\nexec '${Deno.execPath()}' run -A --quiet '${ROOT}main.ts' "$@"\n`,
  );
  await Deno.writeTextFile(
    join(bin, "editor"),
    `#!/bin/sh
set -e
if grep -q 'nixpkgs.url = "path:' "$1"; then
  sed -i 's/shared = { inherit (pkgs) hello jq; };/shared = { inherit (pkgs) hello jq ripgrep; };/' "$1"
else
  sed -i 's|nixpkgs.url = "[^"]*"|nixpkgs.url = "path:${pkgs}"|' "$1"
fi
`,
  );
  await Deno.chmod(join(bin, "fprof"), 0o755);
  await Deno.chmod(join(bin, "editor"), 0o755);
  // The profile on PATH, as Nix's installers put it there: otherwise every
  // switch warns that it is not.
  const profileBin = join(sb.home, ".nix-profile", "bin");
  const env = { PATH: `${bin}:${profileBin}:${sb.env.PATH}`, EDITOR: "editor", NO_COLOR: "1" };
  return {
    sb,
    run: (script, cwd) => sb.run(["bash", "-e", "-c", script], { cwd, env }),
  };
}

/** The sandbox's own paths written as the README writes them (for alice on x86_64-linux). */
function asInReadme(sb: NixSandbox, text: string): string {
  return text.replaceAll(sb.defaultProfile, "/home/alice/.local/state/nix/profiles/profile")
    .replaceAll(sb.home, "/home/alice")
    .replaceAll(sb.system, "x86_64-linux")
    .replace(/\d{4}-\d\d-\d\d \d\d:\d\d/g, "2026-06-01 09:12");
}

// The template builds the machine's own profile on hosts called laptop or
// desktop, and the README shows what every other machine gets.
const host = machineName(Deno.hostname());
const ignore = host === "laptop" || host === "desktop";

for (const where of ["elsewhere", "sp ace é"]) {
  Deno.test({
    name: `the README's Quick start runs as written from a directory '${where}'`,
    ignore,
    async fn() {
      const { sb, run } = await quickStartSandbox();
      await using _ = sb;
      const cwd = join(sb.work, where);
      await Deno.mkdir(cwd);
      const readme = await Deno.readTextFile(join(ROOT, "README.md"));
      const r = await run(readmeBlock(readme, "## Quick start", "sh"), cwd);
      assertEquals(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assertOk(!/^error:/m.test(r.stderr), r.stderr);
      // ~/.nix-profile/bin is on PATH, even before the switch makes the link.
      assertOk(!/^warning: .*(on PATH|is provided by)/m.test(r.stderr), r.stderr);
    },
  });
}

Deno.test({
  name: "the README's example session prints what the README shows",
  ignore,
  async fn() {
    const { sb, run } = await quickStartSandbox();
    await using _ = sb;
    const cwd = join(sb.work, "sp ace é");
    await Deno.mkdir(cwd);
    const readme = await Deno.readTextFile(join(ROOT, "README.md"));
    for (const step of parseSession(readmeBlock(readme, "## An example session", "console"))) {
      const r = await run(`${step.command} 2>&1`, cwd);
      assertEquals(r.code, 0, `${step.command}\n${r.stdout}`);
      const lines = asInReadme(sb, r.stdout).split("\n");
      // Every line the README shows, in its order; Nix's own build lines may
      // come between them.
      let at = 0;
      for (const want of step.output) {
        const found = lines.indexOf(want, at);
        assertOk(found >= 0, `'${step.command}' did not print\n${want}\ngot:\n${lines.join("\n")}`);
        at = found + 1;
      }
      // And the README leaves out none of fprof's own lines.
      for (const line of lines.filter((l) => /^(fprof|warning|hint):/.test(l))) {
        assertOk(step.output.includes(line), `README.md lacks, after '${step.command}':\n${line}`);
      }
    }
  },
});

Deno.test("a flake in a directory named 'sp ace é' switches as '.', and again with no changes", async () => {
  const { sb, run } = await quickStartSandbox();
  await using _ = sb;
  const dir = join(sb.work, "sp ace é");
  await Deno.mkdir(dir);
  const r = await run(
    "fprof init . && $EDITOR flake.nix && fprof switch && fprof list --json",
    dir,
  );
  assertEquals(r.code, 0, r.stderr);
  assertOk(r.stderr.includes("fprof: building . (the flake in the current directory)"), r.stderr);
  assertEquals(JSON.parse(r.stdout).packages.map((p: { name: string }) => p.name), [
    "hello",
    "jq",
  ]);
  const gens = JSON.parse((await run("fprof generations --json", sb.work)).stdout);
  assertOk(
    gens.generations[0].source.lockedUrl.startsWith(`path:${sb.work}/sp%20ace%20%C3%A9?`),
    gens.generations[0].source.lockedUrl,
  );
  const again = await run("fprof switch", dir);
  assertEquals(again.code, 0, again.stderr);
  assertOk(
    again.stderr.includes("no changes: generation 1 already has this content"),
    again.stderr,
  );
});
