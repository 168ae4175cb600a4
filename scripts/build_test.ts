import { assertEquals, assertOk } from "../tests/helpers/testing.ts";
import {
  bundleArgv,
  compileArgv,
  ENV_VARS,
  NIX_PROGRAMS,
  PERMISSION_FLAGS,
  SYS_APIS,
  TARGETS,
  useNodeLite,
} from "./build.ts";
import { assertThrows } from "../tests/helpers/testing.ts";

const ROOT = new URL("..", import.meta.url).pathname;

async function sources(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory && e.name !== "testdata") out.push(...await sources(p));
    else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) out.push(p);
  }
  return out;
}

Deno.test("ENV_VARS covers every variable fprof's code reads", async () => {
  const files = [
    `${ROOT}main.ts`,
    ...await sources(`${ROOT}lib`),
    ...await sources(`${ROOT}manifest`),
  ];
  const read = new Set<string>();
  for (const f of files) {
    const text = await Deno.readTextFile(f);
    for (const m of text.matchAll(/\.get\("([A-Z][A-Z0-9_]*)"\)|"(XDG_[A-Z_]+)"/g)) {
      read.add(m[1] ?? m[2]);
    }
  }
  const missing = [...read].filter((v) => !ENV_VARS.includes(v));
  assertEquals(missing, [], "add these to ENV_VARS in scripts/build.ts");
});

Deno.test("SYS_APIS covers the system information fprof's code asks for", async () => {
  const files = [`${ROOT}main.ts`, ...await sources(`${ROOT}lib`)];
  const text = (await Promise.all(files.map((f) => Deno.readTextFile(f)))).join("\n");
  const used = ["uid", "gid", "hostname", "osRelease", "loadavg", "networkInterfaces"]
    .filter((api) => new RegExp(`\\b${api}\\(`).test(text));
  assertEquals(used.filter((api) => !SYS_APIS.includes(api)), [], "add these to SYS_APIS");
});

Deno.test("NIX_PROGRAMS covers every program lib/nix/nix.ts starts", async () => {
  const text = await Deno.readTextFile(`${ROOT}lib/nix/nix.ts`);
  const started = new Set<string>(["nix"]);
  for (const m of text.matchAll(/\[\s*"(nix-[a-z-]+)"/g)) started.add(m[1]);
  for (const p of started) assertOk(NIX_PROGRAMS.includes(p), `${p} is not in NIX_PROGRAMS`);
});

Deno.test("compileArgv() passes the permissions and the target", () => {
  const argv = compileArgv("aarch64-darwin", "dist/fprof-aarch64-darwin");
  assertEquals(argv.slice(0, 1 + PERMISSION_FLAGS.length), ["compile", ...PERMISSION_FLAGS]);
  assertOk(argv.includes(TARGETS["aarch64-darwin"]));
  assertOk(!argv.includes("--allow-all") && !argv.some((a) => a.startsWith("--allow-net")));
});

Deno.test("useNodeLite() points node: imports at lib/node_lite and refuses others", () => {
  const js = [
    'import { EventEmitter } from "node:events";',
    'import process from "node:process";',
    'import { join as join2 } from "node:path";',
    'const util = await import("node:util");',
    'const text = "from node:fs";',
  ].join("\n");
  assertEquals(
    useNodeLite(js, "file:///p/lib/node_lite/"),
    [
      'import { EventEmitter } from "file:///p/lib/node_lite/events.ts";',
      'import process from "file:///p/lib/node_lite/process.ts";',
      'import { join as join2 } from "file:///p/lib/node_lite/path.ts";',
      'const util = await import("file:///p/lib/node_lite/util.ts");',
      'const text = "from node:fs";',
    ].join("\n"),
  );
  assertThrows(
    () => useNodeLite('import { createHash } from "node:crypto";', "file:///p/"),
    Error,
    "'node:crypto', which lib/node_lite/ does not provide",
  );
});

Deno.test("bundleArgv() minifies only when asked, and keeps names for stack traces", () => {
  assertEquals(bundleArgv("out.js", "main.ts"), [
    "bundle",
    "--quiet",
    "--platform=deno",
    "-o",
    "out.js",
    "main.ts",
  ]);
  const minified = bundleArgv("out.js", "main.ts", { minify: true });
  assertOk(minified.includes("--minify") && minified.includes("--keep-names"));
});
