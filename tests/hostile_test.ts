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
import { assertEquals, assertOk, assertStringIncludes } from "./helpers/testing.ts";
import { fprof, fprofOk } from "./helpers/fprof.ts";
import { writeProfileFlake } from "./helpers/fixtures.ts";
import {
  DAEMON_CLIENT_USER,
  ensureUser,
  makeNixSandbox,
  type NixSandbox,
  type RunResult,
  singleUserUnavailable,
} from "./helpers/sandbox.ts";
import { requestFlake } from "./helpers/fault_scenarios.ts";
import { spawnFprof, totals, totalsLine } from "./helpers/faults.ts";

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

Deno.test("a current generation link deleted by hand: rollback, rollback --to, list --generation and switch still work", async () => {
  await using sb = await makeNixSandbox();
  const p = sb.profile;
  for (const k of [1, 2, 3]) {
    await fprofOk(sb, ["switch", "--profile", p, await requestFlake(sb, k)]);
  }
  const gone = `${p}-3-link`;
  totals.faults++;
  await Deno.remove(gone);
  oneErrorLine(await fprof(sb, ["list", "--profile", p]), "generation 3", "was deleted");
  const listed = await fprofOk(sb, ["list", "--profile", p, "--generation", "2", "--json"]);
  assertEquals(JSON.parse(listed.stdout).generation, 2);
  await fprofOk(sb, ["rollback", "--profile", p]);
  assertEquals(await Deno.readLink(p), `${p.split("/").at(-1)}-2-link`);

  await Deno.remove(`${p}-2-link`);
  await fprofOk(sb, ["rollback", "--profile", p, "--to", "1"]);
  assertEquals(await Deno.readLink(p), `${p.split("/").at(-1)}-1-link`);

  await Deno.remove(`${p}-1-link`);
  const r = await fprofOk(sb, ["switch", "--profile", p, await requestFlake(sb, 4)]);
  assertStringIncludes(r.stderr, "switched");
  const now = await fprofOk(sb, ["list", "--profile", p, "--json"]);
  assertOk(JSON.parse(now.stdout).packages.some((x: { version: string }) => x.version === "1.4"));
});

Deno.test("a stale profile lock is waited on with a message, and the wait can be interrupted", async () => {
  await using sb = await makeNixSandbox();
  const lock = `${sb.profile}.lock`;
  // Content in a lock file is Nix's mark of a lock being deleted; left behind, it is stale.
  await Deno.writeTextFile(lock, "d");
  totals.faults++;
  const child = spawnFprof(sb, ["switch", "--profile", sb.profile, await requestFlake(sb, 1)]);
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("waiting for the lock")) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += value;
  }
  child.kill("SIGINT");
  const status = await child.status;
  await reader.cancel();
  await child.stdout.cancel();
  assertStringIncludes(seen, `waiting for the lock on '${sb.profile}'`);
  assertOk(!status.success, "fprof went on despite the stale lock");
  assertEquals(await Deno.readLink(sb.profile).catch(() => null), null);
});

Deno.test("upgrade --input with a name the flake does not have fails and changes nothing", async () => {
  await using sb = await makeNixSandbox();
  const flake = await requestFlake(sb, 1);
  const dir = flake.slice("path:".length);
  await fprofOk(sb, ["switch", "--profile", sb.profile, flake]);
  await Deno.writeTextFile(
    join(dir, "flake.lock"),
    JSON.stringify({ nodes: { root: {} }, root: "root", version: 7 }),
  );
  const before = await Deno.readTextFile(join(dir, "flake.lock"));
  const r = await fprof(sb, ["upgrade", "--profile", sb.profile, "--input", "nosuch", flake]);
  assertEquals(r.code, 2);
  oneErrorLine(r, "no input 'nosuch'");
  assertEquals(await Deno.readTextFile(join(dir, "flake.lock")), before);
});

