import { assertEquals, assertStringIncludes, assertThrows } from "./testing.ts";
import { currentSystem, defaultAttrs, parseInstallable } from "./nix/installable.ts";
import { diffPackages, formatDiff } from "./profile/diff.ts";
import { lineColumn, parseConfig } from "./parse_config.ts";
import { FprofError, lastNixError, NixError, nixErrorLocation } from "./errors.ts";
import {
  manifestJsonVersionFor,
  nixArgv,
  parseBuildJson,
  parseFlakeMetadata,
  parseNixVersion,
  parsePathInfoJson,
  pathInfoArgv,
  showArgv,
} from "./nix/nix.ts";
import { defaultProfileFor, generationNumber } from "./profile/profile.ts";
import type { ProfilePackage } from "../manifest/types.ts";

const pkg = (name: string, version: string): ProfilePackage => ({
  name,
  version,
  storePaths: [`/s/${name}-${version}`],
});

Deno.test("parseInstallable() splits flake refs and recognises store paths", () => {
  assertEquals(parseInstallable(".", "/nix/store"), {
    kind: "flake",
    ref: ".",
  });
  assertEquals(parseInstallable("#laptop", "/nix/store"), {
    kind: "flake",
    ref: ".",
    attr: "laptop",
  });
  assertEquals(parseInstallable("github:u/p#a.b", "/nix/store"), {
    kind: "flake",
    ref: "github:u/p",
    attr: "a.b",
  });
  assertEquals(parseInstallable("/nix/store/abc-env/bin/x", "/nix/store"), {
    kind: "store",
    path: "/nix/store/abc-env",
  });
  assertEquals(parseInstallable("path:/x#", "/nix/store"), {
    kind: "flake",
    ref: "path:/x",
  });
});

Deno.test("defaultAttrs() tries packages.profile, legacyPackages.profile, packages.default in that order", () => {
  assertEquals(defaultAttrs("x86_64-linux"), [
    "packages.x86_64-linux.profile",
    "legacyPackages.x86_64-linux.profile",
    "packages.x86_64-linux.default",
  ]);
  assertEquals(
    currentSystem({ arch: "aarch64", os: "darwin" }),
    "aarch64-darwin",
  );
});

Deno.test("diffPackages() reports added, removed and version changes", () => {
  const d = diffPackages([
    pkg("hello", "2.12.1"),
    pkg("jq", "1.6"),
    pkg("gone", "1"),
  ], [
    pkg("hello", "2.12.2"),
    pkg("jq", "1.6"),
    pkg("new", "0.1"),
  ]);
  assertEquals(formatDiff(d), [
    "~ hello 2.12.1 → 2.12.2",
    "+ new 0.1",
    "- gone 1",
  ]);
});

Deno.test("diffPackages() keeps two versions of one name apart", () => {
  const d = diffPackages([pkg("py", "3.11"), pkg("py", "3.12")], [
    pkg("py", "3.12"),
  ]);
  assertEquals(formatDiff(d), ["- py 3.11"]);
});

Deno.test("parseConfig() accepts comments and trailing commas", () => {
  assertEquals(
    parseConfig(
      '// mine\n{ "flake": "~/p", /* x */ "manifest": "json", }',
      "c",
    ),
    {
      flake: "~/p",
      manifest: "json",
    },
  );
  assertEquals(parseConfig("", "c"), {});
});

Deno.test("parseConfig() reports the line and column of a syntax error", () => {
  assertThrows(
    () => parseConfig('{\n  "flake": ".",\n  "profile" "x"\n}', "c.jsonc"),
    FprofError,
    "line 3, column 13",
  );
  assertThrows(
    () => parseConfig('{"manifest": "xml"}', "c"),
    FprofError,
    "must be one of",
  );
  assertThrows(
    () => parseConfig('{"flak": "."}', "c"),
    FprofError,
    "unknown setting 'flak'",
  );
  assertThrows(() => parseConfig("[]", "c"), FprofError, "must hold an object");
  assertEquals(lineColumn("ab\ncd", 4), { line: 2, column: 2 });
});

