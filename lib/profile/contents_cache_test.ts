import { assertEquals, assertOk } from "../../tests/helpers/testing.ts";
import {
  cacheFileOf,
  countGenerationPackagesCached,
  decodeContentsCache,
  encodeContentsCache,
  keepListing,
  keepProvided,
  listingCacheFileOf,
  pruneContentsCache,
  readGenerationContentsCached,
  readListingCached,
  readProvidedCached,
} from "./contents_cache.ts";
import { readGenerationContents } from "./generation.ts";
import { Logger } from "../log/log.ts";
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

Deno.test("keepListing() keeps a listing that readListingCached() prints back, in its format only", async () => {
  await using tmp = await tempDir();
  const gen = await fakeGeneration(tmp.path, "profile", BIG);
  const cacheDir = join(tmp.path, "cache");
  const text = "p0  1.0\np1  1.0\n";
  assertEquals(await readListingCached(gen, cacheDir, "list/1"), null);
  await keepListing(log(), gen, cacheDir, "list/1", BIG, text);
  assertEquals(await readListingCached(gen, cacheDir, "list/1"), text);
  // Made by other code (another fprof), it is not this code's listing.
  assertEquals(await readListingCached(gen, cacheDir, "list/2"), null);
  // Nor is it another generation's.
  const other = await fakeGeneration(tmp.path, "other", BIG + 1);
  assertEquals(await readListingCached(other, cacheDir, "list/1"), null);
});

Deno.test("keepListing() keeps nothing for an empty generation", async () => {
  await using tmp = await tempDir();
  const gen = await fakeGeneration(tmp.path, "profile", 0);
  const cacheDir = join(tmp.path, "cache");
  await keepListing(log(), gen, cacheDir, "list/1", 0, "");
  assertEquals(await exists(listingCacheFileOf(cacheDir, gen)), false);
});

Deno.test("a corrupt or foreign listing file is never printed", async () => {
  await using tmp = await tempDir();
  const gen = await fakeGeneration(tmp.path, "profile", BIG);
  const other = await fakeGeneration(tmp.path, "other", BIG + 1);
  const cacheDir = join(tmp.path, "cache");
  const file = listingCacheFileOf(cacheDir, gen);
  const text = "p0  1.0\np1  1.0\n";
  await keepListing(log(), other, cacheDir, "list/1", BIG + 1, "q0  2.0\n");
  const othersFile = await Deno.readTextFile(listingCacheFileOf(cacheDir, other));
  await keepListing(log(), gen, cacheDir, "list/1", BIG, text);
  const genuine = await Deno.readTextFile(file);
  const lies: [string, string][] = [
    ["empty", ""],
    ["truncated", genuine.slice(0, -3)],
    ["a changed line", genuine.replace("p1  1.0", "p9  1.0")],
    ["a line added", genuine + "p2  1.0\n"],
    ["garbage", "\x00\xff not a cache at all"],
    ["only the text", text],
    ["another generation's listing", othersFile],
    ["another manifest size", genuine.replace(/"size":(\d+)/, (_, n) => `"size":${Number(n) + 1}`)],
  ];
  for (const [what, lie] of lies) {
    await Deno.writeTextFile(file, lie);
    assertEquals(await readListingCached(gen, cacheDir, "list/1"), null, what);
  }
});

Deno.test("pruneContentsCache() removes the files of collected store paths only", async () => {
  await using tmp = await tempDir();
  const kept = await fakeGeneration(tmp.path, "profile", BIG);
  const gone = await fakeGeneration(tmp.path, "gone", BIG + 1);
  const cacheDir = join(tmp.path, "cache");
  await readGenerationContentsCached(nix(), kept, cacheDir);
  await readGenerationContentsCached(nix(), gone, cacheDir);
  await keepListing(log(), kept, cacheDir, "list/1", BIG, "p0  1.0\n");
  await keepListing(log(), gone, cacheDir, "list/1", BIG + 1, "p0  1.0\n");
  const writing = `${cacheFileOf(cacheDir, gone)}.123.tmp`;
  await Deno.writeTextFile(writing, "");
  await Deno.remove(gone, { recursive: true });

  assertEquals(await pruneContentsCache(log(), cacheDir, join(tmp.path, "store")), 2);
  const left = (await Array.fromAsync(Deno.readDir(cacheDir))).map((e) => e.name).sort();
  assertEquals(
    left,
    [
      cacheFileOf(cacheDir, kept).split("/").pop(),
      writing.split("/").pop(),
      listingCacheFileOf(cacheDir, kept).split("/").pop(),
    ].sort(),
  );
  // Nothing to prune, and no cache at all, are both fine.
  assertEquals(await pruneContentsCache(log(), cacheDir, join(tmp.path, "store")), 0);
  assertEquals(await pruneContentsCache(log(), join(tmp.path, "none"), tmp.path), 0);
});

const log = () => new Logger({ color: false, terminal: false });

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

Deno.test({
  name: "a cache file another user owns, or anyone may write, is never read, however well formed",
  ignore: Deno.uid() !== 0,
  async fn() {
    await using tmp = await tempDir();
    const gen = await fakeGeneration(tmp.path, "profile", BIG);
    const cacheDir = join(tmp.path, "cache");
    const truth = await readGenerationContents(nix(), gen);
    await readGenerationContentsCached(nix(), gen, cacheDir);
    // A forged list, with a valid header and check, under the real name.
    const identity = {
      file: "manifest.json" as const,
      size: (await Deno.stat(`${gen}/manifest.json`)).size,
    };
    const forged = { ...truth, packages: truth.packages.map((p) => ({ ...p, name: "forged" })) };
    const file = cacheFileOf(cacheDir, gen);
    await Deno.writeFile(file, await encodeContentsCache(gen, identity, forged));
    // Written by this user, it is read: the check alone cannot tell.
    assertEquals(
      (await readGenerationContentsCached(nix(), gen, cacheDir)).packages[0].name,
      "forged",
    );
    await Deno.chown(file, 65534, 65534);
    assertEquals(await readGenerationContentsCached(nix(), gen, cacheDir), truth);
    await Deno.writeFile(file, await encodeContentsCache(gen, identity, forged), { mode: 0o666 });
    await Deno.chown(file, 0, 0);
    await Deno.chmod(file, 0o666);
    assertEquals(await readGenerationContentsCached(nix(), gen, cacheDir), truth);
  },
});

Deno.test("readProvidedCached() gives back what keepProvided() kept, for that profile only", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "provided", "p.json");
    const provided = new Map([
      [`/nix/store/${HASH(1)}-hello-1.0`, ["bin/hello", "share/man/man1/hello.1.gz"]],
      [`/nix/store/${HASH(2)}-jq-1.7`, []],
    ]);
    await keepProvided(new Logger(), file, "/p/profile", provided, "/nix/store");
    const known = await readProvidedCached(file, "/p/profile", "/nix/store");
    for (const [path, files] of provided) assertEquals(known?.(path), files);
    assertEquals(known?.(`/nix/store/${HASH(3)}-other`), undefined);
    assertEquals(known?.(`/elsewhere/${HASH(1)}-hello-1.0`), undefined);
    assertEquals(await readProvidedCached(file, "/p/other", "/nix/store"), null);
    const text = await Deno.readTextFile(file);
    await Deno.writeTextFile(file, text.replace("bin/hello", "bin/hallo"));
    assertEquals(await readProvidedCached(file, "/p/profile", "/nix/store"), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
