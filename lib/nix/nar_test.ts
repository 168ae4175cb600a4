import assert from "node:assert/strict";
import { writeTree } from "./testdata/write_tree.ts";
import { type NarNode, serializeNar } from "./nar.ts";

const encoder = new TextEncoder();
const text = (s: string) => encoder.encode(s);

/** The NAR string encoding: u64 little-endian length, bytes, zero padding. */
function str(s: string | Uint8Array): number[] {
  const bytes = typeof s === "string" ? text(s) : s;
  const out = [bytes.length, 0, 0, 0, 0, 0, 0, 0, ...bytes];
  while (out.length % 8 !== 0) out.push(0);
  return out;
}

Deno.test("serializeNar() writes a regular file as the format specifies", () => {
  const nar = serializeNar({ type: "regular", contents: text("hello\n") });
  const expected = [
    ...str("nix-archive-1"),
    ...str("("),
    ...str("type"),
    ...str("regular"),
    ...str("contents"),
    ...str("hello\n"),
    ...str(")"),
  ];
  assert.deepEqual(Array.from(nar), expected);
});

Deno.test("serializeNar() marks executables with an empty 'executable' field", () => {
  const nar = serializeNar({
    type: "regular",
    contents: new Uint8Array(0),
    executable: true,
  });
  const expected = [
    ...str("nix-archive-1"),
    ...str("("),
    ...str("type"),
    ...str("regular"),
    ...str("executable"),
    ...str(""),
    ...str("contents"),
    ...str(""),
    ...str(")"),
  ];
  assert.deepEqual(Array.from(nar), expected);
});

Deno.test("serializeNar() writes a symlink target verbatim", () => {
  const nar = serializeNar({ type: "symlink", target: "../x/ü" });
  const expected = [
    ...str("nix-archive-1"),
    ...str("("),
    ...str("type"),
    ...str("symlink"),
    ...str("target"),
    ...str("../x/ü"),
    ...str(")"),
  ];
  assert.deepEqual(Array.from(nar), expected);
});

Deno.test("serializeNar() sorts directory entries bytewise", () => {
  // Code-unit order would put U+FF5E after U+1F600's surrogates; UTF-8 byte
  // order (what Nix uses) puts it before. Upper case sorts before lower.
  const leaf: NarNode = { type: "regular", contents: new Uint8Array(0) };
  const nar = serializeNar({
    type: "directory",
    entries: { "b": leaf, "\u{1F600}": leaf, "B": leaf, "\uFF5E": leaf },
  });
  const names: string[] = [];
  const decoded = new TextDecoder().decode(nar);
  for (const m of decoded.matchAll(/name\0{4}.{8}([^\0]+)/gs)) {
    names.push(m[1]);
  }
  assert.deepEqual(names, ["B", "b", "\uFF5E", "\u{1F600}"]);
});

Deno.test("serializeNar() rejects entry names no file system can hold", () => {
  const leaf: NarNode = { type: "symlink", target: "x" };
  for (const name of ["", ".", "..", "a/b", "a\0b"]) {
    assert.throws(
      () => serializeNar({ type: "directory", entries: { [name]: leaf } }),
      { name: "TypeError", message: /invalid entry name/ },
    );
  }
});

Deno.test("serializeNar() matches nix-store --dump of the same tree on disk", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fprof-nar-" });
  try {
    const tree: NarNode = {
      type: "directory",
      entries: {
        "bin": {
          type: "directory",
          entries: {
            "hello": {
              type: "regular",
              contents: text("#!/bin/sh\necho hello\n"),
              executable: true,
            },
            "hi": { type: "symlink", target: "hello" },
          },
        },
        "empty": { type: "directory", entries: {} },
        "manifest.json": {
          type: "regular",
          contents: text('{"elements":{},"version":3}'),
        },
        "share": { type: "symlink", target: "/nix/store/nonexistent/share" },
        "Zeta": { type: "regular", contents: text("12345678") },
        "größe": { type: "regular", contents: new Uint8Array(0) },
      },
    };
    await writeTree(`${dir}/root`, tree);
    const dumped = await new Deno.Command("nix-store", {
      args: ["--dump", `${dir}/root`],
    }).output();
    assert.equal(dumped.code, 0, new TextDecoder().decode(dumped.stderr));
    assert.deepEqual(serializeNar(tree), dumped.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serializeNar() writes every one of 10,000 entries", () => {
  const entries: Record<string, NarNode> = {};
  for (let i = 0; i < 10_000; i++) {
    entries[`file-${i}`] = {
      type: "symlink",
      target: `/nix/store/00000000000000000000000000000000-pkg/bin/file-${i}`,
    };
  }
  // How long this takes is measured by `deno task bench` (planning a
  // generation serializes its NAR), not here.
  const nar = new TextDecoder().decode(serializeNar({ type: "directory", entries }));
  for (const i of [0, 4_999, 9_999]) {
    assert.ok(nar.includes(`/nix/store/00000000000000000000000000000000-pkg/bin/file-${i}`));
  }
  assert.equal(nar.split("symlink").length - 1, 10_000);
});