Deno.test("lastNixError() takes Nix's last error line without colours", () => {
  assertEquals(
    lastNixError(
      "warning: dirty\n\x1b[31;1merror:\x1b[0m flake 'path:/x' does not exist\n",
    ),
    "flake 'path:/x' does not exist",
  );
  assertEquals(
    lastNixError("error:\n       … while evaluating\n\n       error: boom\n"),
    "boom",
  );
  assertEquals(
    lastNixError("error:\n       builder for '/s/x.drv' failed\n"),
    "builder for '/s/x.drv' failed",
  );
  assertEquals(lastNixError("nothing"), undefined);
});

// What each Nix printed for a builder that failed with "reason here" on its
// stderr (2.8.0, 2.26.3 and 2.34.8, seen live).
const BUILD_FAILURES = {
  "2.8 default": "building '/s/a-bad.drv'...\n" +
    "error: builder for '/s/a-bad.drv' failed with exit code 1;\n" +
    "       last 2 log lines:\n       > one\n       > reason here\n" +
    "       For full logs, run 'nix log /s/a-bad.drv'.\n",
  "2.26 default": "building '/s/a-bad.drv'...\n" +
    "error: builder for '/s/a-bad.drv' failed with exit code 1;\n" +
    "       last 2 log lines:\n       > one\n       > reason here\n" +
    "       For full logs, run:\n         nix log /s/a-bad.drv\n",
  "2.26 raw, dependency": "building '/s/a-bad.drv'...\none\nreason here\n" +
    "error: builder for '/s/a-bad.drv' failed with exit code 1\n" +
    "error: 1 dependencies of derivation '/s/b-dep.drv' failed to build\n",
  "2.34 default": "building '/s/a-bad.drv'...\n" +
    "error: Cannot build '/s/a-bad.drv'.\n       Reason: builder failed with exit code 1.\n" +
    "       Output paths:\n         /s/a-bad\n       Last 2 log lines:\n" +
    "       > one\n       > reason here\n       For full logs, run:\n" +
    "         nix log /s/a-bad.drv\n",
  "2.34 raw, dependency": "building '/s/a-bad.drv'...\none\nreason here\n" +
    "error: Cannot build '/s/a-bad.drv'.\n       Reason: builder failed with exit code 1.\n" +
    "       Output paths:\n         /s/a-bad\n" +
    "error: Cannot build '/s/b-dep.drv'.\n       Reason: 1 dependency failed.\n" +
    "       Output paths:\n         /s/b-dep\n",
};

Deno.test("lastNixError() gives a failed build's reason in every Nix's wording", () => {
  for (const [what, stderr] of Object.entries(BUILD_FAILURES)) {
    const e = new NixError(["nix", "build"], 1, stderr, { context: "cannot build 'x'" });
    assertEquals(
      e.message,
      "cannot build 'x': builder for '/s/a-bad.drv' failed with exit code 1: reason here",
      what,
    );
    assertEquals(e.hint, "for the full build log, run 'nix log /s/a-bad.drv'", what);
  }
});

Deno.test("a directory on PATH that Nix may not search is named in the hint", () => {
  // Seen on Nix 2.26 and 2.34 starting ssh for ssh-ng:// with /root on PATH.
  const e = new NixError(
    ["nix", "copy"],
    1,
    "error: filesystem error: status: Permission denied [/root/.cargo/bin/ssh]\n",
  );
  assertEquals(
    e.hint,
    "'/root/.cargo/bin' is on PATH but closed to this user; remove it from PATH",
  );
});

Deno.test("NixError names the command and Nix's reason", () => {
  const e = new NixError(
    [
      "nix",
      "--extra-experimental-features",
      "nix-command flakes",
      "build",
      "x",
    ],
    1,
    "error: nope\n",
  );
  assertEquals(e.message, "nix build: nope");
  assertEquals(
    new NixError(["nix-env", "--set"], 3, "").message,
    "nix-env: exited with code 3",
  );
});

Deno.test("parseNixVersion() reads Nix and Lix versions", () => {
  const nix28 = parseNixVersion("nix (Nix) 2.8.0\n");
  assertEquals([nix28.implementation, nix28.major, nix28.minor], ["nix", 2, 8]);
  assertEquals(manifestJsonVersionFor(nix28), 2);
  assertEquals(manifestJsonVersionFor(parseNixVersion("nix (Nix) 2.24.10")), 3);
  assertEquals(
    manifestJsonVersionFor(parseNixVersion("nix (Lix, like Nix) 2.91.1")),
    3,
  );
  assertThrows(() => parseNixVersion("garbage"), Error, "Cannot parse");
});

