import { assertEquals } from "../../tests/helpers/testing.ts";

Deno.test("generationsText() puts a header over the columns", async () => {
  const { generationsText } = await import("./generations.ts");
  const gen = {
    number: 7,
    date: "2026-06-01T09:12:00.000Z",
    current: true,
    storePath: "/nix/store/x-profile",
    parent: 6,
    madeByFprof: true,
    source: { flake: "path:/home/alice/profile", attr: "legacyPackages.x86_64-linux.profile" },
    packageCount: 12,
  };
  assertEquals(generationsText([gen]).split("\n"), [
    "GEN  DATE                 PARENT  PACKAGES  SOURCE",
    "7*   2026-06-01 09:12:00  ← 6           12  path:/home/alice/profile#legacyPackages.x86_64-linux.profile",
    "",
  ]);
});
