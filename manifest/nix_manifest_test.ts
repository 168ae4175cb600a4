import assert from "node:assert/strict";
import { ManifestError, ManifestSyntaxError } from "./errors.ts";
import {
  manifestNixJsonExpr,
  packagesFromManifestValue,
  parseManifestNix,
  printManifestNix,
} from "./nix_manifest.ts";
import { splitName } from "./names.ts";
import { addFakePackage, IsolatedNix } from "./testdata/isolated_nix.ts";
import type { ProfilePackage } from "./types.ts";

const testdata = new URL("./testdata/", import.meta.url);
const readFixture = (name: string) => Deno.readTextFileSync(new URL(name, testdata));

const STORE = "/tmp/fprof-fixtures/store";

/** What the packages of nix-env-2.8.manifest.nix are. */
const NIX_ENV_PACKAGES: ProfilePackage[] = [
  {
    name: "foo",
    version: "1.0",
    storePaths: [`${STORE}/w46rr0mfqvmwb0p7sawyac2d49c3cvdg-foo-1.0`],
    outputs: ["out"],
    priority: 7,
    description: 'A "quoted" \\ description\nwith a newline,\ta tab, ${x}, $y and $',
    system: "x86_64-linux",
  },
  {
    name: "bar-baz",
    version: "2.0.1",
    storePaths: [
      `${STORE}/l4zvjl3bcqf1kk56szi4dcy4svzqzcsp-bar-baz-2.0.1`,
      `${STORE}/qsm8ayr78vj27srvs45qxvpqzhw1g17g-bar-baz-2.0.1-dev`,
      `${STORE}/9paj404g74dhsv9ypz9bv4m1hpw85g82-bar-baz-2.0.1-man`,
    ],
    outputs: ["out", "dev", "man"],
    priority: 3,
    description: "Three outputs",
    system: "x86_64-linux",
  },
  {
    name: "nover",
    version: "",
    storePaths: [`${STORE}/mqszjazw5lp90qy30hcngdgmn75b4yj9-nover`],
    outputs: ["out"],
    system: "x86_64-linux",
  },
  {
    name: "tool",
    version: "3.1",
    storePaths: [
      `${STORE}/sskvdx0kdyqm0izykgjpc2jbmgsbby50-tool-3.1-bin`,
      `${STORE}/a113qsz6psfzsxw0fili6f5vl852wqza-tool-3.1-lib`,
    ],
    outputs: ["bin", "lib"],
    priority: 4,
    description: "Default output is bin",
    system: "x86_64-linux",
  },
];

const path = (hash: string, name: string) => `/nix/store/${hash}-${name}`;
const HASH_A = "w46rr0mfqvmwb0p7sawyac2d49c3cvdg";
const HASH_B = "l4zvjl3bcqf1kk56szi4dcy4svzqzcsp";
const HASH_C = "qsm8ayr78vj27srvs45qxvpqzhw1g17g";

Deno.test("parseManifestNix() reads nix-env output", () => {
  const pkgs = parseManifestNix(readFixture("nix-env-2.8.manifest.nix"));
  assert.deepEqual(pkgs, NIX_ENV_PACKAGES);
});

Deno.test("parseManifestNix() agrees with nix-env -q --json on the same manifest", () => {
  type Queried = {
    pname: string;
    version: string;
    system: string;
    outputs: Record<string, string>;
    meta: { description?: string; priority?: number | string };
  };
  const queried = Object.values(
    JSON.parse(readFixture("nix-env-2.8.query.json.golden")) as Record<
      string,
      Queried
    >,
  );
  const pkgs = parseManifestNix(readFixture("nix-env-2.8.manifest.nix"));
  assert.equal(pkgs.length, queried.length);
  for (const q of queried) {
    const pkg = pkgs.find((p) => p.name === q.pname);
    assert.ok(pkg, q.pname);
    assert.equal(pkg.version, q.version);
    assert.equal(pkg.system, q.system);
    assert.equal(pkg.description, q.meta.description);
    assert.equal(
      pkg.priority,
      q.meta.priority === undefined ? undefined : Number(q.meta.priority),
    );
    const outputs = Object.fromEntries(
      pkg.outputs!.map((o, i) => [o, pkg.storePaths[i]]),
    );
    assert.deepEqual(outputs, q.outputs);
  }
});

Deno.test("printManifestNix() writes what nix-env writes, byte for byte", () => {
  const text = readFixture("nix-env-2.8.simple.manifest.nix");
  assert.equal(printManifestNix(parseManifestNix(text)), text);
});

Deno.test("printManifestNix() writes an empty manifest as nix-env does", () => {
  assert.equal(printManifestNix([]), "[ ]");
  assert.deepEqual(parseManifestNix("[ ]"), []);
});

