import { assertEquals, assertThrows } from "../../tests/helpers/testing.ts";
import { lockedInput, parseFlakeLock, sourceStorePath } from "./flake_lock.ts";
import { FprofError } from "../errors.ts";

const NAR = "sha256-nMj7pWvkecSacynfMPuunc4rIC/OskAlQ/cA0nd5U74=";

const lock = (nodes: Record<string, unknown>) =>
  parseFlakeLock(JSON.stringify({ version: 7, root: "root", nodes }), "flake.lock");

Deno.test("sourceStorePath() gives the path Nix 2.8 fetched a path: input to", async () => {
  // Seen in a sandbox: `nix flake archive --json` put this input here.
  assertEquals(
    await sourceStorePath(NAR, "/tmp/px/store"),
    "/tmp/px/store/jb3jnr1qngh2pri07fl2qd0bwi99addi-source",
  );
});

Deno.test("lockedInput() reads a path input with narHash and lastModified", () => {
  const l = lock({
    root: { inputs: { nixpkgs: "nixpkgs" } },
    nixpkgs: { locked: { type: "path", path: "/p", narHash: NAR, lastModified: 5 } },
  });
  assertEquals(lockedInput(l, "nixpkgs", "flake.lock"), {
    name: "nixpkgs",
    node: "nixpkgs",
    locked: { type: "path", path: "/p", narHash: NAR, lastModified: 5 },
    narHash: NAR,
    lastModified: 5,
  });
});

Deno.test("lockedInput() follows a follows path to another input's node", () => {
  const l = lock({
    root: { inputs: { nixpkgs: ["hm", "nixpkgs"], hm: "hm" } },
    hm: { inputs: { nixpkgs: "nixpkgs_2" }, locked: { narHash: NAR } },
    nixpkgs_2: { locked: { type: "github", narHash: NAR, rev: "abc", lastModified: 1 } },
  });
  const i = lockedInput(l, "nixpkgs", "flake.lock");
  assertEquals([i.node, i.rev], ["nixpkgs_2", "abc"]);
});

Deno.test("lockedInput() rejects a missing input and names the ones there are", () => {
  const l = lock({ root: { inputs: { other: "other" } }, other: { locked: { narHash: NAR } } });
  const e = assertThrows(() => lockedInput(l, "nixpkgs", "f"), FprofError, "no input 'nixpkgs'");
  assertEquals((e as FprofError).hint, "its inputs are: other; choose one with --input");
});

Deno.test("parseFlakeLock() rejects bad JSON, other files and unknown versions", () => {
  assertThrows(() => parseFlakeLock("{", "f"), FprofError, "cannot parse lock file 'f'");
  assertThrows(() => parseFlakeLock("[]", "f"), FprofError, "is not a flake lock file");
  assertThrows(
    () => parseFlakeLock('{"version":99,"root":"root","nodes":{"root":{}}}', "f"),
    FprofError,
    "unsupported version 99",
  );
});
