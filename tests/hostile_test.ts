/**
 * fprof used as a hostile user would use it, or on a machine in a bad way:
 * operating-system errors (a closed pipe, a full disk, no HOME, a file where
 * a directory belongs, a Nix that cannot be started) each give one `error:`
 * line and no stack trace, or a quiet exit for a closed pipe; and a profile
 * left in an odd state by hand still works as `nix-env` would. The switch
 * under a busy garbage collector, and pin's private files, are in
 * tests/faults_test.ts and tests/pin_test.ts.
 *
 * @module
 */

import { join } from "node:path";
import { assertEquals, assertOk, assertStringIncludes } from "../lib/testing.ts";
import { fprof, fprofOk } from "./helpers/fprof.ts";
import {
  makeNixSandbox,
  type NixSandbox,
  type RunResult,
  singleUserUnavailable,
} from "./helpers/sandbox.ts";
import { requestFlake } from "./helpers/fault_scenarios.ts";
import { totals } from "./helpers/faults.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Exactly one `error:` line, no stack trace and no "internal error". */
function oneErrorLine(r: RunResult, ...parts: string[]): string {
  totals.scenarios++;
  const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
  assertEquals(errors.length, 1, `expected one error line:\n${r.stderr}`);
  assertOk(!/internal error|^\s+at /m.test(r.stderr), `a stack trace escaped:\n${r.stderr}`);
  for (const p of parts) assertStringIncludes(errors[0], p);
  return errors[0];
}

/** Runs fprof through bash, so that a test can use pipes and redirections. */
function viaShell(
  sb: NixSandbox,
  script: string,
  args: string[],
  env: Record<string, string> = {},
) {
  return sb.run([
    "bash",
    "-c",
    script,
    "_",
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    MAIN,
    ...args,
  ], { env: { NO_COLOR: "1", ...env } });
}

Deno.test("a closed stdout is a quiet exit, as for any tool in a pipe", async () => {
  await using sb = await makeNixSandbox();
  await fprofOk(sb, ["switch", "--profile", sb.profile, await requestFlake(sb, 1)]);
  for (const args of [["completions", "bash"], ["list", "--profile", sb.profile]]) {
    // `true` exits without reading: fprof's first write finds the pipe closed.
    const r = await viaShell(sb, `"$@" | true; echo "status \${PIPESTATUS[0]}"`, args);
    totals.scenarios++;
    totals.faults++;
    assertEquals(r.stderr, "", `fprof ${args.join(" ")} complained about the closed pipe`);
    assertOk(/^status (0|141)$/m.test(r.stdout), r.stdout);
  }
});

Deno.test("a full disk, no HOME, a file given to init and a Nix that cannot start are one error line each", async () => {
  await using sb = await makeNixSandbox();
  totals.faults += 4;
  const full = await viaShell(sb, `"$@" > /dev/full`, ["completions", "bash"]);
  assertEquals(full.code, 1);
  oneErrorLine(full, "cannot write the output", "no space left on device");

  const noHome = await viaShell(sb, `unset HOME; "$@"`, ["list"]);
  assertEquals(noHome.code, 1);
  oneErrorLine(noHome, "HOME is not set");

  const file = join(sb.work, "a-file");
  await Deno.writeTextFile(file, "x\n");
  const init = await fprof(sb, ["init", file]);
  assertEquals(init.code, 1);
  oneErrorLine(init, `'${file}' is a file, not a directory`);
  assertEquals(await Deno.readTextFile(file), "x\n");

  // A `nix` that is not executable, alone on PATH, is not "Nix is not installed".
  const bin = join(sb.work, "bin");
  await Deno.mkdir(bin);
  await Deno.writeTextFile(join(bin, "nix"), "#!/bin/sh\n", { mode: 0o644 });
  await Deno.chmod(join(bin, "nix"), 0o644);
  const flake = await requestFlake(sb, 1);
  const spawn = await fprof(sb, ["switch", "--profile", sb.profile, flake], { env: { PATH: bin } });
  assertEquals(spawn.code, 1);
  const line = oneErrorLine(spawn, "cannot run 'nix'", `'${join(bin, "nix")}' is not executable`);
  assertOk(!line.includes("not installed"), line);

  // --verbose still shows where it came from.
  const verbose = await fprof(sb, ["switch", "--verbose", "--profile", sb.profile, flake], {
    env: { PATH: bin },
  });
  assertStringIncludes(verbose.stderr, "at ");
});

Deno.test({
  name: "a Nix that cannot start in an unreadable working directory names the directory",
  ignore: singleUserUnavailable() !== undefined,
  fn: async () => {
    await using sb = await makeNixSandbox({ singleUser: true });
    const flake = await requestFlake(sb, 1);
    const dir = join(sb.work, "unreadable");
    await Deno.mkdir(dir);
    await sb.handOver(sb.work);
    await Deno.chmod(dir, 0);
    const r = await fprof(sb, ["switch", "--profile", sb.profile, flake], { cwd: dir });
    totals.faults++;
    assertEquals(r.code, 1);
    const line = oneErrorLine(r, "cannot run 'nix'", "permission denied");
    assertStringIncludes(line, `the working directory '${dir}' cannot be read`);
  },
});
