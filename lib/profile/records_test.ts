import { assertEquals, assertThrows } from "../testing.ts";
import {
  emptyRecords,
  type GenerationRecord,
  parseRecords,
  planRollback,
  type RecordsFile,
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
