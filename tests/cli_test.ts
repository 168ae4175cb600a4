/**
 * CLI tests: help, usage errors and exit codes, run as a user would run
 * fprof, with no Nix store involved.
 */

import { assertEquals, assertOk, assertStringIncludes } from "./helpers/testing.ts";
import { commandsToDeclare, normalizeArgv } from "../main.ts";
import { IDLE_OPTIONS } from "../lib/term/idle_options.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

async function fprof(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, ...args],
    env: { NO_COLOR: "1", ...env },
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("fprof --help lists every command with examples", async () => {
  const r = await fprof(["--help"]);
  assertEquals(r.code, 0);
  for (const cmd of ["switch", "list", "rollback", "generations"]) {
    assertStringIncludes(r.stdout, cmd);
  }
  assertStringIncludes(r.stdout, "Examples:");
});

for (const cmd of ["switch", "list", "rollback", "generations"]) {
  Deno.test(`fprof ${cmd} --help shows --profile, --verbose and examples`, async () => {
    const r = await fprof([cmd, "--help"]);
    assertEquals(r.code, 0);
    assertStringIncludes(r.stdout, `Usage: fprof ${cmd}`);
    assertStringIncludes(r.stdout, "--profile <path>");
    assertStringIncludes(r.stdout, "--verbose");
    assertStringIncludes(r.stdout, "Examples:");
  });
}

