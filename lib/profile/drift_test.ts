import { assertEquals } from "../../tests/helpers/testing.ts";
import { driftDecision, foreignDrops, packageNames } from "./drift.ts";
import type { ProfilePackage } from "../../manifest/types.ts";

const pkg = (name: string, version: string): ProfilePackage => ({ name, version, storePaths: [] });

Deno.test("foreignDrops() names only what the last fprof generation did not have", () => {
  const removed = [pkg("gone", "1.0"), pkg("extra", "0.1"), pkg("hello", "2")];
  const baseline = [pkg("gone", "1.0"), pkg("hello", "1")];
  assertEquals(foreignDrops(removed, baseline), [pkg("extra", "0.1"), pkg("hello", "2")]);
  assertEquals(foreignDrops(removed, null).map((p) => p.name), ["extra", "gone", "hello"]);
});

Deno.test("driftDecision() asks on a terminal, refuses elsewhere, and --yes skips both", () => {
  assertEquals(driftDecision({ dropped: 0, yes: false, interactive: false }), "proceed");
  assertEquals(driftDecision({ dropped: 2, yes: true, interactive: false }), "proceed");
  assertEquals(driftDecision({ dropped: 2, yes: false, interactive: true }), "ask");
  assertEquals(driftDecision({ dropped: 2, yes: false, interactive: false }), "refuse");
});

Deno.test("packageNames() names packages with their versions", () => {
  assertEquals(
    packageNames([
      { name: "extra", version: "0.1", storePaths: [] },
      { name: "bare", version: "", storePaths: [] },
    ]),
    "extra 0.1, bare",
  );
});
