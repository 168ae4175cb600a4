/**
 * What the fault suite checks after every fault, and its running totals.
 *
 * @module
 */

import { join } from "node:path";
import { assertEquals, assertOk } from "./testing.ts";
import { recordsPath } from "../../lib/profile/records.ts";
import type { NixSandbox } from "./sandbox.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Totals of one fault-suite run. */
export const totals = { scenarios: 0, faults: 0, lost: 0 };

/** The totals as the suite prints them at its end. */
export function totalsLine(): string {
  return `fault suite: ${totals.scenarios} scenarios run, ${totals.faults} faults injected, ` +
    `${totals.lost} lost`;
}

/** One generation link of a profile. */
export interface LinkInfo {
  number: number;
  storePath: string;
}

/** The generation links of a profile, oldest first. */
export async function generationLinks(profile: string): Promise<LinkInfo[]> {
  const dir = join(profile, "..");
  const base = profile.slice(dir.length + 1);
  const out: LinkInfo[] = [];
  for await (const e of Deno.readDir(dir)) {
    const m = /^(.*)-(\d+)-link$/.exec(e.name);
    if (m && m[1] === base) {
      out.push({ number: Number(m[2]), storePath: await Deno.readLink(join(dir, e.name)) });
    }
  }
  return out.sort((a, b) => a.number - b.number);
}

/** The generation the profile link points to, or null. */
export async function currentLink(profile: string): Promise<LinkInfo | null> {
  const target = await Deno.readLink(profile).catch(() => null);
  if (target === null) return null;
  const m = /-(\d+)-link$/.exec(target);
  assertOk(m, `profile link '${profile}' -> '${target}' is not a generation link`);
  const links = await generationLinks(profile);
  const cur = links.find((l) => l.number === Number(m![1]));
  assertOk(cur, `profile link '${profile}' -> '${target}' points at no generation`);
  return cur!;
}

/** Starts fprof in the sandbox without waiting, so the test can kill it. */
export function spawnFprof(
  sb: NixSandbox,
  args: string[],
  env: Record<string, string> = {},
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, ...args],
    env: { ...sb.env, NO_COLOR: "1", ...env },
    clearEnv: true,
    cwd: sb.work,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/**
 * Checks a profile after a fault: every generation link points at a valid
 * store path whose closure is complete, the profile link points at one of
 * them, and every record of a generation that still exists names that
 * generation's store path. Returns the current generation. Counts a failure
 * as lost before rethrowing it.
 */
export async function checkProfile(sb: NixSandbox, profile: string): Promise<LinkInfo | null> {
  try {
    const links = await generationLinks(profile);
    for (const l of links) {
      // -qR fails if the path or anything it refers to is not valid.
      const r = await sb.run(["nix-store", "-qR", l.storePath]);
      assertEquals(r.code, 0, `generation ${l.number} (${l.storePath}) is broken:\n${r.stderr}`);
      for (const p of r.stdout.trim().split("\n")) {
        await Deno.lstat(p).catch(() => {
          throw new Error(`generation ${l.number} needs '${p}', which is gone`);
        });
      }
    }
    const records = await readRecords(sb, profile);
    for (const [n, rec] of Object.entries(records)) {
      const link = links.find((l) => l.number === Number(n));
      if (link) {
        assertEquals(rec.storePath, link.storePath, `the record of generation ${n} is wrong`);
      }
    }
    return await currentLink(profile);
  } catch (e) {
    totals.lost++;
    throw e;
  }
}

/** fprof's records of a profile, by generation number. */
export async function readRecords(
  sb: NixSandbox,
  profile: string,
): Promise<Record<string, { storePath: string }>> {
  const file = recordsPath(profile, { get: (k) => sb.env[k] });
  const text = await Deno.readTextFile(file).catch(() => null);
  return text === null ? {} : JSON.parse(text).generations;
}

/**
 * Whatever a crashed run can leave (temporary files, cache directories, a
 * pending record): after a successful run, none may remain.
 */
export async function leftovers(sb: NixSandbox, profile: string): Promise<string[]> {
  const env = { get: (k: string) => sb.env[k] };
  const records = recordsPath(profile, env);
  const dirs = [
    join(profile, ".."),
    join(records, ".."),
    join(sb.xdgCache, "fprof", "tmp"),
    join(sb.xdgConfig, "nix"),
    join(sb.xdgState, "fprof", "pins"),
  ];
  const found: string[] = [];
  for (const dir of dirs) {
    let entries: Deno.DirEntry[] = [];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      continue;
    }
    for (const e of entries) {
      if (/\.tmp$|\.pending$|^cache-/.test(e.name)) found.push(join(dir, e.name));
    }
  }
  return found;
}

/**
 * Waits until no process of the sandbox runs any more (a killed fprof's nix
 * children finish on their own), telling them by the sandbox's
 * `NIX_STATE_DIR` in their environment.
 */
export async function waitForQuiet(sb: NixSandbox, timeoutMs = 30_000): Promise<void> {
  const marker = `NIX_STATE_DIR=${sb.stateDir}\0`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let busy = false;
    for await (const e of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(e.name) || Number(e.name) === Deno.pid) continue;
      const environ = await Deno.readTextFile(`/proc/${e.name}/environ`).catch(() => "");
      if (environ.includes(marker)) {
        busy = true;
        break;
      }
    }
    if (!busy || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
