import assert from "node:assert/strict";
import {
  commonDrvName,
  compareNames,
  inferOutputNames,
  isOutputName,
  outputOfPathName,
  splitName,
  storePathName,
} from "./names.ts";
import { IsolatedNix } from "./testdata/isolated_nix.ts";

// Each pair was checked against Nix 2.8's `builtins.parseDrvName`; the first
// six are the cases of Nix's own test suite.
const DRV_NAMES: [string, string, string][] = [
  ["ripgrep-1.2", "ripgrep", "1.2"],
  ["rip-grep-1.2", "rip-grep", "1.2"],
  ["7zip_archiver-0.2", "7zip_archiver", "0.2"],
  ["gcc-1-2", "gcc", "1-2"],
  ["bash--1-2", "bash", "-1-2"],
  ["xvidtune-?1-2", "xvidtune", "?1-2"],
  ["foo-bar-1.2", "foo-bar", "1.2"],
  ["foo-1bar", "foo", "1bar"],
  ["foo-", "foo-", ""],
  ["foo--1", "foo", "-1"],
  ["a-b-c", "a-b-c", ""],
  ["hello", "hello", ""],
  ["foo-bar-baz-1", "foo-bar-baz", "1"],
  ["-1", "", "1"],
  ["x-.2", "x", ".2"],
  ["x-_2", "x", "_2"],
  ["foo-bar-Ä", "foo-bar", "Ä"],
  ["", "", ""],
  ["firefox-unwrapped-120.0", "firefox-unwrapped", "120.0"],
];

Deno.test("splitName() splits at the first dash not followed by a letter, as Nix does", () => {
  for (const [full, name, version] of DRV_NAMES) {
    assert.deepEqual(splitName(full), { name, version }, full);
  }
});

Deno.test("splitName() matches builtins.parseDrvName of the real Nix", async () => {
  await using nix = await IsolatedNix.create();
  const list = DRV_NAMES.map(([full]) => JSON.stringify(full)).join(" ");
  const fromNix = JSON.parse(
    await nix.run(
      "nix",
      "eval",
      "--json",
      "--expr",
      `map builtins.parseDrvName [ ${list} ]`,
    ),
  );
  assert.deepEqual(DRV_NAMES.map(([full]) => splitName(full)), fromNix);
});

Deno.test("splitName() reduces a store path to its name first", () => {
  assert.deepEqual(
    splitName(
      "/tmp/x/store/0kbfqrj81i751zm8lfv3c0da5iwp973g-bar-baz-2.0.1-man",
    ),
    { name: "bar-baz", version: "2.0.1-man" },
  );
});

Deno.test("storePathName() strips the store dir and hash of any store", () => {
  assert.equal(
    storePathName("/nix/store/0kbfqrj81i751zm8lfv3c0da5iwp973g-hello-2.12"),
    "hello-2.12",
  );
  assert.equal(
    storePathName("/tmp/x/store/0kbfqrj81i751zm8lfv3c0da5iwp973g-a-b"),
    "a-b",
  );
  assert.equal(
    storePathName("0kbfqrj81i751zm8lfv3c0da5iwp973g-hello-2.12"),
    "hello-2.12",
  );
  assert.throws(() => storePathName("/usr/bin/hello"), /is not a store path/);
  assert.throws(() => storePathName("hello-2.12"), /is not a store path/);
});

Deno.test("isOutputName() accepts identifiers, not versions", () => {
  for (const name of ["out", "dev", "man", "installedTests", "lib32", "_x"]) {
    assert.ok(isOutputName(name), name);
  }
  for (const name of ["", "1.2", "2", "a-b", "a.b", "-x"]) {
    assert.ok(!isOutputName(name), name);
  }
});

Deno.test("outputOfPathName() recognises the output suffix", () => {
  assert.equal(outputOfPathName("hello-2.12", "hello-2.12"), "out");
  assert.equal(outputOfPathName("hello-2.12-man", "hello-2.12"), "man");
  assert.equal(outputOfPathName("hello-2.12.1", "hello-2.12"), undefined);
  assert.equal(outputOfPathName("hello-2.12-1", "hello-2.12"), undefined);
  assert.equal(outputOfPathName("hello-2.13", "hello-2.12"), undefined);
});

Deno.test("commonDrvName() finds the name the outputs of one derivation share", () => {
  assert.equal(commonDrvName([]), "");
  assert.equal(commonDrvName(["hello-2.12"]), "hello-2.12");
  assert.equal(commonDrvName(["hello-2.12-bin"]), "hello-2.12-bin");
  assert.equal(
    commonDrvName(["hello-2.12-man", "hello-2.12", "hello-2.12-dev"]),
    "hello-2.12",
  );
  assert.equal(commonDrvName(["tool-3.1-bin", "tool-3.1-lib"]), "tool-3.1");
  assert.equal(commonDrvName(["a-1", "b-2"]), "a-1");
});

Deno.test("inferOutputNames() names outputs from store path names", () => {
  assert.deepEqual(inferOutputNames(["x-1"]), ["out"]);
  assert.deepEqual(inferOutputNames(["x-1-man", "x-1"]), ["man", "out"]);
  assert.deepEqual(inferOutputNames(["x-1-bin", "x-1-lib"]), ["bin", "lib"]);
  assert.equal(inferOutputNames(["a-1", "b-2"]), undefined);
  assert.equal(inferOutputNames(["x-1", "x-1"]), undefined);
});

Deno.test("compareNames() orders by UTF-8 bytes like Nix", () => {
  assert.deepEqual(
    ["b", "\u{1F600}", "\uFF5E", "B", "a", "ab", ""].sort(compareNames),
    ["", "B", "a", "ab", "b", "\uFF5E", "\u{1F600}"],
  );
  assert.equal(compareNames("same", "same"), 0);
});
