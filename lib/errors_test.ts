import { lastNixError, NixError, nixErrorLocation } from "./errors.ts";
import { assertEquals, assertStringIncludes } from "../tests/helpers/testing.ts";

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
