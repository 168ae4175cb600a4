import assert from "node:assert/strict";
import { writeTree } from "./testdata/write_tree.ts";
import { testPathInfo } from "../../tests/helpers/nix_version.ts";
import { IsolatedNix } from "../../manifest/testdata/isolated_nix.ts";
import { type NarNode, serializeNar } from "./nar.ts";
import {
  compressHash,
  fixedOutputCa,
  formatSha256,
  makeFixedOutputPathRecursive,
  makeStorePath,
  narinfoText,
  nix32Decode,
  nix32Encode,
  parseSha256,
  parseStorePath,
  sha256,
} from "./store_path.ts";

const EMPTY_SHA256_HEX = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const EMPTY_SHA256_NIX32 = "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73";
const EMPTY_SHA256_SRI = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

Deno.test("nix32Encode() reads bytes from the end, five bits at a time", async () => {
  assert.equal(nix32Encode(new Uint8Array(0)), "");
  assert.equal(nix32Encode(new Uint8Array([0xff])), "7z");
  assert.equal(nix32Encode(new Uint8Array([1, 0])), "0001");
  assert.equal(nix32Encode(await sha256("")), EMPTY_SHA256_NIX32);
  assert.equal(nix32Encode(new Uint8Array(20)).length, 32);
});

Deno.test("nix32Decode() inverts nix32Encode()", async () => {
  assert.deepEqual(nix32Decode(EMPTY_SHA256_NIX32), await sha256(""));
  for (const size of [1, 5, 20, 32, 64]) {
    const bytes = Uint8Array.from({ length: size }, (_, i) => (i * 37) & 0xff);
    assert.deepEqual(nix32Decode(nix32Encode(bytes)), bytes);
  }
});

Deno.test("nix32Decode() rejects letters outside the alphabet and excess bits", () => {
  assert.throws(() => nix32Decode("e0"), /invalid character 'e'/);
  assert.throws(() => nix32Decode("u0"), /invalid character 'u'/);
  // Two characters carry 10 bits for one byte; the top two must be zero.
  assert.throws(() => nix32Decode("zz"), /excess bits/);
});

Deno.test("compressHash() folds bytes with XOR", async () => {
  assert.deepEqual(
    compressHash(new Uint8Array([1, 2, 4, 8, 16]), 2),
    new Uint8Array([1 ^ 4 ^ 16, 2 ^ 8]),
  );
  assert.equal(compressHash(await sha256(""), 20).length, 20);
});

Deno.test("formatSha256() writes SRI, base-32 and hex forms", async () => {
  const digest = await sha256("");
  assert.equal(formatSha256(digest, "sri"), EMPTY_SHA256_SRI);
  assert.equal(formatSha256(digest, "nix32"), `sha256:${EMPTY_SHA256_NIX32}`);
  assert.equal(formatSha256(digest, "base16"), `sha256:${EMPTY_SHA256_HEX}`);
  assert.throws(() => formatSha256(new Uint8Array(20), "sri"), /32 bytes/);
});

Deno.test("parseSha256() reads every form Nix prints", async () => {
  const digest = await sha256("");
  for (
    const text of [
      EMPTY_SHA256_SRI,
      `sha256:${EMPTY_SHA256_NIX32}`,
      `sha256:${EMPTY_SHA256_HEX}`,
      `sha256:${EMPTY_SHA256_HEX.toUpperCase()}`,
      `sha256:${EMPTY_SHA256_SRI.slice("sha256-".length)}`,
      EMPTY_SHA256_NIX32,
      EMPTY_SHA256_HEX,
    ]
  ) {
    assert.deepEqual(parseSha256(text), digest, text);
  }
});

Deno.test("parseSha256() rejects other algorithms and garbage", () => {
  for (
    const text of [
      "",
      "sha1:0000000000000000000000000000000000000000",
      "sha512-" + "A".repeat(86) + "==",
      "sha256-not base64",
      "sha256-" + btoa("short"),
      EMPTY_SHA256_NIX32.replace("0", "e"),
      EMPTY_SHA256_HEX.slice(1),
    ]
  ) {
    assert.throws(() => parseSha256(text), /is not a SHA-256 hash/, text);
  }
});

