import { assertEquals } from "../tests/helpers/testing.ts";

Deno.test("expandTildeRef() expands ~ in configured flake references", async () => {
  const { expandTildeRef } = await import("./config.ts");
  assertEquals(expandTildeRef("~/profile", "/h"), "/h/profile");
  assertEquals(expandTildeRef("~", "/h"), "/h");
  assertEquals(expandTildeRef("~#laptop", "/h"), "/h#laptop");
  assertEquals(expandTildeRef("path:~/p#x", "/h"), "path:/h/p#x");
  assertEquals(expandTildeRef("github:u/p", "/h"), "github:u/p");
  assertEquals(expandTildeRef("~other/p", "/h"), "~other/p");
});
