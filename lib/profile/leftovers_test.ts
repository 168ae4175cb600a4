import { assertEquals } from "../../tests/helpers/testing.ts";
import { ownerPid, removeStaleTemps, tempPlaces } from "./leftovers.ts";
import { join } from "node:path";

const env = {
  get: (k: string) => ({ HOME: "/home/u", XDG_STATE_HOME: "/s" } as Record<string, string>)[k],
};

Deno.test("tempPlaces() matches only fprof's own names in shared directories", () => {
  const places = tempPlaces({ profile: "/p/profile", own: ["/c"], shared: ["/n"], env });
  const pid = (dir: string, name: string) =>
    places.filter((p) => p.dir === dir).map((p) => ownerPid(name, p.pattern)).find((x) => x) ??
      null;
  assertEquals(pid("/p", "profile.42.tmp"), 42);
  assertEquals(pid("/p", "other.42.tmp"), null);
  assertEquals(pid("/n", ".registry.json.fprof-42.tmp"), 42);
  assertEquals(pid("/n", "registry.json.42.tmp"), null);
  assertEquals(pid("/c", "cache-42-abc"), 42);
  assertEquals(pid("/c", "roots-42-abc"), 42);
  assertEquals(pid("/s/fprof/profiles", "x.json.pending.42.tmp"), 42);
});

Deno.test("removeStaleTemps() removes a dead process's files and keeps a live one's", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A pid above the kernel's limit cannot be running.
    const dead = 99_999_999;
    await Deno.writeTextFile(join(dir, `r.json.${dead}.tmp`), "");
    await Deno.mkdir(join(dir, `cache-${dead}-x`));
    await Deno.writeTextFile(join(dir, `r.json.${Deno.pid}.tmp`), "");
    await Deno.writeTextFile(join(dir, "r.json"), "{}");
    const removed = await removeStaleTemps(tempPlaces({ own: [dir], env }));
    assertEquals(removed.length, 2);
    const left = (await Array.fromAsync(Deno.readDir(dir), (e) => e.name)).sort();
    assertEquals(left, ["r.json", `r.json.${Deno.pid}.tmp`]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