Deno.test("parseStorePath() splits any store directory", () => {
  assert.deepEqual(
    parseStorePath("/tmp/x/store/ry3wji0qjghzb55bgp6babkivblpiyim-bar-2.0"),
    {
      storeDir: "/tmp/x/store",
      hashPart: "ry3wji0qjghzb55bgp6babkivblpiyim",
      name: "bar-2.0",
    },
  );
  for (
    const bad of [
      "ry3wji0qjghzb55bgp6babkivblpiyim-bar",
      "/nix/store/ry3wji0qjghzb55bgp6babkivblpiy-bar",
      "/nix/store/ry3wji0qjghzb55bgp6babkivblpiyie-bar",
      "/nix/store/ry3wji0qjghzb55bgp6babkivblpiyim-bar/bin",
      "/nix/store/ry3wji0qjghzb55bgp6babkivblpiyim-",
    ]
  ) {
    assert.throws(() => parseStorePath(bad), /is not a store path/, bad);
  }
});

Deno.test("makeStorePath() matches a path Nix computed", async () => {
  // Nix 2.8 evaluated `builtins.toFile "hello" "hello"`, a "text" path with
  // no references, to these, with the default and a non-standard store dir.
  const hex = formatSha256(await sha256("hello"), "base16").slice("sha256:".length);
  assert.equal(
    await makeStorePath("text", hex, "hello", "/nix/store"),
    "/nix/store/i4f75pn3bxkxdk2kld86k5qazq4cqj8i-hello",
  );
  assert.equal(
    await makeStorePath("text", hex, "hello", "/tmp/fprof-fixtures/store"),
    "/tmp/fprof-fixtures/store/pl6gwnvlxvid5h6r9r91bhp40xjv9xb7-hello",
  );
});

Deno.test("makeStorePath() rejects names and store dirs Nix rejects", async () => {
  const hex = EMPTY_SHA256_HEX;
  for (const name of ["", ".hidden", "a b", "a/b", "x".repeat(212)]) {
    await assert.rejects(
      () => makeStorePath("source", hex, name, "/nix/store"),
      /Invalid store path name/,
      name,
    );
  }
  await assert.rejects(
    () => makeStorePath("source", hex, "ok", "nix/store"),
    /Invalid store directory/,
  );
  await assert.rejects(
    () => makeStorePath("source", hex, "ok", "/nix/store/"),
    /Invalid store directory/,
  );
});

Deno.test("makeFixedOutputPathRecursive() sorts and dedupes references", async () => {
  const a = "/nix/store/ry3wji0qjghzb55bgp6babkivblpiyim-a";
  const b = "/nix/store/0y4l9l3wv2jfzs4px4ag7r5cwz1xji76-b";
  const digest = await sha256("nar");
  const path = await makeFixedOutputPathRecursive(
    digest,
    "profile",
    [a, b],
    "/nix/store",
  );
  assert.equal(
    await makeFixedOutputPathRecursive(digest, "profile", [b, a, a], "/nix/store"),
    path,
  );
  assert.equal(
    await makeFixedOutputPathRecursive(
      formatSha256(digest, "sri"),
      "profile",
      [a, b],
      "/nix/store",
    ),
    path,
  );
  const hex = formatSha256(digest, "base16").slice("sha256:".length);
  assert.equal(
    await makeStorePath(`source:${b}:${a}`, hex, "profile", "/nix/store"),
    path,
  );
  assert.notEqual(
    await makeFixedOutputPathRecursive(digest, "profile", [a], "/nix/store"),
    path,
  );
  await assert.rejects(
    () => makeFixedOutputPathRecursive(digest, "profile", ["/x"], "/nix/store"),
    /is not a store path/,
  );
});

