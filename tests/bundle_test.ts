/**
 * The distributable bundle: `deno bundle` output run with
 * `--no-remote --no-npm` and an empty Deno cache, which proves the module
 * graph is complete, and with only the permissions the compiled binaries get
 * (scripts/build.ts), which proves they suffice: a missing one fails instead
 * of prompting, because of `--no-prompt`.
 */

import { join } from "node:path";
import { assertEquals, assertOk, assertStringIncludes } from "./helpers/testing.ts";
import { PERMISSION_FLAGS, writeBundle } from "../scripts/build.ts";
import { writeProfileFlake } from "./helpers/fixtures.ts";
import { makeNixSandbox, type NixSandbox } from "./helpers/sandbox.ts";

async function bundle(dir: string): Promise<string> {
  const out = join(dir, "fprof.js");
  await writeBundle(out);
  return out;
}

function runBundle(sb: NixSandbox, js: string, args: string[]) {
  return sb.run(
    [
      Deno.execPath(),
      "run",
      "--quiet",
      "--no-remote",
      "--no-npm",
      ...PERMISSION_FLAGS,
      js,
      ...args,
    ],
    { env: { NO_COLOR: "1", DENO_DIR: join(sb.root, "empty-deno-dir") } },
  );
}

Deno.test("the bundle runs --version, switch and list offline with only its declared permissions", async () => {
  await using sb = await makeNixSandbox();
  const js = await bundle(sb.root);

  const version = await runBundle(sb, js, ["--version"]);
  assertEquals(version.code, 0, version.stderr);
  assertOk(/^fprof \d+\.\d+\.\d+\n/.test(version.stdout), version.stdout);
  assertStringIncludes(version.stdout, "nix (Nix) ");

  const dir = join(sb.work, "profile");
  await writeProfileFlake(dir, [{ name: "hello", version: "2.12.1", bins: ["hello"] }], {
    system: sb.system,
  });
  const sw = await runBundle(sb, js, ["switch", `path:${dir}`]);
  assertEquals(sw.code, 0, sw.stderr);
  assertStringIncludes(sw.stderr, "switched");
  assertOk(!sw.stderr.includes("PermissionDenied") && !sw.stderr.includes("permission"));

  const list = await runBundle(sb, js, ["list", "--json"]);
  assertEquals(list.code, 0, list.stderr);
  const doc = JSON.parse(list.stdout);
  assertEquals(doc.generation, 1);
  assertEquals(doc.packages.map((p: { name: string }) => p.name), ["hello"]);

  const gens = await runBundle(sb, js, ["generations", "--json"]);
  assertEquals(gens.code, 0, gens.stderr);
  assertEquals(JSON.parse(gens.stdout).current, 1);
});

Deno.test("the bundle loads no node: module, and commander prints what it prints from the sources", async () => {
  await using sb = await makeNixSandbox();
  const js = await bundle(sb.root);
  const text = await Deno.readTextFile(js);
  assertEquals([...text.matchAll(/(?:from|import)\s*\(?\s*"(node:[\w/]+)"/g)].map((m) => m[1]), []);

  const main = new URL("../main.ts", import.meta.url).pathname;
  for (
    const args of [
      ["--help"],
      ["list", "--help"],
      ["generations", "--bogus"],
      ["frobnicate"],
      ["list", "--generation", "x"],
      ["completions", "tcsh"],
    ]
  ) {
    const fromBundle = await runBundle(sb, js, args);
    const fromSources = await sb.run([Deno.execPath(), "run", "-A", "--quiet", main, ...args], {
      env: { NO_COLOR: "1" },
    });
    assertEquals(
      [fromBundle.code, fromBundle.stdout, fromBundle.stderr],
      [fromSources.code, fromSources.stdout, fromSources.stderr],
      args.join(" "),
    );
  }
});