Deno.test("printManifestNix() output parses back to the same packages", () => {
  const pkgs: ProfilePackage[] = [
    ...NIX_ENV_PACKAGES,
    {
      name: "weird",
      version: "0",
      storePaths: [path(HASH_A, "weird-0"), path(HASH_B, "weird-0-1st")],
      outputs: ["out", "1st"],
      description: '\\${not interpolated} $${ $ \r\n\t"',
      system: "aarch64-darwin",
      priority: -2,
    },
    {
      name: "unicode",
      version: "1.0",
      storePaths: [path(HASH_C, "unicode-1.0")],
      outputs: ["out"],
      description: "Grüße, 日本語, \u{1F600}",
      system: "unknown",
    },
  ];
  assert.deepEqual(parseManifestNix(printManifestNix(pkgs)), pkgs);
});

Deno.test("printManifestNix() sorts keys and quotes names that are not identifiers", () => {
  const text = printManifestNix([{
    name: "x",
    version: "1",
    storePaths: [
      path(HASH_A, "x-1"),
      path(HASH_B, "x-1-in"),
      path(HASH_C, "x-1-a"),
    ],
    outputs: ["out", "in", "a b"],
  }]);
  assert.equal(
    text,
    `[ { "a b" = { outPath = "${path(HASH_C, "x-1-a")}"; }; ` +
      `"in" = { outPath = "${path(HASH_B, "x-1-in")}"; }; meta = { }; ` +
      `name = "x-1"; out = { outPath = "${path(HASH_A, "x-1")}"; }; ` +
      `outPath = "${path(HASH_A, "x-1")}"; outputs = [ "a b" "in" "out" ]; ` +
      `system = "unknown"; type = "derivation"; } ]`,
  );
});

Deno.test("printManifestNix() tells output names from store path names when not given", () => {
  const text = printManifestNix([{
    name: "hello",
    version: "2.12",
    storePaths: [path(HASH_A, "hello-2.12-man"), path(HASH_B, "hello-2.12")],
  }]);
  const [pkg] = parseManifestNix(text);
  assert.deepEqual(pkg.outputs, ["man", "out"]);
  assert.match(text, /outputs = \[ "man" "out" \]/);
});

Deno.test("printManifestNix() refuses packages nix-env could not use", () => {
  const ok: ProfilePackage = {
    name: "a",
    version: "1",
    storePaths: [path(HASH_A, "a-1")],
  };
  const cases: [Partial<ProfilePackage>, RegExp][] = [
    [{ name: "" }, /has no name/],
    [{ storePaths: [] }, /has no store paths/],
    [{ storePaths: ["/nix/store/a-1"] }, /invalid store path/],
    [{ outputs: ["out", "dev"] }, /1 store paths but 2 output names/],
    [{ outputs: ["name"] }, /output named 'name'/],
    [{ priority: 1.5 }, /non-integer priority 1.5/],
    [
      { storePaths: [path(HASH_A, "a-1"), path(HASH_B, "b-2")] },
      /output names cannot be told apart/,
    ],
    [
      {
        storePaths: [path(HASH_A, "a-1"), path(HASH_B, "a-1")],
        outputs: ["out", "out"],
      },
      /duplicate output names/,
    ],
  ];
  for (const [change, message] of cases) {
    assert.throws(
      () => printManifestNix([{ ...ok, ...change }]),
      (e: unknown) => e instanceof ManifestError && message.test(e.message),
      JSON.stringify(change),
    );
  }
});

Deno.test("parseManifestNix() skips entries that are not derivations", () => {
  const text = `[ { name = "x"; } { name = "y"; type = "other"; } ` +
    `{ name = "z-1"; outPath = "${path(HASH_A, "z-1")}"; type = "derivation"; } ]`;
  assert.deepEqual(parseManifestNix(text), [{
    name: "z",
    version: "1",
    storePaths: [path(HASH_A, "z-1")],
    outputs: ["out"],
  }]);
});

Deno.test("parseManifestNix() falls back to outPath for an output without its own", () => {
  const text = `[ { name = "z-1"; outPath = ${path(HASH_A, "z-1")}; ` +
    `outputs = [ "out" ]; type = "derivation"; } ]`;
  assert.deepEqual(parseManifestNix(text)[0].storePaths, [path(HASH_A, "z-1")]);
});

Deno.test("parseManifestNix() reads meta.priority as nix-env does", () => {
  const withPriority = (priority: string) =>
    parseManifestNix(
      `[ { meta = { priority = ${priority}; }; name = "z-1"; ` +
        `outPath = "${path(HASH_A, "z-1")}"; type = "derivation"; } ]`,
    )[0].priority;
  assert.equal(withPriority("10"), 10);
  assert.equal(withPriority("-1"), -1);
  assert.equal(withPriority('"3"'), 3);
  assert.equal(withPriority('"high"'), undefined);
  assert.equal(withPriority("1.5"), undefined);
  assert.equal(withPriority("null"), undefined);
  assert.equal(withPriority("9223372036854775807"), undefined);
});