Deno.test("fixedOutputCa() writes the fixed:r:sha256 form", async () => {
  assert.equal(
    fixedOutputCa(await sha256("")),
    `fixed:r:sha256:${EMPTY_SHA256_NIX32}`,
  );
  assert.equal(
    fixedOutputCa(EMPTY_SHA256_SRI),
    `fixed:r:sha256:${EMPTY_SHA256_NIX32}`,
  );
});

Deno.test("narinfoText() writes the fields Nix reads, in Nix's order", async () => {
  const text = narinfoText({
    storePath: "/nix/store/mp0x6xnsg0b8qhswy6riqvimai4gm677-profile",
    url: "nar/x.nar",
    narHash: EMPTY_SHA256_SRI,
    narSize: 1234,
    references: [
      "/nix/store/ry3wji0qjghzb55bgp6babkivblpiyim-b",
      "0y4l9l3wv2jfzs4px4ag7r5cwz1xji76-a",
    ],
    ca: fixedOutputCa(EMPTY_SHA256_SRI),
  });
  assert.equal(
    text,
    [
      "StorePath: /nix/store/mp0x6xnsg0b8qhswy6riqvimai4gm677-profile",
      "URL: nar/x.nar",
      "Compression: none",
      `NarHash: sha256:${EMPTY_SHA256_NIX32}`,
      "NarSize: 1234",
      "References: 0y4l9l3wv2jfzs4px4ag7r5cwz1xji76-a ry3wji0qjghzb55bgp6babkivblpiyim-b",
      `CA: fixed:r:sha256:${EMPTY_SHA256_NIX32}`,
      "",
    ].join("\n"),
  );
  const noRefs = narinfoText({
    storePath: "/nix/store/mp0x6xnsg0b8qhswy6riqvimai4gm677-x",
    url: "nar/x.nar",
    narHash: await sha256(""),
    narSize: 8,
    references: [],
  });
  assert.match(noRefs, /\nReferences: \n$/);
  assert.throws(
    () => narinfoText({ ...JSON.parse("{}"), storePath: "x" }),
    /is not a store path/,
  );
});

// ---------------------------------------------------------------------------
// Against the real Nix, in a throwaway store.

const helloScript = encoder.encode("#!/bin/sh\necho hello\n");

Deno.test("NAR hash and fixed-output path agree with nix-hash and nix-store --add-fixed", async () => {
  await using nix = await IsolatedNix.create();
  const tree: NarNode = {
    type: "directory",
    entries: {
      bin: {
        type: "directory",
        entries: {
          hello: { type: "regular", contents: helloScript, executable: true },
        },
      },
      link: { type: "symlink", target: "bin/hello" },
    },
  };
  const dir = `${nix.root}/hello-1.0`;
  await writeTree(dir, tree);
  const digest = await sha256(serializeNar(tree));

  const nixHash = (await nix.run(
    "nix-hash",
    "--type",
    "sha256",
    "--base32",
    dir,
  )).trim();
  assert.equal(`sha256:${nixHash}`, formatSha256(digest, "nix32"));
  const sri = (await nix.run("nix", "hash", "path", dir)).trim();
  assert.equal(sri, formatSha256(digest, "sri"));

  const added = (await nix.run(
    "nix-store",
    "--add-fixed",
    "--recursive",
    "sha256",
    dir,
  )).trim();
  assert.equal(
    await makeFixedOutputPathRecursive(digest, "hello-1.0", [], nix.storeDir),
    added,
  );
});

