import { manifestJsonVersionFor, parseNixVersion } from "./nix.ts";
import { assertEquals, assertThrows } from "../../tests/helpers/testing.ts";

Deno.test("parseNixVersion() reads Nix and Lix versions", () => {
  const nix28 = parseNixVersion("nix (Nix) 2.8.0\n");
  assertEquals([nix28.implementation, nix28.major, nix28.minor], ["nix", 2, 8]);
  assertEquals(manifestJsonVersionFor(nix28), 2);
  assertEquals(manifestJsonVersionFor(parseNixVersion("nix (Nix) 2.24.10")), 3);
  assertEquals(
    manifestJsonVersionFor(parseNixVersion("nix (Lix, like Nix) 2.91.1")),
    3,
  );
  assertThrows(() => parseNixVersion("garbage"), Error, "Cannot parse");
});