Deno.test("parseManifestNix() reads every value Nix prints", () => {
  const text = `[ { meta = { a = [ 1 -2 3.5 1e+20 .5 true false null ]; ` +
    `b = { "c d" = { }; e'f = [ ]; g-h = "\\u0001"; }; p = /etc/x_y.nix; }; ` +
    `name = "z-1"; outPath = "${path(HASH_A, "z-1")}"; type = "derivation"; } ]`;
  assert.equal(parseManifestNix(text).length, 1);
});

Deno.test("parseManifestNix() fails cleanly on any truncation of a real manifest", () => {
  const text = readFixture("nix-env-2.8.manifest.nix");
  for (let end = 0; end < text.length; end++) {
    assert.throws(
      () => parseManifestNix(text.slice(0, end)),
      ManifestSyntaxError,
      `truncated at ${end}`,
    );
  }
});

Deno.test("parseManifestNix() rejects what it does not understand", () => {
  const valid = `{ name = "z-1"; outPath = "${path(HASH_A, "z-1")}"; type = "derivation"; }`;
  const cases = [
    "",
    "   ",
    "garbage",
    "{ }",
    '"a list"',
    "[ 1 ]",
    '[ "x" ]',
    "[ [ ] ]",
    `[ ${valid} ] ]`,
    `[ ${valid} ] x`,
    "[ <LAMBDA> ]",
    "[ «repeated» ]",
    '[ { a = "${x}"; } ]',
    '[ { a = "unterminated; } ]',
    "[ { a = 1 } ]",
    "[ { a = 1; a = 2; } ]",
    "[ { a 1; } ]",
    "[ { = 1; } ]",
    "[ { a.b = 1; } ]",
    "[ { a = x; } ]",
    "[ { a = ./rel; } ]",
    "let x = 1; in [ ]",
    "# comment\n[ ]",
    "[ { a = ''x''; } ]",
    '[ { a = "x" + "y"; } ]',
    '{"elements":[],"version":2}',
    '[ { type = "derivation"; } ]',
    '[ { type = "derivation"; name = 1; } ]',
    '[ { type = "derivation"; name = "a-1"; } ]',
    '[ { type = "derivation"; name = "a-1"; outPath = "/not/a/store/path"; } ]',
    `[ { type = "derivation"; name = "a-1"; outPath = "${
      path(HASH_A, "a-1")
    }"; outputs = "out"; } ]`,
    `[ { type = "derivation"; name = "a-1"; outPath = "${
      path(HASH_A, "a-1")
    }"; outputs = [ 1 ]; } ]`,
  ];
  for (const text of cases) {
    assert.throws(() => parseManifestNix(text), ManifestSyntaxError, text);
  }
});

Deno.test("parseManifestNix() reports the line and column of the problem", () => {
  const text = '[\n  {\n    name = "a-1";\n    type = "derivation"\n  }\n]';
  assert.throws(
    () => parseManifestNix(text),
    (e: unknown) =>
      e instanceof ManifestSyntaxError && e.line === 5 && e.column === 3 &&
      e.message ===
        "Cannot parse manifest.nix: expected ';', found '}' at line 5, column 3",
  );
  assert.throws(
    () => parseManifestNix("[ {"),
    (e: unknown) =>
      e instanceof ManifestSyntaxError && e.line === 1 && e.column === 4 &&
      /unexpected end/.test(e.message),
  );
});

Deno.test("printManifestNix() and parseManifestNix() round-trip 10,000 packages", () => {
  const pkgs: ProfilePackage[] = [];
  for (let i = 0; i < 10_000; i++) {
    pkgs.push({
      name: `package-x${i}`,
      version: `1.${i}`,
      storePaths: [
        path(HASH_A, `package-x${i}-1.${i}`),
        path(HASH_B, `package-x${i}-1.${i}-man`),
      ],
      outputs: ["out", "man"],
      priority: i % 10,
      description: `Package number ${i} with "quotes" and \${dollars}`,
      system: "x86_64-linux",
    });
  }
  // How long this takes is measured by `deno task bench`, not here.
  const parsed = parseManifestNix(printManifestNix(pkgs));
  assert.equal(parsed.length, 10_000);
  assert.deepEqual(parsed, pkgs);
});

