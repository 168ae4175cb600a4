import { assertEquals } from "../../tests/helpers/testing.ts";
import { unchangedSince, type Wanted } from "./unchanged.ts";
import type { GenerationRecord } from "./records.ts";

const record: GenerationRecord = {
  generation: 3,
  storePath: "/s/g",
  parent: 2,
  parentStorePath: "/s/f",
  flake: "path:/p",
  lockedUrl: "path:/p?narHash=sha256-x",
  attr: "packages.x86_64-linux.profile",
  envPath: "/s/e",
  manifest: "json",
  createdAt: "",
  fprofVersion: "0.1.0",
};
const want: Wanted = {
  envPath: "/s/e",
  choice: "auto",
  flake: "path:/p",
  lockedUrl: "path:/p?narHash=sha256-x",
  attr: "packages.x86_64-linux.profile",
  groups: {},
  fprofVersion: "0.1.0",
};

Deno.test("unchangedSince() holds for the same environment, flake and manifest kind", () => {
  assertEquals(unchangedSince(record, want), true);
  assertEquals(unchangedSince(record, { ...want, choice: "json" }), true);
});

Deno.test("unchangedSince() fails on any input of the manifest", () => {
  assertEquals(unchangedSince(record, { ...want, envPath: "/s/other" }), false);
  assertEquals(unchangedSince(record, { ...want, choice: "nix" }), false);
  assertEquals(unchangedSince(record, { ...want, lockedUrl: "path:/p?narHash=sha256-y" }), false);
  assertEquals(unchangedSince(record, { ...want, attr: "packages.x86_64-linux.default" }), false);
  assertEquals(unchangedSince(record, { ...want, groups: { "/s/a": "dev" } }), false);
  assertEquals(unchangedSince(record, { ...want, fprofVersion: "0.2.0" }), false);
  assertEquals(unchangedSince({ ...record, manifest: "none" }, want), false);
});
