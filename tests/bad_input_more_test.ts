/**
 * More malformed input, beyond tests/bad_input_test.ts: flake references and
 * attributes Nix cannot parse, config files cut short or not UTF-8,
 * manifests of every version that are damaged, links in the profile
 * directory that lead nowhere, and a state directory fprof may not write.
 * Each must give one `error:` line, a non-zero exit, no stack trace and no
 * change on disk.
 *
 * @module
 */

import { join } from "node:path";
import { assertEquals, assertOk } from "./helpers/testing.ts";
import { writeProfileFlake } from "./helpers/fixtures.ts";
import { fprof, fprofOk, snapshot } from "./helpers/fprof.ts";
import { daemonUnavailable, makeNixSandbox, type NixSandbox } from "./helpers/sandbox.ts";

interface Case {
  name: string;
  args: (sb: NixSandbox, good: string) => string[];
  /** Puts the bad input in place; returns how to take it away. */
  arrange?: (sb: NixSandbox) => Promise<() => Promise<void>>;
  code?: 1 | 2;
  /** Parts the `error:` line must contain. */
  error?: string[];
}

const bytes = (...b: number[]) => new Uint8Array(b);
const NOT_UTF8 = bytes(0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0xc3, 0x28, 0x7d); // {"\xff\xfe":\xc3(}

function config(text: string | Uint8Array) {
  return async (sb: NixSandbox) => {
    const dir = join(sb.xdgConfig, "fprof");
    await Deno.mkdir(dir, { recursive: true });
    const file = join(dir, "config.jsonc");
    if (typeof text === "string") await Deno.writeTextFile(file, text);
    else await Deno.writeFile(file, text);
    return () => Deno.remove(file);
  };
}

/** A profile beside the main one whose only generation holds `files`. */
function generation(name: string, files: Record<string, string | Uint8Array>) {
  return async (sb: NixSandbox) => {
    const dir = join(sb.work, "generations", name);
    await Deno.mkdir(dir, { recursive: true });
    for (const [f, text] of Object.entries(files)) {
      if (typeof text === "string") await Deno.writeTextFile(join(dir, f), text);
      else await Deno.writeFile(join(dir, f), text);
    }
    const path = (await sb.runOk(["nix-store", "--add", dir])).stdout.trim();
    await sb.runOk(["nix-env", "--profile", other(sb, name), "--set", path]);
    return async () => {};
  };
}

function other(sb: NixSandbox, name: string): string {
  return join(sb.profile, "..", name);
}

const CASES: Case[] = [
  {
    name: "a flake reference Nix cannot parse",
    args: (sb) => ["switch", "--profile", sb.profile, "git+ssh://[not a host"],
  },
  {
    name: "an attribute path with an unclosed quote",
    args: (sb, good) => ["switch", "--profile", sb.profile, `${good}#"packages`],
  },
  {
    name: "an attribute that is not a derivation",
    args: (sb, good) => ["switch", "--profile", sb.profile, `${good}#packages`],
  },
  {
    name: "a config file cut short",
    args: (sb) => ["list", "--profile", sb.profile],
    arrange: config('{ "flake": "pa'),
    error: ["config.jsonc"],
  },
  {
    name: "a config file that is not UTF-8",
    args: (sb) => ["switch", "--profile", sb.profile],
    arrange: config(NOT_UTF8),
  },
  {
    name: "a config setting of the wrong type",
    args: (sb) => ["list", "--profile", sb.profile],
    arrange: config('{ "manifest": 3 }'),
    error: ["config.jsonc", "manifest"],
  },
  {
    name: "a config file nested 100,000 deep",
    args: (sb) => ["list", "--profile", sb.profile],
    arrange: config('{ "hosts": ' + "[".repeat(100_000) + "]".repeat(100_000) + " }"),
    error: ["config.jsonc", "nested more than"],
  },
  {
    name: "a config file that is a JSON array",
    args: (sb) => ["list", "--profile", sb.profile],
    arrange: config("[]"),
    error: ["config.jsonc"],
  },
  {
    name: "manifest.json version 1 with a non-boolean 'active'",
    args: (sb) => ["list", "--profile", other(sb, "v1-bad")],
    arrange: generation("v1-bad", {
      "manifest.json": '{"version":1,"elements":[{"active":"yes","storePaths":[]}]}',
    }),
    error: ["manifest.json", "active"],
  },
  {
    name: "manifest.json version 2 cut short",
    args: (sb) => ["list", "--profile", other(sb, "v2-cut")],
    arrange: generation("v2-cut", {
      "manifest.json": '{"version":2,"elements":[{"active":true,"storePaths":["/x',
    }),
    error: ["manifest.json", "unterminated string"],
  },
  {
    name: "manifest.json version 3 with a non-boolean 'active'",
    args: (sb) => ["list", "--profile", other(sb, "v3-bad")],
    arrange: generation("v3-bad", {
      "manifest.json": '{"version":3,"elements":{"a":{"active":1,"storePaths":[]}}}',
    }),
    error: ["manifest.json"],
  },
  {
    name: "manifest.json that is a JSON array",
    args: (sb) => ["list", "--profile", other(sb, "json-array")],
    arrange: generation("json-array", { "manifest.json": "[]" }),
    error: ["manifest.json", "not a JSON object"],
  },
  {
    name: "manifest.json that is not UTF-8",
    args: (sb) => ["list", "--profile", other(sb, "json-bytes")],
    arrange: generation("json-bytes", { "manifest.json": NOT_UTF8 }),
    error: ["manifest.json"],
  },
  {
    name: "manifest.nix cut short inside a string",
    args: (sb) => ["list", "--profile", other(sb, "nix-cut")],
    arrange: generation("nix-cut", { "manifest.nix": '[ { name = "hel' }),
    error: ["manifest.nix"],
  },
  {
    name: "manifest.nix that is not UTF-8",
    args: (sb) => ["list", "--profile", other(sb, "nix-bytes")],
    arrange: generation("nix-bytes", { "manifest.nix": NOT_UTF8 }),
    error: ["manifest.nix"],
  },
  {
    name: "a generation link that is a symlink loop",
    args: (sb) => ["list", "--profile", other(sb, "looped")],
    arrange: async (sb) => {
      const p = other(sb, "looped");
      await Deno.symlink("looped-1-link", p);
      await Deno.symlink("looped-1-link", `${p}-1-link`);
      return async () => {};
    },
  },
  {
    name: "a profile link to a generation that does not exist",
    args: (sb) => ["list", "--profile", other(sb, "dangling")],
    arrange: async (sb) => {
      await Deno.symlink("dangling-7-link", other(sb, "dangling"));
      return async () => {};
    },
  },
  {
    name: "a records file cut short",
    args: (sb) => ["rollback", "--profile", sb.profile],
    arrange: async (sb) => {
      const dir = join(sb.xdgState, "fprof", "profiles");
      const file = join(dir, `${encodeURIComponent(sb.profile)}.json`);
      const text = await Deno.readTextFile(file);
      await Deno.writeTextFile(file, text.slice(0, text.length >> 1));
      return () => Deno.writeTextFile(file, text);
    },
    error: ["generation records"],
  },
  {
    name: "--manifest with an unknown kind",
    args: (sb, good) => ["switch", "--profile", sb.profile, "--manifest=yaml", good],
    code: 2,
  },
];

