import { assertEquals, assertOk } from "../testing.ts";
import {
  cacheFileOf,
  countGenerationPackagesCached,
  decodeContentsCache,
  encodeContentsCache,
  readGenerationContentsCached,
} from "./contents_cache.ts";
import { readGenerationContents } from "./generation.ts";
import { Logger } from "../term/log.ts";
import { Nix } from "../nix/nix.ts";
import { join } from "../path.ts";

const HASH = (i: number) => String(i).padStart(32, "0");

/** A generation directory holding a manifest.json of `count` packages. */
async function fakeGeneration(root: string, name: string, count: number, version = "1.0") {
  const dir = join(root, "store", `${HASH(count)}-${name}`);
  await Deno.mkdir(dir, { recursive: true });
  const elements = Array.from({ length: count }, (_, i) => ({
    active: true,
    storePaths: [`/nix/store/${HASH(i)}-p${i}-${version}`],
  }));
  await Deno.writeTextFile(join(dir, "manifest.json"), JSON.stringify({ version: 2, elements }));
  return dir;
}

/** A profile big enough for the cache to matter. */
const BIG = 1000;

const nix = () => new Nix(new Logger({ color: false, terminal: false }));

Deno.test("readGenerationContentsCached() keeps a big generation's packages and reads them back", async () => {
  await using tmp = await tempDir();
  const gen = await fakeGeneration(tmp.path, "profile", BIG);
  const cacheDir = join(tmp.path, "cache");
  const parsed = await readGenerationContents(nix(), gen);

  assertEquals(await readGenerationContentsCached(nix(), gen, cacheDir), parsed);
  const file = cacheFileOf(cacheDir, gen);
  const bytes = await Deno.readFile(file);
  const identity = {
    file: "manifest.json" as const,
    size: (await Deno.stat(`${gen}/manifest.json`)).size,
  };
  assertEquals(await decodeContentsCache(bytes, gen, identity), parsed);
  assertEquals(await readGenerationContentsCached(nix(), gen, cacheDir), parsed);
  assertEquals(await countGenerationPackagesCached(nix(), gen, cacheDir), BIG);
});

Deno.test("readGenerationContentsCached() writes no cache for an empty generation", async () => {
  await using tmp = await tempDir();
  const gen = await fakeGeneration(tmp.path, "profile", 0);
  const cacheDir = join(tmp.path, "cache");
  assertEquals((await readGenerationContentsCached(nix(), gen, cacheDir)).packages.length, 0);
  assertEquals(await exists(cacheFileOf(cacheDir, gen)), false);
});

Deno.test("a corrupt or foreign cache file never changes what is read", async () => {
  await using tmp = await tempDir();
  const n = BIG;
  const gen = await fakeGeneration(tmp.path, "profile", n);
  // Another generation, of other packages, whose cache file is genuine.
  const other = await fakeGeneration(tmp.path, "other", n + 1, "2.0");
  const cacheDir = join(tmp.path, "cache");
  const truth = await readGenerationContents(nix(), gen);
  const otherContents = await readGenerationContents(nix(), other);
  assertOk(JSON.stringify(otherContents.packages) !== JSON.stringify(truth.packages));
  const identity = {
    file: "manifest.json" as const,
    size: (await Deno.stat(`${gen}/manifest.json`)).size,
  };
  const genuine = await encodeContentsCache(gen, identity, truth);
  const text = new TextDecoder().decode(genuine);
  const newline = text.indexOf("\n");
  const otherFile = await encodeContentsCache(
    other,
    { file: "manifest.json", size: (await Deno.stat(`${other}/manifest.json`)).size },
    otherContents,
  );
  // Each of these would print other packages, or fail, if it were trusted.
  const lies: [string, Uint8Array | string][] = [
    ["empty", ""],
    ["truncated", genuine.subarray(0, genuine.length - 100)],
    ["a changed package name", text.replace('"name":"p7"', '"name":"p8"')],
    ["garbage", "\x00\xff not a cache at all"],
    ["another program's JSON", JSON.stringify({ packages: [] })],
    ["another generation's cache", otherFile],
    [
      "this path's header over another generation's packages",
      text.slice(0, newline + 1) + JSON.stringify(otherContents),
    ],
    ["another format", text.replace('"format":"fprof-generation-contents/1"', '"format":"x/9"')],
    [
      "another manifest size",
      text.replace(`"size":${identity.size}`, `"size":${identity.size + 1}`),
    ],
    ["a changed package count", text.replace(`"packages":${n},`, `"packages":${n + 1},`)],
    [
      "a body that is not a package list, with its own hash",
      new TextDecoder().decode(
        await encodeContentsCache(gen, identity, {
          manifest: "json",
          packages: Array(n).fill({ name: 1 }),
        } as never),
      ),
    ],
  ];
  const write = async (lie: Uint8Array | string) => {
    await Deno.mkdir(cacheDir, { recursive: true });
    await Deno.writeFile(
      cacheFileOf(cacheDir, gen),
      typeof lie === "string" ? new TextEncoder().encode(lie) : lie,
    );
  };
  for (const [what, lie] of lies) {
    await write(lie);
    assertEquals(await countGenerationPackagesCached(nix(), gen, cacheDir), n, what);
    await write(lie);
    assertEquals(await readGenerationContentsCached(nix(), gen, cacheDir), truth, what);
  }
  // And what is left behind afterwards is a genuine cache again.
  const left = await Deno.readFile(cacheFileOf(cacheDir, gen));
  assertOk(left.length === genuine.length && left.every((b, i) => b === genuine[i]));
});

Deno.test("a cache directory that cannot be written only costs the parse", async () => {
  await using tmp = await tempDir();
  const gen = await fakeGeneration(tmp.path, "profile", BIG);
  // A file where the cache directory should be.
  const cacheDir = join(tmp.path, "not-a-dir");
  await Deno.writeTextFile(cacheDir, "");
  const contents = await readGenerationContentsCached(nix(), gen, cacheDir);
  assertEquals(contents.packages.length, BIG);
  assertOk((await Deno.stat(cacheDir)).isFile);
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function tempDir() {
  const path = await Deno.makeTempDir({ prefix: "fprof-cache-test-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
}
