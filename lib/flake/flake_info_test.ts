import { assertEquals, assertThrows } from "../../tests/helpers/testing.ts";
import { FprofRecordError, packagesFromRecord, parseFprofRecord } from "./flake_info.ts";

const S = "/nix/store";
const hello = `${S}/ry3wji0qjghzb55bgp6babkivblpiyim-hello-2.12`;
const jq = `${S}/0gqw2yv6m6x3y6h7mzsl7kcr0ahg5mf8-jq-1.6`;
const jqMan = `${S}/1i7pvfd79n3j4s3swm4yk1ncg8k0kl5h-jq-1.6-man`;
const extra = `${S}/2ha1xgh4r5ng9nyqs1dj1mdd3djhh2f1-extra-1.0`;
const env = `${S}/3d0z0s4d13nfsnn3wd3pxhqc56xnfd6x-profile`;

const record = {
  schema: 1,
  packages: [
    {
      name: "hello-2.12",
      pname: "hello",
      version: "2.12",
      outputs: ["out"],
      outPaths: { out: hello },
      priority: 5,
      description: "Says hello",
      attrPath: "hello",
    },
    {
      name: "jq-1.6",
      pname: "jq",
      version: "1.6",
      outputs: ["out", "man"],
      outPaths: { out: jq, man: jqMan },
      priority: 3,
      description: null,
      group: "cli",
    },
  ],
};

Deno.test("parseFprofRecord() returns null when there is no record", () => {
  assertEquals(parseFprofRecord(null), null);
});

Deno.test("parseFprofRecord() rejects an unknown schema", () => {
  assertThrows(
    () => parseFprofRecord({ schema: 2, packages: [] }),
    FprofRecordError,
    "unsupported schema 2",
  );
});

Deno.test("parseFprofRecord() rejects a package without an out path for an output", () => {
  assertThrows(
    () =>
      parseFprofRecord({
        schema: 1,
        packages: [{ name: "x-1", outputs: ["out"], outPaths: {}, priority: 5 }],
      }),
    FprofRecordError,
    "package 1 has no out path for output 'out'",
  );
});

Deno.test("packagesFromRecord() carries descriptions, priorities, outputs, attr paths and groups", () => {
  const { packages, groups } = packagesFromRecord(
    parseFprofRecord(record)!,
    env,
    [hello, jq, jqMan],
    { url: "path:/p?narHash=x", originalUrl: "path:/p", attr: "packages.x86_64-linux.profile" },
  );
  assertEquals(packages, [
    {
      name: "hello",
      version: "2.12",
      storePaths: [hello],
      outputs: ["out"],
      priority: 5,
      description: "Says hello",
      attrPath: "packages.x86_64-linux.profile.packages.hello",
      source: "path:/p?narHash=x",
      originalSource: "path:/p",
    },
    { name: "jq", version: "1.6", storePaths: [jq, jqMan], outputs: ["out", "man"], priority: 3 },
  ]);
  assertEquals(groups, { [jq]: "cli" });
});

Deno.test("packagesFromRecord() lists references the record does not cover, and skips what was not built in", () => {
  const { packages } = packagesFromRecord(parseFprofRecord(record)!, env, [jq, jqMan, extra]);
  assertEquals(packages.map((p) => `${p.name}-${p.version}`), ["extra-1.0", "jq-1.6"]);
  // Without a flake source there is nothing for `nix profile upgrade` to build.
  assertEquals(packages.some((p) => p.attrPath !== undefined), false);
});

Deno.test("packagesFromRecord() makes one element of a package declared twice", () => {
  const twice = { schema: 1, packages: [record.packages[1], record.packages[1]] };
  const { packages } = packagesFromRecord(parseFprofRecord(twice)!, env, [jq, jqMan]);
  assertEquals(packages.length, 1);
});
