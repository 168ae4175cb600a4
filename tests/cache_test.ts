/**
 * The cache of generations under `$XDG_CACHE_HOME/fprof/generations`, as a
 * user meets it: a switch fills it, `fprof list` keeps its listing there,
 * and nothing found there changes what fprof prints.
 */

import { join } from "node:path";
import { assertEquals, assertOk } from "./helpers/testing.ts";
import { fprofOk } from "./helpers/fprof.ts";
import { makeNixSandbox } from "./helpers/sandbox.ts";
import { A, B, C, profileFlake } from "./helpers/scenario.ts";
import { cacheFileOf, listingCacheFileOf } from "../lib/profile/contents_cache.ts";

for (const manifest of ["nix", "json"]) {
  Deno.test(`switch --manifest=${manifest} caches the new generation, and list its listing`, async () => {
    await using sb = await makeNixSandbox();
    const a = await profileFlake(sb, "a", A);
    await fprofOk(sb, ["switch", `--manifest=${manifest}`, a]);
    const storePath = await Deno.realPath(sb.defaultProfile);
    const cacheDir = join(sb.xdgCache, "fprof", "generations");
    assertOk(
      (await Deno.stat(cacheFileOf(cacheDir, storePath))).isFile,
      "the switch left the generation's contents in the cache",
    );

    const first = await fprofOk(sb, ["list"]);
    assertEquals(first.stdout.split("\n").filter(Boolean).length, A.length);
    const listing = listingCacheFileOf(cacheDir, storePath);
    assertOk((await Deno.stat(listing)).isFile, "list kept its listing");
    assertEquals((await fprofOk(sb, ["list"])).stdout, first.stdout);

    // A listing changed after it was kept is not printed, and another
    // generation's is not either.
    const kept = await Deno.readTextFile(listing);
    const [name] = first.stdout.split(/\s/);
    await Deno.writeTextFile(listing, kept.replace(name, `${name}-changed`));
    assertEquals((await fprofOk(sb, ["list"])).stdout, first.stdout);
    await Deno.writeTextFile(listing, "fprof\n" + first.stdout.replace(name, "other"));
    assertEquals((await fprofOk(sb, ["list"])).stdout, first.stdout);
    // Without any cache, the same again.
    await Deno.remove(cacheDir, { recursive: true });
    assertEquals((await fprofOk(sb, ["list"])).stdout, first.stdout);
  });
}

Deno.test("a switch drops the cache files of generations the collector took", async () => {
  await using sb = await makeNixSandbox();
  const [a, b] = [await profileFlake(sb, "a", A), await profileFlake(sb, "b", B)];
  await fprofOk(sb, ["switch", a]);
  const first = await Deno.realPath(sb.defaultProfile);
  await fprofOk(sb, ["list"]);
  await fprofOk(sb, ["switch", b]);
  const cacheDir = join(sb.xdgCache, "fprof", "generations");
  const firstFiles = [cacheFileOf(cacheDir, first), listingCacheFileOf(cacheDir, first)];
  for (const f of firstFiles) assertOk((await Deno.stat(f)).isFile, f);

  await fprofOk(sb, ["generations", "--delete", "1"]);
  await sb.runOk(["nix-store", "--gc"]);
  await fprofOk(sb, ["switch", await profileFlake(sb, "c", C)]);
  for (const f of firstFiles) {
    assertOk(!(await Deno.stat(f).then(() => true, () => false)), `${f} was left`);
  }
  const current = await Deno.realPath(sb.defaultProfile);
  assertOk((await Deno.stat(cacheFileOf(cacheDir, current))).isFile);
});
