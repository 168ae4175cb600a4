import { assertEquals } from "../../tests/helpers/testing.ts";
import { logFormatFor, RelayFilter } from "./relay.ts";
import { buildArgv } from "./nix.ts";
import { spinnerFrame } from "../log/spinner.ts";

Deno.test("logFormatFor() asks for the bar on a terminal and plain logs off one", () => {
  assertEquals(logFormatFor(true), "bar-with-logs");
  assertEquals(logFormatFor(false), "raw-with-logs");
});

Deno.test("buildArgv() passes the log format before the installable", () => {
  assertEquals(buildArgv("path:/p#profile", "bar-with-logs"), [
    "nix",
    "--extra-experimental-features",
    "nix-command flakes",
    "build",
    "--json",
    "--no-link",
    "--log-format",
    "bar-with-logs",
    "path:/p#profile",
  ]);
});

Deno.test("buildArgv() makes a result link only when given one", () => {
  const argv = buildArgv("path:/p#profile", "raw-with-logs", "/r/0-env");
  assertEquals(argv.slice(3, 6), ["build", "--json", "--out-link"]);
  assertEquals(argv[6], "/r/0-env");
  assertEquals(argv.includes("--no-link"), false);
});

Deno.test("RelayFilter passes complete lines as they come and holds partial ones", () => {
  const f = new RelayFilter();
  assertEquals(f.push("building '/s/x.drv'...\nx> hel"), "building '/s/x.drv'...\n");
  assertEquals(f.push("lo\n"), "x> hello\n");
  assertEquals(f.push("x> no newline"), "");
  assertEquals(f.end(), "x> no newline\n");
});

Deno.test("RelayFilter drops everything from the first error: line on", () => {
  const f = new RelayFilter();
  const out = f.push("x> bad\n\x1b[31;1merror:\x1b[0m builder for 'x' failed\n       > bad\n");
  assertEquals(out, "x> bad\n");
  assertEquals(f.push("more\n"), "");
  assertEquals(f.end(), "");
});

Deno.test("RelayFilter passes progress-bar redraws at once and clears the line at the end", () => {
  const f = new RelayFilter();
  assertEquals(f.push("\r[1/2 built] building x\x1b[K"), "\r[1/2 built] building x\x1b[K");
  assertEquals(f.push("\r\x1b[Kx> log line\n"), "\r\x1b[Kx> log line\n");
  assertEquals(f.push("\r[2/2 built]\x1b[K"), "\r[2/2 built]\x1b[K");
  // The error shares its line with the bar's erase; it is still recognised.
  assertEquals(f.push("\r\x1b[Kerror: attribute 'x' missing\n"), "");
  assertEquals(f.end(), "\r\x1b[K");
});

Deno.test("spinnerFrame() erases the rest of the line and shows time after 2s", () => {
  assertEquals(spinnerFrame(0, "building", 500), "\r⠋ building\x1b[K");
  assertEquals(spinnerFrame(11, "building", 3200), "\r⠙ building (3s)\x1b[K");
});

Deno.test("RelayFilter passes a warning Nix repeats once, with its detail lines", () => {
  const warning = "warning: not writing modified lock file of flake 'path:/p':\n" +
    "\u2022 Added input 'nixpkgs':\n    'path:/pkgs?narHash=x' (2026-11-29)\n";
  const f = new RelayFilter();
  const out = f.push(warning) + f.push(warning + "building '/s/a.drv'...\n") + f.push(warning) +
    f.push("warning: another\n") + f.end();
  assertEquals(out, warning + "building '/s/a.drv'...\nwarning: another\n");
  // A later call of the same run shares what was shown.
  const seen = new Set<string>();
  const first = new RelayFilter(seen);
  assertEquals(first.push(warning) + first.end(), warning);
  const second = new RelayFilter(seen);
  assertEquals(second.push(warning + "done\n") + second.end(), "done\n");
});