Deno.test("a --manifest=none generation whose environment carries a crafted manifest.json is listed from its references, with one warning", async () => {
  await using sb = await makeNixSandbox();
  const crafted = JSON.stringify({
    version: 2,
    elements: [{
      active: true,
      storePaths: ["/etc/passwd"],
      attrPath: "../../../etc",
      url: "path:/x",
      originalUrl: "path:/x",
    }],
  });
  const dir = join(sb.work, "crafted");
  await writeProfileFlake(dir, [
    { name: "hello", version: "2.12", bins: ["hello"] },
    { name: "evil", version: "1.0", files: { "manifest.json": crafted } },
  ], { system: sb.system });
  totals.faults++;
  await fprofOk(sb, ["switch", "--profile", sb.profile, "--manifest=none", `path:${dir}`]);
  const r = await fprofOk(sb, ["list", "--profile", sb.profile, "--json"]);
  const names = JSON.parse(r.stdout).packages.map((p: { name: string }) => p.name).sort();
  assertEquals(names, ["evil", "hello"]);
  assertEquals(r.stderr.split("\n").filter((l) => l.includes("manifest.json")).length, 1);
  assertStringIncludes(r.stderr, "warning:");
  const again = await fprofOk(sb, ["switch", "--profile", sb.profile, await requestFlake(sb, 1)]);
  assertStringIncludes(again.stderr, "switched");
});

Deno.test("a single package given as the environment is refused, and the profile is left alone", async () => {
  await using sb = await makeNixSandbox();
  const flake = await requestFlake(sb, 1);
  await fprofOk(sb, ["switch", "--profile", sb.profile, flake]);
  const before = await Deno.readLink(sb.profile);
  totals.faults++;
  const r = await fprof(sb, [
    "switch",
    "--profile",
    sb.profile,
    `${flake}#packages.${sb.system}.hello`,
  ]);
  assertEquals(r.code, 1);
  oneErrorLine(r, "is a single package, not a profile environment");
  assertEquals(await Deno.readLink(sb.profile), before);
});

Deno.test({
  name:
    "root listing its profile with another user's HOME follows none of the links planted in that user's cache",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    await using sb = await makeNixSandbox();
    await fprofOk(sb, ["switch", "--profile", sb.profile, await requestFlake(sb, 1)]);
    const gen = (await Deno.realPath(sb.profile)).split("/").at(-1)!;
    const user = await ensureUser(DAEMON_CLIENT_USER);
    const home = join(sb.work, "user-home");
    const cache = join(home, ".cache", "fprof", "generations");
    await Deno.mkdir(cache, { recursive: true });
    const secret = join(sb.work, "root-secret");
    await Deno.writeTextFile(secret, "root's own\n", { mode: 0o600 });
    await Deno.chmod(secret, 0o600);
    // The user plants links at every name fprof's cache writes, temporary
    // (named by the pid, which `exec` keeps) and final, and owns them all.
    const script = `for f in "${gen}.json" "${gen}.list.txt"; do
        ln -s "${secret}" "${cache}/$f"; ln -s "${secret}" "${cache}/$f.$$.tmp"
      done
      chown -hR ${user.uid}:${user.gid} "${home}"
      exec "$@"`;
    totals.faults++;
    const env = { HOME: home, XDG_CACHE_HOME: join(home, ".cache") };
    const r = await viaShell(sb, script, ["list", "--profile", sb.profile], env);
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stdout, "hello");
    assertEquals(await Deno.readTextFile(secret), "root's own\n");
    assertEquals((await Deno.stat(secret)).mode! & 0o777, 0o600);
  },
});

Deno.test("a profile path too long to name its records file by is switched, listed and rolled back", async () => {
  await using sb = await makeNixSandbox();
  const dir = join(sb.work, "d".repeat(200));
  await Deno.mkdir(dir);
  const profile = join(dir, "prof");
  totals.faults++;
  await fprofOk(sb, ["switch", "--profile", profile, await requestFlake(sb, 1)]);
  await fprofOk(sb, ["switch", "--profile", profile, await requestFlake(sb, 2)]);
  const listed = await fprofOk(sb, ["list", "--profile", profile, "--json"]);
  assertEquals(JSON.parse(listed.stdout).generation, 2);
  await fprofOk(sb, ["rollback", "--profile", profile]);
  assertEquals(await Deno.readLink(profile), "prof-1-link");
});

