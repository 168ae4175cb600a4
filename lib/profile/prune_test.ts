import { assertEquals, assertThrows } from "../../tests/helpers/testing.ts";
import { parseAge, planDeletion, reparentRecords } from "./prune.ts";
import { emptyRecords, planRollback, type RecordsFile } from "./records.ts";
import { UsageError } from "../errors.ts";
import type { Generation, ProfileState } from "./profile.ts";

const DAY = 86400_000;
const NOW = new Date("2026-06-30T00:00:00Z");
const gen = (number: number, daysAgo = 0): Generation => ({
  number,
  link: `/p/profile-${number}-link`,
  storePath: `/s/${number}-env`,
  date: new Date(NOW.getTime() - daysAgo * DAY),
});

function state(current: number, ...gens: Generation[]): ProfileState {
  return {
    profile: "/p/profile",
    generations: gens,
    current: gens.find((g) => g.number === current)!,
  };
}

function records(parents: Record<number, number | null>): RecordsFile {
  const r = emptyRecords("/p/profile");
  for (const [n, parent] of Object.entries(parents)) {
    r.generations[n] = {
      generation: Number(n),
      storePath: `/s/${n}-env`,
      parent,
      parentStorePath: parent === null ? null : `/s/${parent}-env`,
      envPath: `/s/${n}-env`,
      manifest: "nix",
      createdAt: NOW.toISOString(),
      fprofVersion: "0",
    };
  }
  return r;
}

Deno.test("parseAge() reads s, m, h, d and w, and rejects anything else", () => {
  assertEquals(parseAge("30d"), 30 * DAY);
  assertEquals(parseAge("2w"), 14 * DAY);
  assertEquals(parseAge("90s"), 90_000);
  assertThrows(() => parseAge("30"), UsageError, "invalid age '30'");
  assertThrows(() => parseAge("-1d"), UsageError);
});

Deno.test("planDeletion() refuses the current generation and unknown numbers", () => {
  const s = state(3, gen(1), gen(2), gen(3));
  assertEquals(planDeletion(s, { kind: "numbers", numbers: [2, 1, 2] }, NOW), [1, 2]);
  assertThrows(
    () => planDeletion(s, { kind: "numbers", numbers: [3] }, NOW),
    UsageError,
    "current one",
  );
  assertThrows(() => planDeletion(s, { kind: "numbers", numbers: [9] }, NOW), UsageError, "9");
});

Deno.test("planDeletion() --older-than keeps the generation in use at the cutoff, as nix-env does", () => {
  const s = state(2, gen(1, 90), gen(2, 60), gen(3, 40), gen(4, 5));
  // 1, 2 and 3 are older than 30 days; 3 was in use 30 days ago; 2 is current.
  assertEquals(planDeletion(s, { kind: "olderThan", ms: 30 * DAY }, NOW), [1]);
  assertEquals(planDeletion(s, { kind: "olderThan", ms: 100 * DAY }, NOW), []);
});

Deno.test("planDeletion() --keep keeps the newest N and the current one", () => {
  const s = state(1, gen(1), gen(2), gen(3), gen(4));
  assertEquals(planDeletion(s, { kind: "keep", count: 2 }, NOW), [2]);
  assertEquals(planDeletion(s, { kind: "keep", count: 9 }, NOW), []);
  assertThrows(() => planDeletion(s, { kind: "keep", count: 0 }, NOW), UsageError);
});

Deno.test("reparentRecords() points children of deleted generations at living ancestors", () => {
  // 1 ← 2 ← 3 ← 4, and 1 ← 5; 2 and 3 are deleted.
  const before = records({ 1: null, 2: 1, 3: 2, 4: 3, 5: 1 });
  const living = [gen(1), gen(4), gen(5)];
  const after = reparentRecords(before, living);
  assertEquals(Object.keys(after.generations), ["1", "4", "5"]);
  assertEquals(after.generations["4"].parent, 1);
  assertEquals(after.generations["4"].parentStorePath, "/s/1-env");
  assertEquals(after.generations["5"].parent, 1);
  const plan = planRollback(state(4, ...living), after);
  assertEquals([plan?.to.number, plan?.reason], [1, "parent"]);
});

Deno.test("reparentRecords() leaves a record whose chain reaches a generation another tool made", () => {
  // 2 was made by nix-env (no record) and is deleted.
  const before = records({ 1: null, 3: 2 });
  const after = reparentRecords(before, [gen(1), gen(3)]);
  assertEquals(after.generations["3"].parent, 2);
  assertEquals(planRollback(state(3, gen(1), gen(3)), after)?.reason, "previous");
});
