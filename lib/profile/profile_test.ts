import { parseNixVersion } from "../nix/nix.ts";
import { defaultProfileFor, generationNumber } from "./profile.ts";
import { assertEquals } from "../../tests/helpers/testing.ts";

Deno.test("generationNumber() reads only <profile>-N-link names", () => {
  assertEquals(generationNumber("profile", "profile-12-link"), 12);
  assertEquals(generationNumber("profile", "profile-x-link"), null);
  assertEquals(generationNumber("profile", "other-1-link"), null);
  assertEquals(generationNumber("profile", "profile.lock"), null);
});

Deno.test("defaultProfileFor() follows the installed Nix's default", () => {
  const ctx = {
    env: new Map([["HOME", "/h"], ["XDG_STATE_HOME", "/h/st"]]),
    stateDir: "/nix/var/nix",
    uid: 1000,
    user: "u",
  };
  assertEquals(
    defaultProfileFor(parseNixVersion("nix (Nix) 2.8.0"), ctx),
    "/nix/var/nix/profiles/per-user/u/profile",
  );
  assertEquals(
    defaultProfileFor(parseNixVersion("nix (Nix) 2.18.1"), ctx),
    "/h/st/nix/profiles/profile",
  );
  assertEquals(
    defaultProfileFor(parseNixVersion("nix (Nix) 2.8.0"), { ...ctx, uid: 0 }),
    "/nix/var/nix/profiles/default",
  );
  // Since 2.14 root's profile is its per-user one; Nix links
  // profiles/default to it.
  assertEquals(
    defaultProfileFor(parseNixVersion("nix (Nix) 2.18.1"), { ...ctx, uid: 0 }),
    "/nix/var/nix/profiles/per-user/root/profile",
  );
});