Deno.test("makeFixedOutputPathRecursive() gives the path of a nix profile generation", async () => {
  await using nix = await IsolatedNix.create();
  const flake = `${nix.root}/flake`;
  await Deno.mkdir(flake);
  const system = `${Deno.build.arch}-${Deno.build.os}`;
  await Deno.writeTextFile(
    `${flake}/flake.nix`,
    `{
  outputs = { self }: {
    packages.${system}.hello = derivation {
      name = "hello-1.0";
      system = "${system}";
      builder = "/bin/sh";
      args = [ "-c" "/bin/mkdir -p $out/bin && /bin/echo hi > $out/bin/hello" ];
    };
  };
}
`,
  );
  const profile = `${nix.root}/profile`;
  await nix.run(
    "nix",
    "profile",
    "install",
    "--profile",
    profile,
    `path:${flake}#hello`,
  );
  const generation = await Deno.realPath(profile);
  const nar = await nix.runBytes("nix-store", "--dump", generation);
  const references = (await nix.run(
    "nix-store",
    "--query",
    "--references",
    generation,
  )).trim().split("\n");
  assert.equal(references.length, 1);
  assert.equal(
    await makeFixedOutputPathRecursive(
      await sha256(nar),
      "profile",
      references,
      nix.storeDir,
    ),
    generation,
  );
});

Deno.test("a hand-made profile path with references is accepted by nix copy from a file:// cache", async () => {
  await using nix = await IsolatedNix.create();

  // The package the profile refers to, already valid in the store.
  const pkgDir = `${nix.root}/hello-1.0`;
  await writeTree(pkgDir, {
    type: "directory",
    entries: {
      bin: {
        type: "directory",
        entries: {
          hello: { type: "regular", contents: helloScript, executable: true },
        },
      },
    },
  });
  const pkg = (await nix.run(
    "nix-store",
    "--add-fixed",
    "--recursive",
    "sha256",
    pkgDir,
  )).trim();

  // The generation: a symlink into the package plus a manifest naming it.
  const manifest = JSON.stringify({
    elements: [{ active: true, priority: 5, storePaths: [pkg] }],
    version: 2,
  });
  const tree: NarNode = {
    type: "directory",
    entries: {
      bin: { type: "symlink", target: `${pkg}/bin` },
      "manifest.json": { type: "regular", contents: encoder.encode(manifest) },
    },
  };
  const nar = serializeNar(tree);
  const digest = await sha256(nar);
  const path = await makeFixedOutputPathRecursive(
    digest,
    "profile",
    [pkg],
    nix.storeDir,
  );

  // A file:// binary cache holding the new path, and a .narinfo for every
  // path of its references' closure (nix copy walks the closure in the source).
  const cache = `${nix.root}/cache`;
  await Deno.mkdir(`${cache}/nar`, { recursive: true });
  await Deno.writeTextFile(
    `${cache}/nix-cache-info`,
    `StoreDir: ${nix.storeDir}\nWantMassQuery: 1\nPriority: 30\n`,
  );
  const narFile = `nar/${nix32Encode(digest)}.nar`;
  await Deno.writeFile(`${cache}/${narFile}`, nar);
  await Deno.writeTextFile(
    `${cache}/${parseStorePath(path).hashPart}.narinfo`,
    narinfoText({
      storePath: path,
      url: narFile,
      narHash: digest,
      narSize: nar.length,
      references: [pkg],
      ca: fixedOutputCa(digest),
    }),
  );
  const run = ([program, ...args]: string[]) => nix.run(program, ...args);
  const infos = await testPathInfo(run, ["--recursive"], [pkg]);
  for (const info of infos) {
    await Deno.writeTextFile(
      `${cache}/${parseStorePath(info.path).hashPart}.narinfo`,
      narinfoText({
        storePath: info.path,
        url: `nar/${parseStorePath(info.path).hashPart}.nar`,
        narHash: info.narHash,
        narSize: info.narSize,
        references: info.references,
      }),
    );
  }

  await nix.run("nix", "copy", "--from", `file://${cache}`, path);

  assert.equal((await nix.run("nix", "path-info", path)).trim(), path);
  assert.equal(
    (await nix.run("nix-store", "--query", "--references", path)).trim(),
    pkg,
  );
  const [info] = await testPathInfo(run, [], [path]);
  assert.equal(info.ca, fixedOutputCa(digest));
  assert.equal(
    decoder.decode(await Deno.readFile(`${path}/manifest.json`)),
    manifest,
  );
  assert.equal(await Deno.readLink(`${path}/bin`), `${pkg}/bin`);
});