Deno.test("usage errors exit 2 with one error line, then where to find help", async () => {
  const cases: [string[], string, string][] = [
    [["bogus"], "error: unknown command 'bogus'", "fprof --help"],
    [["lst"], "error: unknown command 'lst'; did you mean 'list'?", "fprof --help"],
    [["gen"], "error: unknown command 'gen'; did you mean 'generations'?", "fprof --help"],
    [["list", "--generation", "x"], "expected a generation number", "fprof list --help"],
    [
      ["switch", "--manifest=xml"],
      "Allowed choices are auto, nix, json, none",
      "fprof switch --help",
    ],
    [["rollback", "--nope"], "error: unknown option '--nope'", "fprof rollback --help"],
    [["diff", "1", "2", "3"], "error: too many arguments for 'diff'", "fprof diff --help"],
    [["switch", "--json", "."], "error: --json needs --dry-run", "fprof switch --help"],
    // A group names several hosts: only switch takes one.
    [["list", "--target-host", "@lab"], "expected [USER@]HOST.", "fprof list --help"],
    [["switch", "--build-host", "@lab"], "expected [USER@]HOST.", "fprof switch --help"],
    [["switch", "--target-host", "-oX"], "expected [USER@]HOST or @GROUP.", "fprof switch --help"],
  ];
  for (const [args, message, help] of cases) {
    const r = await fprof(args);
    assertEquals(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    const lines = r.stderr.trimEnd().split("\n").filter((l) => !l.startsWith("hint:"));
    assertEquals(lines.length, 2, r.stderr);
    assertStringIncludes(lines[0], message);
    assertEquals(lines[1], `Try '${help}'.`);
    assertEquals(r.stdout, "");
  }
});

Deno.test("fprof alone prints a short usage and exits 2", async () => {
  const r = await fprof([]);
  assertEquals(r.code, 2);
  assertStringIncludes(r.stderr, "Usage: fprof [--profile <path>] [-v] <command> [options]");
  assertStringIncludes(r.stderr, "Commands: switch, list, init, rollback, generations");
  assertOk(r.stderr.split("\n").length < 8, r.stderr);
});

Deno.test("--profile and -v work before the command as after it", async () => {
  const home = await Deno.makeTempDir();
  try {
    const profile = `${home}/no-such-profile`;
    for (
      const args of [["--profile", profile, "-v", "list"], ["list", "--profile", profile, "-v"]]
    ) {
      const r = await fprof(args, { HOME: home });
      assertEquals(r.code, 0, r.stderr);
      assertStringIncludes(r.stderr, `profile '${profile}' has no generations yet`);
    }
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("fprof --version prints fprof's version and the Nix it finds", async () => {
  const r = await fprof(["--version"]);
  assertEquals(r.code, 0);
  assertOk(/^fprof \d+\.\d+\.\d+\n/.test(r.stdout), r.stdout);
  assertStringIncludes(r.stdout, "manifest.json versions 1–");
});

Deno.test("a missing Nix gives one error line and exit 1, no stack trace", async () => {
  const home = await Deno.makeTempDir();
  try {
    const r = await fprof(["list"], { PATH: "/nonexistent", HOME: home });
    assertEquals(r.code, 1);
    assertStringIncludes(r.stderr, "error: cannot run 'nix': Nix is not installed or not on PATH");
    assertOk(!r.stderr.includes("    at "), r.stderr);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("a malformed config file is reported with its line and column", async () => {
  const home = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${home}/fprof`);
    await Deno.writeTextFile(
      `${home}/fprof/config.jsonc`,
      '{\n  // mine\n  "flake": ".",\n  "profile" 1\n}\n',
    );
    const r = await fprof(["list"], { XDG_CONFIG_HOME: home, HOME: home });
    assertEquals(r.code, 1);
    assertStringIncludes(r.stderr, "line 4, column 13");
    const lines = r.stderr.trim().split("\n");
    assertEquals(lines.length, 2, r.stderr);
    assertOk(lines[0].startsWith("error: ") && lines[1].startsWith("hint: "), r.stderr);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("normalizeArgv() turns a bare --manifest into --manifest=auto", () => {
  assertEquals(normalizeArgv(["switch", "--manifest", "."]), ["switch", "--manifest=auto", "."]);
  assertEquals(normalizeArgv(["switch", "--manifest"]), ["switch", "--manifest=auto"]);
  assertEquals(normalizeArgv(["switch", "--manifest", "json", "."]), [
    "switch",
    "--manifest",
    "json",
    ".",
  ]);
});

Deno.test("normalizeArgv() reads Nix's two-word --override-input NAME REF", () => {
  assertEquals(normalizeArgv(["switch", "--override-input", "nixpkgs", "path:/p", "."]), [
    "switch",
    "--override-input=nixpkgs=path:/p",
    ".",
  ]);
  assertEquals(normalizeArgv(["switch", "--override-input", "nixpkgs=path:/p"]), [
    "switch",
    "--override-input",
    "nixpkgs=path:/p",
  ]);
  assertEquals(normalizeArgv(["list", "--", "--manifest"]), ["list", "--", "--manifest"]);
  // Not an input's name: left for the option to refuse, so the flake stays the flake.
  assertEquals(normalizeArgv(["switch", "--override-input", "nixpkgs:/p", "/flake"]), [
    "switch",
    "--override-input",
    "nixpkgs:/p",
    "/flake",
  ]);
});

const ALL = ["switch", "list", "completions", "__complete"];

Deno.test("commandsToDeclare() declares only the command argv runs", () => {
  assertEquals(commandsToDeclare(["list", "--json"], ALL), ["list"]);
  assertEquals(commandsToDeclare(["--profile", "list", "switch"], ALL), ["switch"]);
  assertEquals(commandsToDeclare(["--profile=/p", "-v", "--verbose", "list"], ALL), ["list"]);
  assertEquals(commandsToDeclare(["__complete", "generations"], ALL), ["__complete"]);
});

Deno.test("commandsToDeclare() declares every command when argv names none", () => {
  for (
    const argv of [
      [],
      ["--help"],
      ["-V"],
      ["help", "list"],
      ["lsit"],
      ["--profile"],
      ["--bogus", "list"],
      ["-vV", "list"],
      ["completions", "bash"],
    ]
  ) {
    assertEquals(commandsToDeclare(argv, ALL), ALL, argv.join(" "));
  }
});

Deno.test("each command's help is the same declared alone as among all commands", async () => {
  const all = (await fprof(["--help"])).stdout;
  const commands = all.slice(all.indexOf("Commands:"), all.indexOf("Examples:"));
  // `help` is commander's own, and declared with the program.
  const names = [...commands.matchAll(/^ {2}([a-z]+) /gm)].map((m) => m[1])
    .filter((n) => n !== "help");
  assertOk(names.includes("list") && names.includes("upgrade"), all);
  for (const name of names) {
    // `-vv` is `-v` twice to commander, but not a form commandsToDeclare()
    // reads, so it declares every command.
    assertEquals(commandsToDeclare(["-vv", name], names), names);
    const [among, alone] = await Promise.all([
      fprof(["-vv", name, "--help"]),
      fprof([name, "--help"]),
    ]);
    assertEquals(alone.code, 0, name);
    assertStringIncludes(alone.stdout, `Usage: fprof ${name}`);
    assertEquals(alone.stdout, among.stdout, name);
  }
});

Deno.test("a command declared alone still refuses what it refused among all", async () => {
  const r = await fprof(["--profile", "/nonexistent", "list", "--bogus"]);
  assertEquals(r.code, 2);
  assertStringIncludes(r.stderr, "unknown option '--bogus'");
  assertStringIncludes(r.stderr, "Try 'fprof list --help'.");
});

Deno.test("normalizeArgv() drops a -- before everything, and keeps one after a command", () => {
  assertEquals(normalizeArgv(["--", "--help"]), ["--help"]);
  assertEquals(normalizeArgv(["switch", "--", "--x"]), ["switch", "--", "--x"]);
});

Deno.test("pin --help says that --status exits 1 on a stale pin", async () => {
  const r = await fprof(["pin", "--help"]);
  assertEquals(r.code, 0);
  assertStringIncludes(r.stdout.replace(/\s+/g, " "), "whether it is stale (then exit 1)");
});

/** What the table's test types for a flag, with a value where it takes one. */
const TYPED: Record<string, string[]> = {
  "--sign-key": ["--sign-key", "key"],
  "--jobs": ["--jobs", "2"],
  "--timeout": ["--timeout", "3"],
  "--diff": ["--diff", "always"],
  "--input": ["--input", "nixpkgs"],
  "--profile": ["--profile", "/nonexistent/profile"],
  "[flake]": ["."],
  "--delete": ["--delete", "1"],
  "--older-than": ["--older-than", "30d"],
  "--keep": ["--keep", "1"],
};
const typed = (flag: string) => TYPED[flag] ?? [flag];
/** The arguments a command cannot run without. */
const ARGUMENTS: Record<string, string[]> = { add: ["hello"], remove: ["hello"] };

Deno.test("an option a command would not act on, with what else is typed, is a usage error with a hint", async () => {
  for (const rule of IDLE_OPTIONS) {
    // Alone when it needs another option; else next to each it is idle with.
    const others = rule.needs ? [[]] : rule.idleWith!.map(typed);
    for (const other of others) {
      const args = [
        rule.command,
        ...(ARGUMENTS[rule.command] ?? []),
        ...typed(rule.option),
        ...other,
      ];
      const r = await fprof(args);
      assertEquals(r.code, 2, `fprof ${args.join(" ")}: ${r.stderr}`);
      const lines = r.stderr.split("\n");
      assertOk(lines[0].startsWith("error: ") && lines[0].includes(rule.option), r.stderr);
      assertEquals(lines[1], `hint: ${rule.hint}`);
    }
  }
  // The program's own --profile counts as typed for the command.
  const before = await fprof(["--profile", "/nonexistent/profile", "init"]);
  assertEquals([before.code, before.stderr.split("\n")[0]], [
    2,
    "error: --profile needs --from-current",
  ]);
});

Deno.test("switch to a store path refuses the options that act on a flake", async () => {
  const path = `/nix/store/${"a".repeat(32)}-env`;
  for (const flag of [["--override-input", "nixpkgs=path:/src/nixpkgs"], ["--pin"]]) {
    const r = await fprof(["switch", path, ...flag]);
    assertEquals(r.code, 2, r.stderr);
    assertStringIncludes(
      r.stderr,
      `error: ${flag[0]} needs a flake, and '${path}' is a store path`,
    );
    assertStringIncludes(r.stderr, "hint: ");
  }
});
