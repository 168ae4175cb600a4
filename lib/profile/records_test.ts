import { assertEquals, assertThrows } from "../../tests/helpers/testing.ts";
import {
  emptyRecords,
  type GenerationRecord,
  loadRecords,
  parentAfterSet,
  parseRecords,
  planRollback,
  type RecordsFile,
  recordsName,
  recordsPath,
  saveRecords,
} from "./records.ts";
import type { Generation, ProfileState } from "./profile.ts";
import { FprofError } from "../errors.ts";

const gen = (number: number, storePath = `/s/${number}`): Generation => ({
  number,
  link: `/p/profile-${number}-link`,
  storePath,
  date: new Date(0),
});

const rec = (
  generation: number,
  parent: number | null,
  storePath = `/s/${generation}`,
): GenerationRecord => ({
  generation,
  storePath,
  parent,
  parentStorePath: parent === null ? null : `/s/${parent}`,
  envPath: "/s/env",
  manifest: "nix",
  createdAt: "2026-01-01T00:00:00.000Z",
  fprofVersion: "test",
});

function state(numbers: number[], current: number): ProfileState {
  const generations = numbers.map((n) => gen(n));
  return {
    profile: "/p/profile",
    generations,
    current: generations.find((g) => g.number === current)!,
  };
}

function records(...rs: GenerationRecord[]): RecordsFile {
  const f = emptyRecords("/p/profile");
  for (const r of rs) f.generations[String(r.generation)] = r;
  return f;
}

Deno.test("planRollback() goes to the parent, not to the previous number", () => {
  // 1, 2 (from 1), rollback to 1, 3 (from 1): the parent of 3 is 1, not 2.
  const plan = planRollback(
    state([1, 2, 3], 3),
    records(rec(1, null), rec(2, 1), rec(3, 1)),
  );
  assertEquals(plan?.to.number, 1);
  assertEquals(plan?.reason, "parent");
});

Deno.test("planRollback() skips deleted ancestors to the nearest living one", () => {
  const plan = planRollback(
    state([1, 3], 3),
    records(rec(1, null), rec(2, 1), rec(3, 2)),
  );
  assertEquals(plan?.to.number, 1);
  assertEquals(plan?.reason, "ancestor");
  assertEquals(plan?.skipped, [2]);
});

Deno.test("planRollback() ignores a record whose generation number was reused by another tool", () => {
  // Generation 2 was deleted and another tool made a new 2 pointing elsewhere.
  const s = state([1, 2, 3], 3);
  s.generations[1] = gen(2, "/s/other");
  const plan = planRollback(s, records(rec(1, null), rec(2, 1), rec(3, 2)));
  assertEquals(plan?.to.number, 1);
  assertEquals(plan?.skipped, [2]);
});

Deno.test("planRollback() falls back to the previous number for generations fprof did not make", () => {
  const plan = planRollback(state([1, 2, 5], 5), records(rec(1, null)));
  assertEquals(plan?.to.number, 2);
  assertEquals(plan?.reason, "previous");
});

Deno.test("planRollback() returns null for a first generation", () => {
  assertEquals(planRollback(state([1], 1), records(rec(1, null))), null);
  assertEquals(planRollback(state([4], 4), records()), null);
});

Deno.test("planRollback() survives a cycle in corrupt records", () => {
  const plan = planRollback(
    state([3], 3),
    records(rec(1, 2), rec(2, 1), rec(3, 2)),
  );
  assertEquals(plan, null);
});

Deno.test("parseRecords() rejects malformed files with a hint", () => {
  assertThrows(
    () => parseRecords("{", "f.json", "/p"),
    FprofError,
    "cannot parse generation records",
  );
  assertThrows(
    () => parseRecords('{"version":9}', "f.json", "/p"),
    FprofError,
    "unknown format",
  );
  assertEquals(
    parseRecords('{"version":1,"generations":{}}', "f.json", "/p").profile,
    "/p",
  );
});

Deno.test("recordsName() hashes a long profile path so that every file beside it fits in 255 bytes", () => {
  assertEquals(recordsName("/home/u/.nix-profile"), "%2Fhome%2Fu%2F.nix-profile");
  for (const long of ["/tmp/" + "d".repeat(240) + "/prof", "/tmp/" + "é/".repeat(60) + "prof"]) {
    const name = recordsName(long);
    assertEquals(/^[0-9a-f]{32}-/.test(name), true, name);
    assertEquals(name.endsWith("prof"), true, name);
    assertEquals(new TextEncoder().encode(`${name}.json.pending.4194304.tmp`).length <= 255, true);
    assertEquals(
      decodeURIComponent(name.slice(33)),
      long.slice(-decodeURIComponent(name.slice(33)).length),
    );
  }
  assertEquals(
    recordsName("/a/" + "x".repeat(300)) === recordsName("/b/" + "x".repeat(300)),
    false,
  );
});

Deno.test("records of a long profile path are saved under the hashed name, and those of an older fprof are still read", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const env = new Map([["XDG_STATE_HOME", dir], ["HOME", dir]]);
    const envLike = { get: (k: string) => env.get(k) };
    // Short enough for `.json`, too long for `.json.pending.<pid>.tmp`.
    const profile = "/p/" + "x".repeat(240);
    const legacy = `${dir}/fprof/profiles/${encodeURIComponent(profile)}.json`;
    await Deno.mkdir(`${dir}/fprof/profiles`, { recursive: true });
    const old: RecordsFile = { version: 1, profile, generations: { "1": rec(1, null) } };
    await Deno.writeTextFile(legacy, JSON.stringify(old));
    assertEquals((await loadRecords(profile, envLike)).generations["1"], rec(1, null));
    await saveRecords(old, envLike);
    assertEquals(recordsPath(profile, envLike) === legacy, false);
    assertEquals((await loadRecords(profile, envLike)).generations["1"], rec(1, null));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parentAfterSet() takes a generation set by another tool meanwhile as the parent", () => {
  const state = (nums: number[], current: number) => ({
    profile: "/p/profile",
    generations: nums.map((n) => gen(n)),
    current: gen(current),
  });
  const planned = state([1, 2], 2);
  assertEquals(parentAfterSet(planned, state([1, 2, 3], 3), gen(3)), {
    parent: gen(2),
    foreign: [],
  });
  assertEquals(parentAfterSet(planned, state([1, 2, 3, 4, 5], 5), gen(5)), {
    parent: gen(4),
    foreign: [gen(3), gen(4)],
  });
});
