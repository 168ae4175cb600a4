import { assertEquals, assertThrows } from "../../tests/helpers/testing.ts";
import { checkRemoteProfile } from "./host_names.ts";
import { UsageError } from "../errors.ts";

Deno.test("checkRemoteProfile() refuses a newline or other control character, which the host would cut at", () => {
  assertEquals(checkRemoteProfile("/home/u/.nix-profile"), "/home/u/.nix-profile");
  assertEquals(checkRemoteProfile("~/p with space"), "~/p with space");
  for (const bad of ["/p\nq", "/p\rq", "/p\0q", "/p\tq"]) {
    assertThrows(() => checkRemoteProfile(bad), UsageError, "control character");
  }
});