Deno.test("pathInfoArgv() asks for --json-format 1 only where Nix has it (2.33+, not Lix)", () => {
  const argv = (raw: string) => pathInfoArgv(parseNixVersion(raw), ["-S"], ["/s/a"]).slice(3);
  assertEquals(argv("nix (Nix) 2.8.0"), ["path-info", "--json", "-S", "/s/a"]);
  assertEquals(argv("nix (Nix) 2.26.3"), ["path-info", "--json", "-S", "/s/a"]);
  assertEquals(argv("nix (Nix) 2.34.8"), [
    "path-info",
    "--json",
    "--json-format",
    "1",
    "-S",
    "/s/a",
  ]);
  assertEquals(argv("nix (Lix, like Nix) 2.93.0"), ["path-info", "--json", "-S", "/s/a"]);
});

Deno.test("nixArgv() always enables flakes, and showArgv() quotes for a shell", () => {
  assertEquals(nixArgv(["build"]), [
    "nix",
    "--extra-experimental-features",
    "nix-command flakes",
    "build",
  ]);
  assertEquals(showArgv(["nix", "a b", "it's"]), `nix 'a b' 'it'\\''s'`);
});

Deno.test("parsePathInfoJson() reads the array form (≤ 2.18) and the object form (2.19+)", () => {
  const arr = parsePathInfoJson(
    '[{"path":"/s/a","narHash":"sha256-x","narSize":8,"references":["/s/b"]},{"path":"/s/z","valid":false}]',
  );
  assertEquals(arr, [{
    path: "/s/a",
    narHash: "sha256-x",
    narSize: 8,
    references: ["/s/b"],
    ca: undefined,
  }]);
  const obj = parsePathInfoJson(
    '{"/s/a":{"narHash":"sha256-x","narSize":8,"references":[],"ca":"fixed:r:sha256:y"},"/s/z":null}',
  );
  assertEquals(obj, [{
    path: "/s/a",
    narHash: "sha256-x",
    narSize: 8,
    references: [],
    ca: "fixed:r:sha256:y",
  }]);
});

Deno.test("parseBuildJson() and parseFlakeMetadata() read Nix's JSON", () => {
  assertEquals(
    parseBuildJson('[{"drvPath":"/s/x.drv","outputs":{"out":"/s/x"}}]'),
    [{ drvPath: "/s/x.drv", outputs: { out: "/s/x" } }],
  );
  assertEquals(
    parseFlakeMetadata(
      '{"originalUrl":"path:/p","url":"path:/p?narHash=sha256-x","lastModified":5}',
    ),
    {
      originalUrl: "path:/p",
      url: "path:/p?narHash=sha256-x",
      lastModified: 5,
      revision: undefined,
      path: undefined,
      locks: undefined,
    },
  );
});

Deno.test("generationNumber() reads only <profile>-N-link names", () => {
  assertEquals(generationNumber("profile", "profile-12-link"), 12);
  assertEquals(generationNumber("profile", "profile-x-link"), null);
  assertEquals(generationNumber("profile", "other-1-link"), null);
  assertEquals(generationNumber("profile", "profile.lock"), null);
});

Deno.test("defaultProfileFor() follows the installed Nix's default", () => {
  const ctx = {
    env: new Map([["HOME", "/h"], ["XDG_STATE_HOME", "/h/st"]]),
    stateDir: "/nix/var/nix",
    uid: 1000,
    user: "u",
  };
  assertEquals(
    defaultProfileFor(parseNixVersion("nix (Nix) 2.8.0"), ctx),
    "/nix/var/nix/profiles/per-user/u/profile",
  );
  assertEquals(
    defaultProfileFor(parseNixVersion("nix (Nix) 2.18.1"), ctx),
    "/h/st/nix/profiles/profile",
  );
  assertEquals(
    defaultProfileFor(parseNixVersion("nix (Nix) 2.8.0"), { ...ctx, uid: 0 }),
    "/nix/var/nix/profiles/default",
  );
  // Since 2.14 root's profile is its per-user one; Nix links
  // profiles/default to it.
  assertEquals(
    defaultProfileFor(parseNixVersion("nix (Nix) 2.18.1"), { ...ctx, uid: 0 }),
    "/nix/var/nix/profiles/per-user/root/profile",
  );
});