/** Everything a failed command must leave as it was. */
async function onDisk(sb: NixSandbox): Promise<string> {
  const names = async (dir: string) =>
    (await Array.fromAsync(Deno.readDir(dir), (e) => join(dir, e.name))).sort();
  return [await snapshot(sb), ...await names(join(sb.profile, "..")), ...await names(sb.work)]
    .join("\n");
}

function checkFailure(
  r: { code: number; stdout: string; stderr: string },
  c: { code?: number; error?: string[] },
  what: string,
) {
  assertEquals(r.code, c.code ?? 1, what);
  assertEquals(r.stdout, "", what);
  assertOk(!r.stderr.includes("    at "), `a stack trace: ${what}`);
  const errors = r.stderr.split("\n").filter((l) => /^\s*error:/.test(l));
  assertEquals(errors.length, 1, `expected one error line: ${what}`);
  assertOk(errors[0].startsWith("error: "), what);
  for (const part of c.error ?? []) assertOk(errors[0].includes(part), `no '${part}': ${what}`);
  const hints = r.stderr.split("\n").filter((l) => l.startsWith("hint: "));
  assertEquals(hints.length, 1, `expected one hint line: ${what}`);
}

Deno.test("more bad input fails with one error line and changes nothing", async (t) => {
  await using sb = await makeNixSandbox();
  const dir = join(sb.work, "good");
  await writeProfileFlake(dir, [{ name: "hello", version: "2.12", bins: ["hello"] }], {
    system: sb.system,
  });
  const good = `path:${dir}`;
  await fprofOk(sb, ["switch", "--profile", sb.profile, good]);
  for (const c of CASES) {
    await t.step(c.name, async () => {
      const remove = await c.arrange?.(sb);
      try {
        const before = await onDisk(sb);
        const args = c.args(sb, good);
        const r = await fprof(sb, args);
        checkFailure(r, c, `fprof ${args.join(" ")}\n--- stderr\n${r.stderr}`);
        assertEquals(await onDisk(sb), before, `changed on disk: fprof ${args.join(" ")}`);
      } finally {
        await remove?.();
      }
    });
  }
});

Deno.test({
  name: "a state directory fprof may not write fails cleanly for an unprivileged user",
  ignore: daemonUnavailable() !== undefined,
  async fn() {
    await using sb = await makeNixSandbox({ daemon: true });
    const one = join(sb.work, "one");
    const two = join(sb.work, "two");
    await writeProfileFlake(one, [{ name: "hello", version: "2.12", bins: ["hello"] }], {
      system: sb.system,
    });
    await writeProfileFlake(two, [{ name: "hello", version: "2.13", bins: ["hello"] }], {
      system: sb.system,
    });
    await sb.handOver(sb.work);
    await fprofOk(sb, ["switch", "--profile", sb.profile, `path:${one}`]);
    const state = join(sb.xdgState, "fprof", "profiles");
    await Deno.chmod(state, 0o500);
    try {
      const before = await snapshot(sb);
      const r = await fprof(sb, ["switch", "--profile", sb.profile, `path:${two}`]);
      const what = `fprof switch as ${sb.user}\n--- stderr\n${r.stderr}`;
      checkFailure(r, { error: [state] }, what);
      assertEquals(await snapshot(sb), before, `changed on disk: ${what}`);
    } finally {
      await Deno.chmod(state, 0o755);
    }
  },
});
