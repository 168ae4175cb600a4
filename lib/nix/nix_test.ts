import {
  nixArgv,
  parseBuildJson,
  parseFlakeMetadata,
  parseNixVersion,
  parsePathInfoJson,
  pathInfoArgv,
  showArgv,
} from "./nix.ts";
import { assertEquals } from "../../tests/helpers/testing.ts";

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
