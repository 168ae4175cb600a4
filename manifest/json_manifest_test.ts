import assert from "node:assert/strict";
import { ManifestError, ManifestSyntaxError, UnsupportedManifestVersionError } from "./errors.ts";
import {
  elementName,
  nameFromFlakeRef,
  parseManifestJson,
  printManifestJson,
} from "./json_manifest.ts";
import { addFakePackage, IsolatedNix } from "./testdata/isolated_nix.ts";
import type { ProfilePackage } from "./types.ts";
import { nixAtLeast } from "../lib/nix/nix.ts";
import { nixAtLeastTest, onlyOnNix } from "../tests/helpers/nix_version.ts";

// deno-lint-ignore no-control-regex
const stripAnsi = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, "");

const testdata = new URL("./testdata/", import.meta.url);
const readFixture = (name: string) => Deno.readTextFileSync(new URL(name, testdata));

const HELLO = "/nix/store/g9r346p3d25vs4g5v37f3r3f28js97kb-hello-2.12.1";
const HELLO_OLD = "/nix/store/kcp643dzvlxxpkgbg5kzmwj47sam9zs2-hello-2.12";
const RIPGREP = "/nix/store/5lmnzx45iy43kwjqn1xna7z3dj8grrz5-ripgrep-13.0.0";
const TOOLS = "/nix/store/wwri8visnqf95b9ff0zbhj09spl83xrr-tools-1.0";
const TOOLS_MAN = "/nix/store/0r6yr3c4dwa7m36096p14dq9hnpy77zx-tools-1.0-man";
const GAME = "/nix/store/byk596mhya1dp91k5hpanfmfcgrfczn1-2048-in-terminal-0.1";
const NIXPKGS = "github:NixOS/nixpkgs/0ef56bec7281e2372338f2dfe7c13327ce96f6bb";

const hello = (extra: Partial<ProfilePackage> = {}): ProfilePackage => ({
  name: "hello",
  version: "2.12.1",
  storePaths: [HELLO],
  active: true,
  source: NIXPKGS,
  originalSource: "flake:nixpkgs",
  attrPath: "legacyPackages.x86_64-linux.hello",
  ...extra,
});

const ripgrep = (extra: Partial<ProfilePackage> = {}): ProfilePackage => ({
  name: "ripgrep",
  version: "13.0.0",
  storePaths: [RIPGREP],
  active: true,
  ...extra,
});

const tools = (extra: Partial<ProfilePackage> = {}): ProfilePackage => ({
  name: "tools",
  version: "1.0",
  storePaths: [TOOLS, TOOLS_MAN],
  active: true,
  priority: 4,
  source: "git+file:///home/me/tools?rev=5c3d2ad3a1e1c3b7e0f1f5a6d7c8b9a0e1f2a3b4&revCount=12",
  originalSource: "git+file:///home/me/tools",
  attrPath: "packages.x86_64-linux.default",
  outputsSpec: ["man", "out"],
  ...extra,
});

const V3_PACKAGES: ProfilePackage[] = [
  {
    name: "2048-in-terminal",
    version: "0.1",
    storePaths: [GAME],
    active: true,
    priority: 5,
    source:
      "path:/home/me/src/2048?lastModified=1700000000&narHash=sha256-47DEQpj8HBSa%2b/TImW%2b5JCeuQeRkm5NMpJWZG3hSuFU%3d",
    originalSource: "path:/home/me/src/2048",
    attrPath: "packages.x86_64-linux.default",
    elementName: "2048",
  },
  hello({ priority: 5, elementName: "hello" }),
  {
    name: "hello",
    version: "2.12",
    storePaths: [HELLO_OLD],
    active: false,
    priority: 6,
    source: "github:NixOS/nixpkgs/9a333eaa80901efe01df07eade2c16d183761fa3",
    originalSource: "github:NixOS/nixpkgs/nixos-23.11",
    attrPath: "legacyPackages.x86_64-linux.hello",
    outputsSpec: ["*"],
    elementName: "hello-1",
  },
  ripgrep({ priority: 5, elementName: "ripgrep" }),
  tools({ elementName: "tools" }),
];

Deno.test("parseManifestJson() reads version 1 (Nix 2.4-2.7)", () => {
  assert.deepEqual(parseManifestJson(readFixture("manifest-v1.json.golden")), [
    hello(),
    ripgrep({ active: false }),
  ]);
});