Deno.test("upgrade --input with a name a flake without a lock file does not have fails and writes no lock file", async () => {
  await using sb = await makeNixSandbox();
  const flake = await requestFlake(sb, 1);
  const dir = flake.slice("path:".length);
  await fprofOk(sb, ["switch", "--profile", sb.profile, flake]);
  await Deno.remove(join(dir, "flake.lock")).catch(() => {});
  const before = await Deno.readLink(sb.profile);
  totals.faults++;
  const r = await fprof(sb, ["upgrade", "--profile", sb.profile, "--input", "nosuch", flake]);
  assertEquals(r.code, 2, r.stderr);
  oneErrorLine(r, "no input 'nosuch'");
  assertStringIncludes(r.stderr, "hint:");
  assertEquals(await Deno.lstat(join(dir, "flake.lock")).catch(() => null), null);
  assertEquals(await Deno.readLink(sb.profile), before);
});

Deno.test("a bad --override-input value is named in the error, not the flake it was given for", async () => {
  await using sb = await makeNixSandbox();
  const flake = await requestFlake(sb, 1);
  totals.faults++;
  const r = await fprof(sb, [
    "switch",
    "--profile",
    sb.profile,
    "--override-input",
    "nosuch=bogus:///x",
    flake,
  ]);
  assertEquals(r.code, 1, r.stderr);
  const line = oneErrorLine(r, "--override-input nosuch=bogus:///x");
  assertOk(!line.includes(flake), line);
});

Deno.test("a remote --profile with a newline is a usage error before any host is reached", async () => {
  await using sb = await makeNixSandbox();
  totals.faults++;
  const r = await fprof(sb, ["list", "--target-host", "no-such-host", "--profile", "/p\n/etc"]);
  assertEquals(r.code, 2, r.stderr);
  oneErrorLine(r, "--profile", "control character");
  assertStringIncludes(r.stderr, "hint:");
});

Deno.test("a malformed access-tokens line in NIX_CONFIG is reported without its token", async () => {
  await using sb = await makeNixSandbox();
  const flake = await requestFlake(sb, 1);
  totals.faults++;
  const env = { NIX_CONFIG: "access-tokens github.com=ghp_SECRET123" };
  for (const verbose of [[], ["--verbose"]]) {
    const r = await fprof(sb, ["switch", ...verbose, "--profile", sb.profile, flake], { env });
    assertEquals(r.code, 1, r.stderr);
    if (verbose.length === 0) oneErrorLine(r, "access-tokens github.com=<redacted>");
    assertOk(
      !(r.stdout + r.stderr).includes("ghp_SECRET123"),
      `the token was printed:\n${r.stderr}`,
    );
  }
});

Deno.test("a generation another tool sets while fprof switches is recorded as the new one's parent, with a warning", async () => {
  await using sb = await makeNixSandbox();
  const p = sb.profile;
  await fprofOk(sb, ["switch", "--profile", p, await requestFlake(sb, 1)]);
  await fprofOk(sb, ["switch", "--profile", p, await requestFlake(sb, 2)]);
  const flake = await requestFlake(sb, 3);
  const foreign = await Deno.realPath(`${p}-1-link`);
  // nix-env --set takes no profile lock: this one sets generation 3 just
  // before fprof's own `nix-env --set` makes generation 4.
  const bin = join(sb.work, "racing-bin");
  await Deno.mkdir(bin);
  const real = (await sb.runOk(["sh", "-c", "command -v nix-env"])).stdout.trim();
  await Deno.writeTextFile(
    join(bin, "nix-env"),
    `#!/bin/sh\ncase " $* " in *" --set "*) "${real}" --profile "${p}" --set "${foreign}" ;; esac\n` +
      `exec "${real}" "$@"\n`,
    { mode: 0o755 },
  );
  await Deno.chmod(join(bin, "nix-env"), 0o755);
  totals.faults++;
  const r = await fprofOk(sb, ["switch", "--profile", p, flake], {
    env: { PATH: `${bin}:${sb.env.PATH}` },
  });
  assertStringIncludes(r.stderr, "generation 3 of");
  assertStringIncludes(r.stderr, "recorded 3 as the parent of 4");
  const gens = JSON.parse((await fprofOk(sb, ["generations", "--profile", p, "--json"])).stdout)
    .generations as { number: number; parent: number | null }[];
  assertEquals(gens.find((g) => g.number === 4)?.parent, 3);
});

Deno.test("hostile-input suite totals: nothing lost", () => {
  console.error(totalsLine().replace("fault suite", "hostile-input suite"));
  assertEquals(totals.lost, 0);
});
