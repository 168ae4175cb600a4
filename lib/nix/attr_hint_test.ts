import { assertEquals } from "../../tests/helpers/testing.ts";
import { MAX_LISTED, missingAttrMessage } from "./attr_hint.ts";

Deno.test("missingAttrMessage() lists what the flake has and suggests a profile-looking name", () => {
  const r = missingAttrMessage("/home/u/profile", ["laptop"], "x86_64-linux", {
    packages: ["broken", "default"],
    legacyPackages: ["profile"],
  });
  assertEquals(
    r.message,
    "flake '/home/u/profile' does not provide attribute 'laptop'; available: " +
      "packages.x86_64-linux.broken, packages.x86_64-linux.default, legacyPackages.x86_64-linux.profile",
  );
  assertEquals(r.hint, "name the attribute to build, as in 'fprof switch /home/u/profile#profile'");
});

Deno.test("missingAttrMessage() shortens long lists and handles a flake with no packages", () => {
  const many = Array.from({ length: MAX_LISTED + 3 }, (_, i) => `p${i}`);
  const r = missingAttrMessage(".", ["a", "b"], "aarch64-darwin", {
    packages: many,
    legacyPackages: [],
  });
  assertEquals(
    r.message.startsWith("flake '.' does not provide any of the attributes 'a', 'b';"),
    true,
  );
  assertEquals(r.message.endsWith(", and 3 more"), true, r.message);
  const none = missingAttrMessage(".", ["x"], "x86_64-linux", { packages: [], legacyPackages: [] });
  assertEquals(
    none.message,
    "flake '.' does not provide attribute 'x', and has no packages.x86_64-linux or legacyPackages.x86_64-linux",
  );
});