Deno.test("parseManifestJson() reads version 2 as Nix 2.8 writes it", () => {
  assert.deepEqual(
    parseManifestJson(readFixture("manifest-v2-nix2.8.json.golden")),
    [hello(), ripgrep()],
  );
});

Deno.test("parseManifestJson() reads version 2 as Nix 2.9-2.19 write it", () => {
  assert.deepEqual(
    parseManifestJson(readFixture("manifest-v2-nix2.9.json.golden")),
    [hello({ priority: 5 }), tools(), ripgrep({ active: false, priority: 5 })],
  );
});

Deno.test("parseManifestJson() reads version 3 (Nix 2.20+) with element names", () => {
  assert.deepEqual(
    parseManifestJson(readFixture("manifest-v3.json.golden")),
    V3_PACKAGES,
  );
});

Deno.test("parseManifestJson() reads what nix profile install of Nix 2.8 wrote", () => {
  const text = readFixture("nix-profile-2.8.manifest.json.golden");
  const pkgs = parseManifestJson(text);
  assert.deepEqual(
    pkgs.map((p) => [p.name, p.version, p.active, p.attrPath]),
    [
      ["foo", "1.0", true, "packages.x86_64-linux.foo"],
      ["bar-baz", "2.0.1", true, "packages.x86_64-linux.bar"],
    ],
  );
  // `nix profile list` of the same profile: index, original#attr,
  // locked#attr, store paths.
  const listed = readFixture("nix-profile-2.8.list.txt").trimEnd().split("\n");
  assert.deepEqual(
    listed,
    pkgs.map((p, i) =>
      `${i} ${p.originalSource}#${p.attrPath} ${p.source}#${p.attrPath} ${p.storePaths.join(" ")}`
    ),
  );
});

Deno.test("printManifestJson() writes version 2 byte for byte as Nix 2.8 does", () => {
  for (
    const fixture of [
      "manifest-v2-nix2.8.json.golden",
      "nix-profile-2.8.manifest.json.golden",
    ]
  ) {
    const text = readFixture(fixture);
    assert.equal(
      printManifestJson(parseManifestJson(text), 2, {
        withPriorityAndOutputs: false,
      }),
      text,
      fixture,
    );
  }
});

Deno.test("printManifestJson() writes version 2 byte for byte as Nix 2.9-2.19 do", () => {
  const text = readFixture("manifest-v2-nix2.9.json.golden");
  assert.equal(printManifestJson(parseManifestJson(text), 2), text);
});

Deno.test("printManifestJson() writes version 3 byte for byte as Nix 2.20+ does", () => {
  const text = readFixture("manifest-v3.json.golden");
  assert.equal(printManifestJson(parseManifestJson(text), 3), text);
});

Deno.test("printManifestJson() names version 3 elements as Nix does, with -1 on a clash", () => {
  const text = readFixture("manifest-v3.json.golden");
  const unnamed = parseManifestJson(text).map(({ elementName: _, ...p }) => p);
  assert.equal(printManifestJson(unnamed, 3), text);
});

Deno.test("printManifestJson() makes clashing names unique in package order", () => {
  const rg14 = "/nix/store/kcp643dzvlxxpkgbg5kzmwj47sam9zs2-ripgrep-14.0";
  const rg15 = "/nix/store/0r6yr3c4dwa7m36096p14dq9hnpy77zx-ripgrep-15.0";
  const names = (pkgs: ProfilePackage[]) =>
    parseManifestJson(printManifestJson(pkgs, 3)).map((p) => [
      p.elementName,
      p.storePaths[0],
    ]);
  assert.deepEqual(
    names([
      ripgrep(),
      ripgrep({ storePaths: [rg14] }),
      ripgrep({ storePaths: [rg15], elementName: "ripgrep-1" }),
    ]),
    [
      ["ripgrep", RIPGREP],
      ["ripgrep-1", rg14],
      ["ripgrep-1-1", rg15],
    ],
  );
});

Deno.test("printManifestJson() sorts version 3 keys bytewise, integer-like ones too", () => {
  const text = printManifestJson([
    ripgrep({ elementName: "9" }),
    ripgrep({ elementName: "10", storePaths: [HELLO] }),
  ], 3);
  assert.ok(text.startsWith('{"elements":{"10":'), text);
  assert.deepEqual(
    parseManifestJson(text).map((p) => p.elementName),
    ["10", "9"],
  );
});

