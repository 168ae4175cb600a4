import { assertEquals } from "../../tests/helpers/testing.ts";
import { pinsDifferNote, type PinState, samePins } from "./pins.ts";

const a = { id: "nixpkgs", storePath: "/s/a-source", narHash: "sha256-a" };
const b = { id: "nixpkgs", storePath: "/s/b-source", narHash: "sha256-b" };
const state = (pins = [a]): PinState => ({
  version: 1,
  scope: "user",
  flake: "/f",
  pins,
  files: [],
  channels: null,
});

Deno.test("pinsDifferNote() speaks only when a generation's pins differ from the current ones", () => {
  assertEquals(pinsDifferNote(3, [a], state()), undefined);
  assertEquals(pinsDifferNote(3, undefined, state()), undefined);
  assertEquals(pinsDifferNote(3, [b], null), undefined);
  assertEquals(
    pinsDifferNote(3, [b], state()),
    "the pins (nixpkgs → /s/a-source) now differ from generation 3's lock (nixpkgs → /s/b-source)",
  );
  assertEquals(samePins([a, { ...b, id: "x" }], [{ ...b, id: "x" }, a]), true);
});
