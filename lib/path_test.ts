import posix from "node:path/posix";
import { assertEquals } from "../tests/helpers/testing.ts";
import { basename, dirname, extname, join, normalize, resolve } from "./path.ts";

const PATHS = [
  "",
  ".",
  "..",
  "/",
  "a",
  "/a",
  "a/",
  "/a/b/",
  "/a/b//c",
  "a/./b/../c",
  "../a/../../b",
  "/../a",
  "/nix/var/nix/profiles/per-user/root/profile-12-link",
  "/home/u/.nix-profile",
  "/home/u/.config/fprof/config.jsonc",
  "profile.tar.gz",
  ".profile",
  "./",
  "a/..",
  "a/../",
];

Deno.test("normalize(), dirname(), basename() and extname() agree with node:path's POSIX ones", () => {
  for (const p of PATHS) {
    assertEquals(normalize(p), posix.normalize(p), `normalize(${JSON.stringify(p)})`);
    assertEquals(dirname(p), posix.dirname(p), `dirname(${JSON.stringify(p)})`);
    assertEquals(basename(p), posix.basename(p), `basename(${JSON.stringify(p)})`);
    assertEquals(extname(p), posix.extname(p), `extname(${JSON.stringify(p)})`);
  }
  assertEquals(basename("/a/fprof.ts", ".ts"), posix.basename("/a/fprof.ts", ".ts"));
});

Deno.test("join() and resolve() agree with node:path's POSIX ones", () => {
  for (const a of PATHS) {
    for (const b of ["", "b", "/b", "../b", "b/", "."]) {
      assertEquals(
        join(a, b),
        posix.join(a, b),
        `join(${JSON.stringify(a)}, ${JSON.stringify(b)})`,
      );
      assertEquals(
        resolve(a, b),
        posix.resolve(a, b),
        `resolve(${JSON.stringify(a)}, ${JSON.stringify(b)})`,
      );
    }
  }
  assertEquals(join(), posix.join());
  assertEquals(resolve(), posix.resolve());
  assertEquals(join("/home/u", ".config", "fprof"), "/home/u/.config/fprof");
});
