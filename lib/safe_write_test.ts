import { assertEquals, assertRejects } from "../tests/helpers/testing.ts";
import { fileMode, openNoFollow, replaceFile, writeNewFile } from "./safe_write.ts";
import { join } from "node:path";

Deno.test("writeNewFile() removes a link planted at the name instead of writing through it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const victim = join(dir, "victim");
    await Deno.writeTextFile(victim, "keep me\n");
    await Deno.symlink(victim, join(dir, "x.tmp"));
    await writeNewFile(join(dir, "x.tmp"), "new\n");
    assertEquals(await Deno.readTextFile(victim), "keep me\n");
    assertEquals((await Deno.lstat(join(dir, "x.tmp"))).isSymlink, false);
    assertEquals(await Deno.readTextFile(join(dir, "x.tmp")), "new\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("replaceFile() keeps a private file private and gives a new one the given mode", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "nix.conf");
    await Deno.writeTextFile(file, "a = 1\n", { mode: 0o600 });
    await Deno.chmod(file, 0o600);
    await replaceFile(file, "a = 2\n", { tmp: `${file}.tmp`, mode: 0o644 });
    assertEquals(await fileMode(file), 0o600);
    assertEquals(await Deno.readTextFile(file), "a = 2\n");
    const fresh = join(dir, "state.json");
    await replaceFile(fresh, "{}\n", { tmp: `${fresh}.tmp`, mode: 0o640 });
    assertEquals(await fileMode(fresh), 0o640);
    assertEquals(await fileMode(join(dir, "missing")), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("openNoFollow() creates or opens a regular file and refuses a link", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const victim = join(dir, "victim");
    await Deno.writeTextFile(victim, "keep me\n");
    const lock = join(dir, "p.lock");
    (await openNoFollow(lock)).close();
    (await openNoFollow(lock)).close();
    assertEquals((await Deno.lstat(lock)).isFile, true);
    const link = join(dir, "q.lock");
    await Deno.symlink(victim, link);
    await assertRejects(
      () => openNoFollow(link),
      Deno.errors.PermissionDenied,
      "not a regular file",
    );
    const dangling = join(dir, "r.lock");
    await Deno.symlink(join(dir, "created-through-link"), dangling);
    await assertRejects(() => openNoFollow(dangling), Deno.errors.PermissionDenied);
    assertEquals(await fileMode(join(dir, "created-through-link")), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeNewFile() leaves no empty file behind when the disk is full", async () => {
  const dir = await Deno.makeTempDir();
  Deno.env.set("FPROF_TEST_FULL_DISK", dir);
  try {
    await assertRejects(() => writeNewFile(join(dir, "backup"), "bytes\n"), Error, "os error 28");
    assertEquals(await Array.fromAsync(Deno.readDir(dir)), []);
  } finally {
    Deno.env.delete("FPROF_TEST_FULL_DISK");
    await Deno.remove(dir, { recursive: true });
  }
});