Deno.test("printManifestJson() writes flake fields only for packages with a source", () => {
  const text = printManifestJson([
    ripgrep({ attrPath: "ignored", originalSource: "ignored" }),
  ], 2);
  assert.equal(
    text,
    `{"elements":[{"active":true,"priority":5,"storePaths":["${RIPGREP}"]}],"version":2}`,
  );
  const withSource = printManifestJson([ripgrep({ source: "flake:x" })], 2);
  assert.equal(
    withSource,
    `{"elements":[{"active":true,"attrPath":"","originalUrl":"flake:x",` +
      `"outputs":null,"priority":5,"storePaths":["${RIPGREP}"],"url":"flake:x"}],"version":2}`,
  );
});

Deno.test("printManifestJson() sorts and dedupes store paths, and is deterministic", () => {
  const pkg = tools({ storePaths: [TOOLS, TOOLS_MAN, TOOLS] });
  const text = printManifestJson([pkg], 2);
  assert.ok(text.includes(`"storePaths":["${TOOLS_MAN}","${TOOLS}"]`), text);
  assert.equal(printManifestJson([pkg], 2), text);
  // Parsing puts the default output first again.
  assert.deepEqual(parseManifestJson(text)[0].storePaths, [TOOLS, TOOLS_MAN]);
});

Deno.test("printManifestJson() output parses back to the same packages", () => {
  const v2 = [hello({ priority: 5 }), tools(), ripgrep({ priority: -3 })];
  assert.deepEqual(parseManifestJson(printManifestJson(v2, 2)), v2);
  assert.deepEqual(
    parseManifestJson(printManifestJson(V3_PACKAGES, 3)),
    V3_PACKAGES,
  );
  const unicode = ripgrep({
    priority: 5,
    source: 'path:/home/me/flakes/"grüße"\n\u0001',
    originalSource: "path:/home/me/flakes/\u{1F600}",
    attrPath: "packages.x86_64-linux.a\\b",
  });
  assert.deepEqual(
    parseManifestJson(printManifestJson([unicode], 2)),
    [unicode],
  );
});

Deno.test("printManifestJson() refuses what Nix could not read", () => {
  assert.throws(
    () => printManifestJson([ripgrep({ storePaths: ["/usr/bin/rg"] })], 2),
    (e: unknown) => e instanceof ManifestError && /invalid store path/.test(e.message),
  );
  assert.throws(
    () => printManifestJson([ripgrep({ priority: 2.5 })], 3),
    (e: unknown) => e instanceof ManifestError && /non-integer priority/.test(e.message),
  );
  assert.throws(
    () => printManifestJson([], 4 as 3),
    (e: unknown) => e instanceof ManifestError && /unsupported version 4/.test(e.message),
  );
});

Deno.test("parseManifestJson() rejects unsupported versions with Nix's message", () => {
  for (
    const [text, version] of [
      ['{"elements":[],"version":4}', 4],
      ['{"elements":[]}', 0],
      ['{"version":-1}', -1],
    ] as const
  ) {
    assert.throws(
      () => parseManifestJson(text),
      (e: unknown) =>
        e instanceof UnsupportedManifestVersionError &&
        e instanceof ManifestError && e.version === version &&
        e.message === `profile manifest has unsupported version ${version}`,
      text,
    );
  }
});

Deno.test("parseManifestJson() reports where the JSON is corrupt", () => {
  assert.throws(
    () => parseManifestJson('{"version":2,\n"elements" []}'),
    (e: unknown) =>
      e instanceof ManifestSyntaxError && e.line === 2 && e.column === 12 &&
      e.message.startsWith("Cannot parse manifest.json: ") &&
      e.message.endsWith(" at line 2, column 12"),
  );
  assert.throws(
    () => parseManifestJson('{"version":2,\n"elem'),
    (e: unknown) => e instanceof ManifestSyntaxError && e.line === 2 && e.column === 6,
  );
});

Deno.test("parseManifestJson() fails cleanly on any truncation of a manifest", () => {
  const text = readFixture("manifest-v3.json.golden");
  for (let end = 0; end < text.length; end++) {
    assert.throws(
      () => parseManifestJson(text.slice(0, end)),
      ManifestSyntaxError,
      `truncated at ${end}`,
    );
  }
});

