import { assertEquals, assertThrows } from "../../tests/helpers/testing.ts";
import {
  parseRegistry,
  pathTarget,
  printRegistry,
  restoreEntry,
  sameTarget,
  setEntry,
} from "./registry.ts";
import { FprofError } from "../errors.ts";

const mine = { from: { type: "indirect", id: "mine" }, to: { type: "path", path: "/x" } };
const old = {
  from: { type: "indirect", id: "nixpkgs" },
  to: { type: "github", owner: "NixOS", repo: "nixpkgs" },
};
const target = pathTarget({ storePath: "/nix/store/a-source", narHash: "sha256-A", rev: "r" });

Deno.test("setEntry() replaces the nixpkgs entry in place and keeps the others", () => {
  const r = setEntry({ version: 2, flakes: [old, mine] }, "nixpkgs", target);
  assertEquals(r.flakes, [
    { from: { type: "indirect", id: "nixpkgs" }, to: { ...target }, exact: true },
    mine,
  ]);
});

Deno.test("setEntry() leaves entries for nixpkgs with a ref alone and appends its own", () => {
  const withRef = { from: { type: "indirect", id: "nixpkgs", ref: "nixos-24.05" }, to: {} };
  const r = setEntry({ version: 2, flakes: [withRef] }, "nixpkgs", target);
  assertEquals(r.flakes.length, 2);
  assertEquals(r.flakes[0], withRef);
});

Deno.test("restoreEntry() puts the old entry back, or drops fprof's when there was none", () => {
  const pinned = setEntry({ version: 2, flakes: [old, mine] }, "nixpkgs", target);
  assertEquals(restoreEntry(pinned, "nixpkgs", old).flakes, [old, mine]);
  assertEquals(restoreEntry(pinned, "nixpkgs", undefined).flakes, [mine]);
});

Deno.test("pathTarget() includes lastModified and rev only when the lock has them", () => {
  assertEquals(pathTarget({ storePath: "/s", narHash: "h" }), {
    type: "path",
    path: "/s",
    narHash: "h",
  });
  assertEquals(
    sameTarget(
      { narHash: "sha256-A", rev: "r", type: "path", path: "/nix/store/a-source" },
      target,
    ),
    true,
  );
  assertEquals(sameTarget({ ...target, rev: "other" }, target), false);
});

Deno.test("parseRegistry() reads an empty file as empty and rejects malformed ones", () => {
  assertEquals(parseRegistry("", "r").flakes, []);
  assertThrows(() => parseRegistry("{", "r"), FprofError, "cannot parse registry 'r'");
  assertThrows(() => parseRegistry('{"version":1,"flakes":[]}', "r"), FprofError, "version 1");
  assertThrows(() => parseRegistry('{"version":2,"flakes":[1]}', "r"), FprofError, "'flakes'");
  assertEquals(
    printRegistry({ version: 2, flakes: [] }),
    '{\n  "version": 2,\n  "flakes": []\n}\n',
  );
});