Deno.test("nix-env reads, queries and updates a profile with a printed manifest.nix", async () => {
  await using nix = await IsolatedNix.create();
  const foo = await addFakePackage(nix, "foo-1.0");
  const bar = await addFakePackage(nix, "bar-2.0");
  const manifest = printManifestNix([
    {
      name: "foo",
      version: "1.0",
      storePaths: [foo],
      priority: 3,
      description: 'Says "foo"',
    },
    { name: "bar", version: "2.0", storePaths: [bar] },
  ]);

  // A generation as nix-env would make it: symlinks plus manifest.nix.
  const gen = `${nix.root}/gen`;
  await Deno.mkdir(`${gen}/bin`, { recursive: true });
  await Deno.symlink(`${foo}/bin/foo-1.0`, `${gen}/bin/foo-1.0`);
  await Deno.symlink(`${bar}/bin/bar-2.0`, `${gen}/bin/bar-2.0`);
  await Deno.writeTextFile(`${gen}/manifest.nix`, manifest);
  const genPath = (await nix.run(
    "nix-store",
    "--add-fixed",
    "--recursive",
    "sha256",
    gen,
  )).trim();
  const profile = `${nix.root}/profile`;
  await nix.run("nix-env", "-p", profile, "--set", genPath);

  const queried = JSON.parse(
    await nix.run(
      "nix-env",
      "-p",
      profile,
      "-q",
      "--json",
      "--meta",
      "--out-path",
    ),
  );
  const byName = Object.fromEntries(
    Object.values(queried).map((q) => {
      const { pname, version, outputs, meta } = q as {
        pname: string;
        version: string;
        outputs: Record<string, string>;
        meta: Record<string, unknown>;
      };
      return [pname, { version, outputs, meta }];
    }),
  );
  assert.deepEqual(byName, {
    foo: {
      version: "1.0",
      outputs: { out: foo },
      meta: { description: 'Says "foo"', priority: 3 },
    },
    bar: { version: "2.0", outputs: { out: bar }, meta: {} },
  });

  // Removing one makes nix-env rebuild the profile from our manifest.
  await nix.run("nix-env", "-p", profile, "-e", "foo");
  assert.equal(
    (await nix.run("nix-env", "-p", profile, "-q")).trim(),
    "bar-2.0",
  );
  const rewritten = parseManifestNix(
    await Deno.readTextFile(`${profile}/manifest.nix`),
  );
  assert.deepEqual(rewritten.map((p) => p.storePaths), [[bar]]);
});

Deno.test("packagesFromManifestValue() reads what Nix evaluates manifestNixJsonExpr() to", async () => {
  await using nix = await IsolatedNix.create();
  const file = new URL("nix-env-2.8.manifest.nix", testdata).pathname;
  const value = JSON.parse(
    await nix.run(
      "nix-instantiate",
      "--eval",
      "--strict",
      "--json",
      "--expr",
      manifestNixJsonExpr(file),
    ),
  );
  assert.deepEqual(packagesFromManifestValue(value), NIX_ENV_PACKAGES);

  // The file's own JSON keeps only each default output's path, which is all
  // there is to name the package by (tool-3.1-bin gives version "3.1-bin").
  const plain = JSON.parse(
    await nix.run("nix-instantiate", "--eval", "--strict", "--json", file),
  );
  assert.deepEqual(
    packagesFromManifestValue(plain),
    NIX_ENV_PACKAGES.map(({ storePaths: [path] }) => ({
      ...splitName(path),
      storePaths: [path],
    })),
  );
});

Deno.test("packagesFromManifestValue() rejects values that are not manifests", () => {
  const cases: unknown[] = [
    null,
    {},
    "x",
    [1],
    ["/usr/bin/x"],
    [[]],
    [{ type: "derivation" }],
    [{ type: "derivation", name: "a-1", __outPath: "/usr/bin/x" }],
  ];
  for (const value of cases) {
    assert.throws(
      () => packagesFromManifestValue(value),
      ManifestSyntaxError,
      JSON.stringify(value),
    );
  }
  assert.deepEqual(packagesFromManifestValue([{ name: "x" }]), []);
});

Deno.test("parseManifestNix() refuses an integer past 64 bits, as nix-env -q does", () => {
  const entry = (p: string) =>
    `[ { meta = { priority = ${p}; }; name = "hello-2.12"; outPath = "${
      path(HASH_A, "hello-2.12")
    }"; type = "derivation"; } ]`;
  for (const p of ["99999999999999999999999999", "9223372036854775808", "-9223372036854775808"]) {
    assert.throws(
      () => parseManifestNix(entry(p)),
      (e: Error) =>
        e instanceof ManifestSyntaxError && e.message.includes(`invalid integer '${p}'`),
    );
  }
  assert.equal(parseManifestNix(entry("9223372036854775807")).length, 1);
  assert.equal(parseManifestNix(entry("3"))[0].priority, 3);
});