Deno.test("parseManifestJson() rejects fields of the wrong type", () => {
  const el = (fields: string) =>
    `{"version":2,"elements":[{"storePaths":["${RIPGREP}"],${fields}}]}`;
  const cases = [
    "null",
    "[]",
    '"manifest"',
    '{"version":"2","elements":[]}',
    '{"version":2.5,"elements":[]}',
    '{"version":2,"elements":"none"}',
    '{"version":2,"elements":[null]}',
    '{"version":2,"elements":[{"storePaths":[]}]}',
    '{"version":2,"elements":[{"active":"true","storePaths":[]}]}',
    '{"version":2,"elements":[{"active":true,"storePaths":"x"}]}',
    '{"version":2,"elements":[{"active":true,"storePaths":["/usr/bin/rg"]}]}',
    '{"version":2,"elements":[{"active":true,"storePaths":[1]}]}',
    el('"active":true,"priority":"5"'),
    el('"active":true,"priority":1.5'),
    el('"active":true,"url":"flake:x","attrPath":"a"'),
    el('"active":true,"url":"flake:x","originalUrl":"flake:x"'),
    el(
      '"active":true,"url":"flake:x","originalUrl":"flake:x","attrPath":"a","outputs":"out"',
    ),
    el(
      '"active":true,"url":"flake:x","originalUrl":"flake:x","attrPath":"a","outputs":[1]',
    ),
    '{"version":3,"elements":{"x":[]}}',
  ];
  for (const text of cases) {
    assert.throws(() => parseManifestJson(text), ManifestSyntaxError, text);
  }
});

Deno.test("parseManifestJson() reads the flake fields only when the URL is non-empty", () => {
  const [pkg] = parseManifestJson(
    `{"version":2,"elements":[{"active":true,"storePaths":["${RIPGREP}"],` +
      `"url":"","originalUrl":5,"attrPath":"x","outputs":"junk"}]}`,
  );
  assert.deepEqual(pkg, ripgrep());
  const [v1] = parseManifestJson(
    `{"version":1,"elements":[{"active":true,"storePaths":["${RIPGREP}"],` +
      `"url":"flake:ignored-in-v1"}]}`,
  );
  assert.deepEqual(v1, ripgrep());
});

Deno.test("parseManifestJson() accepts what Nix accepts: no elements, empty store paths", () => {
  assert.deepEqual(parseManifestJson('{"version":2}'), []);
  assert.deepEqual(parseManifestJson('{"version":3,"elements":{}}'), []);
  assert.deepEqual(
    parseManifestJson('{"version":2,"elements":[{"active":false}]}'),
    [{ name: "", version: "", storePaths: [], active: false }],
  );
});

Deno.test("elementName() names flake elements by attribute and others by package", () => {
  assert.equal(elementName(hello()), "hello");
  assert.equal(elementName(tools()), "tools");
  assert.equal(elementName(ripgrep()), "ripgrep");
  assert.equal(
    elementName({
      name: "a",
      version: "",
      storePaths: [TOOLS_MAN, RIPGREP, TOOLS],
    }),
    "ripgrep, tools",
  );
  assert.equal(
    elementName(ripgrep({
      source: "flake:nixpkgs",
      attrPath: "packages.x86_64-linux.default",
    })),
    "flake:nixpkgs#packages.x86_64-linux.default",
  );
});

Deno.test("nameFromFlakeRef() picks names as Nix's getNameFromURL does", () => {
  const cases: [string, string | undefined][] = [
    [
      "github:NixOS/nixpkgs/nixos-23.11#legacyPackages.x86_64-linux.hello",
      "hello",
    ],
    ["github:NixOS/nixpkgs#hello^out,man", "hello"],
    ["flake:nixpkgs#hello", "hello"],
    ["path:/home/me/flake#packages.x86_64-linux.my-tool", "my-tool"],
    ["github:owner/repo#packages.x86_64-linux.default", "repo"],
    ["github:owner/repo/branch#defaultPackage.x86_64-linux", "repo"],
    ["git+file:///home/me/tools#packages.x86_64-linux.default", "tools"],
    ["git+https://example.org/me/tools#default", "tools"],
    ["git+https://example.org/me/tools.git#default", undefined],
    ["path:/home/me/dotfiles?dir=sub#packages.x86_64-linux.default", "sub"],
    ["path:/home/me/dotfiles?dir=sub#packages.x86_64-linux.hello", "sub"],
    ["path:/home/me/dotfiles#packages.x86_64-linux.default", "dotfiles"],
    ["flake:nixpkgs#packages.x86_64-linux.default", undefined],
    ["github:NixOS/nixpkgs#%68ello", "hello"],
    ["not a url", undefined],
  ];
  for (const [ref, name] of cases) {
    assert.equal(nameFromFlakeRef(ref), name, ref);
  }
});

