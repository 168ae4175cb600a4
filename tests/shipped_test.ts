/**
 * fprof run the way the README installs it: the sources under exactly the
 * permissions the binaries and the bundle get (`deno install … $(deno run
 * scripts/build.ts permissions) main.ts`), with `--no-prompt`. Every help
 * text must print there, and a run that lacks a permission must say so in
 * one error line and a hint, not as an internal error.
 */

import { assertEquals, assertOk, assertStringIncludes } from "./helpers/testing.ts";
import { PERMISSION_FLAGS } from "../scripts/build.ts";

const ROOT = new URL("..", import.meta.url).pathname;

async function installed(args: string[], flags: readonly string[] = PERMISSION_FLAGS) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", "--config", `${ROOT}deno.json`, ...flags, `${ROOT}main.ts`, ...args],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

/** The command names `fprof --help` lists. */
function commandsOf(help: string): string[] {
  const section = (help.split("\nCommands:\n")[1] ?? "").split("\n\n")[0];
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]);
}

Deno.test("every --help prints under the declared permissions, and fprof help COMMAND too", async () => {
  const top = await installed(["--help"]);
  assertEquals([top.code, top.stderr], [0, ""], top.stderr);
  assertStringIncludes(top.stdout, "Usage: fprof");
  const commands = commandsOf(top.stdout);
  for (const c of ["switch", "list", "rollback", "pin", "help"]) {
    assertOk(commands.includes(c), `'${c}' missing from:\n${top.stdout}`);
  }
  for (const c of commands.filter((c) => c !== "help")) {
    const r = await installed([c, "--help"]);
    assertEquals([r.code, r.stderr], [0, ""], `${c} --help:\n${r.stderr}`);
    assertStringIncludes(r.stdout, `Usage: fprof ${c}`);
    const viaHelp = await installed(["help", c]);
    assertEquals(viaHelp.stdout, r.stdout, `fprof help ${c}`);
  }
});

Deno.test("a usage error points at a --help that works under the declared permissions", async () => {
  const r = await installed(["swich"]);
  assertEquals(r.code, 2, r.stderr);
  assertStringIncludes(r.stderr, "Try 'fprof --help'.");
  assertOk(!r.stderr.includes("internal error"), r.stderr);
  const help = await installed(["--", "--help"]);
  assertEquals([help.code, help.stderr], [0, ""], "a leading -- (deno task fprof -- --help)");
});

Deno.test("a missing permission is one error line naming it, and a hint", async () => {
  const r = await installed(["list"], ["--no-prompt"]);
  assertEquals(r.code, 1, r.stderr);
  assertEquals(r.stdout, "");
  const lines = r.stderr.trimEnd().split("\n");
  assertEquals(lines.length, 2, r.stderr);
  assertOk(lines[0].startsWith("error: fprof lacks a permission: Requires env access"), r.stderr);
  assertOk(lines[1].startsWith("hint: ") && lines[1].includes("permissions"), r.stderr);
});

Deno.test("the README's bundle line and permission list are the declared permissions", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  assertStringIncludes(readme, `deno run ${PERMISSION_FLAGS.join(" ")} fprof.js`);
  for (const flag of PERMISSION_FLAGS.filter((f) => f.includes("="))) {
    assertStringIncludes(readme, `- \`${flag}\``);
  }
});