Deno.test("expandTildeRef() expands ~ in configured flake references", async () => {
  const { expandTildeRef } = await import("./config.ts");
  assertEquals(expandTildeRef("~/profile", "/h"), "/h/profile");
  assertEquals(expandTildeRef("~", "/h"), "/h");
  assertEquals(expandTildeRef("~#laptop", "/h"), "/h#laptop");
  assertEquals(expandTildeRef("path:~/p#x", "/h"), "path:/h/p#x");
  assertEquals(expandTildeRef("github:u/p", "/h"), "github:u/p");
  assertEquals(expandTildeRef("~other/p", "/h"), "~other/p");
});

Deno.test("generationsText() puts a header over the columns", async () => {
  const { generationsText } = await import("./commands/generations.ts");
  const gen = {
    number: 7,
    date: "2026-06-01T09:12:00.000Z",
    current: true,
    storePath: "/nix/store/x-profile",
    parent: 6,
    madeByFprof: true,
    source: { flake: "path:/home/alice/profile", attr: "legacyPackages.x86_64-linux.profile" },
    packageCount: 12,
  };
  assertEquals(generationsText([gen]).split("\n"), [
    "GEN  DATE                 PARENT  PACKAGES  SOURCE",
    "7*   2026-06-01 09:12:00  ← 6           12  path:/home/alice/profile#legacyPackages.x86_64-linux.profile",
    "",
  ]);
});

Deno.test("nixErrorLocation() keeps where Nix's last error is, and the code it quotes", () => {
  const stderr = "error: syntax error, unexpected '}', expecting ';'\n\n" +
    "       at /s/abc-source/flake.nix:4:3:\n\n" +
    "            3|     x = 1\n            4|   };\n             |   ^\n            5| }\n";
  assertEquals(nixErrorLocation(stderr), {
    at: "/s/abc-source/flake.nix:4:3",
    excerpt: ["3|     x = 1", "4|   };", " |   ^", "5| }"],
  });
  assertEquals(nixErrorLocation("error: flake 'path:/nope' does not exist\n"), undefined);
  const e = new NixError(["nix", "build"], 1, stderr);
  assertEquals(
    e.message,
    "nix build: syntax error, unexpected '}', expecting ';' at /s/abc-source/flake.nix:4:3",
  );
});

Deno.test("collectedMeanwhile() knows both ways Nix 2.8 meets a source a collection took", async () => {
  const { collectedMeanwhile } = await import("./commands/switch.ts");
  const e = (stderr: string) => new NixError(["nix", "build"], 1, stderr);
  assertEquals(collectedMeanwhile(e("error: path '/s/x-source' is not valid\n")), true);
  assertEquals(
    collectedMeanwhile(
      e("error: getting status of '/s/x-source': No such file or directory\n"),
    ),
    true,
  );
  assertEquals(collectedMeanwhile(e("error: attribute 'profile' missing\n")), false);
  assertEquals(collectedMeanwhile(new Error("path '/s/x' is not valid")), false);
});

Deno.test("NixError puts a hint to a local nixpkgs before the caller's when a download failed", () => {
  for (
    const stderr of [
      // 2.8, and 2.34 with a tarball.
      "error: unable to download 'https://api.github.com/repos/NixOS/nixpkgs/commits/nixos-unstable': Couldn't resolve host name (6)\n",
      "error: Failed to open archive (Source threw exception: error: unable to download 'http://127.0.0.1:9/n.tar.gz': Could not connect to server (7))\n",
    ]
  ) {
    const e = new NixError(["nix", "flake", "metadata"], 1, stderr, { hint: "give a directory" });
    assertStringIncludes(e.hint ?? "", "offline? point nixpkgs at a local copy");
    assertStringIncludes(e.hint ?? "", "--nixpkgs");
  }
  // A substituter that cannot be reached is only a warning; the error is another.
  const other = new NixError(
    ["nix", "build"],
    1,
    "warning: unable to download 'https://cache.example/x.narinfo': Couldn't resolve host name (6)\n" +
      "error: flake 'path:/x' does not exist\n",
    { hint: "give a directory" },
  );
  assertEquals(other.hint, "give a directory");
});