Deno.test("Nix reads and rewrites a printed version 2 manifest.json", async () => {
  await using nix = await IsolatedNix.create();
  const foo = await addFakePackage(nix, "foo-1.0");
  const bar = await addFakePackage(nix, "bar-2.0");
  const pkgs: ProfilePackage[] = [
    {
      name: "foo",
      version: "1.0",
      storePaths: [foo],
      source: NIXPKGS,
      originalSource: "flake:nixpkgs",
      attrPath: "legacyPackages.x86_64-linux.foo",
    },
    { name: "bar", version: "2.0", storePaths: [bar], priority: 3 },
  ];
  // Up to 2.16 one line per element, named by index; from 2.20 blocks,
  // named by element name (2.17–2.19 are not run here).
  const byName = nixAtLeastTest(2, 20);
  const listing = byName
    ? `Name:               bar\nStore paths:        ${bar}\n\n` +
      `Name:               foo\nFlake attribute:    legacyPackages.x86_64-linux.foo\n` +
      `Original flake URL: flake:nixpkgs\nLocked flake URL:   ${NIXPKGS}\n` +
      `Store paths:        ${foo}\n`
    : `0 flake:nixpkgs#legacyPackages.x86_64-linux.foo ${NIXPKGS}#legacyPackages.x86_64-linux.foo ${foo}\n` +
      `1 - - ${bar}\n`;
  for (const withPriorityAndOutputs of [false, true]) {
    const gen = await Deno.makeTempDir({ dir: nix.root });
    await Deno.writeTextFile(
      `${gen}/manifest.json`,
      printManifestJson(pkgs, 2, { withPriorityAndOutputs }),
    );
    const genPath = (await nix.run(
      "nix-store",
      "--add-fixed",
      "--recursive",
      "sha256",
      gen,
    )).trim();
    const profile = `${nix.root}/profile-${withPriorityAndOutputs}`;
    await nix.run("nix-env", "-p", profile, "--set", genPath);
    assert.equal(
      stripAnsi(await nix.run("nix", "profile", "list", "--profile", profile)),
      listing,
    );
    // Removing an element makes Nix rebuild the profile from our manifest.
    await nix.run("nix", "profile", "remove", "--profile", profile, byName ? "foo" : "0");
    const rewritten = parseManifestJson(
      await Deno.readTextFile(`${profile}/manifest.json`),
    );
    // Nix 2.9 and later write every priority, the default 5 included, and
    // 2.20 and later key the element by its name.
    const kept = nixAtLeastTest(2, 9) ? { priority: withPriorityAndOutputs ? 3 : 5 } : {};
    const named = nixAtLeastTest(2, 20) ? { elementName: "bar" } : {};
    assert.deepEqual(rewritten, [
      { name: "bar", version: "2.0", storePaths: [bar], active: true, ...kept, ...named },
    ]);
  }
});

Deno.test({
  name: "Nix 2.19 and older (2.8 here) refuse a version 3 manifest.json",
  ignore: onlyOnNix((v) => !nixAtLeast(v, 2, 20), "Nix 2.20 and later read version 3"),
}, async () => {
  await using nix = await IsolatedNix.create();
  const foo = await addFakePackage(nix, "foo-1.0");
  const gen = await Deno.makeTempDir({ dir: nix.root });
  await Deno.writeTextFile(
    `${gen}/manifest.json`,
    printManifestJson([{ name: "foo", version: "1.0", storePaths: [foo] }], 3),
  );
  const genPath = (await nix.run(
    "nix-store",
    "--add-fixed",
    "--recursive",
    "sha256",
    gen,
  )).trim();
  const profile = `${nix.root}/profile`;
  await nix.run("nix-env", "-p", profile, "--set", genPath);
  const stderr = await nix.fail("nix", "profile", "list", "--profile", profile);
  assert.match(
    stderr,
    /profile manifest '.*manifest\.json' has unsupported version 3/,
  );
});
