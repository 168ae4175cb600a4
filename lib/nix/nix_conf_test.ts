import { assertEquals } from "../../tests/helpers/testing.ts";
import {
  confFromBytes,
  confString,
  confToBytes,
  includedFiles,
  overrideSource,
  planNixPath,
  setSetting,
  settingOrigin,
  settingValue,
} from "./nix_conf.ts";

Deno.test("settingValue() takes the last assignment and ignores comments", () => {
  assertEquals(settingValue("nix-path = a\n#nix-path = b\nnix-path = c # why\n", "nix-path"), "c");
  assertEquals(settingValue("extra-nix-path = a\n", "nix-path"), undefined);
});

Deno.test("setSetting() replaces the line Nix obeys and keeps every other byte", () => {
  const text = "# mine\r\nnix-path = a\ncores = 2\nnix-path = b\n\n# end";
  assertEquals(
    setSetting(text, "nix-path", "x"),
    "# mine\r\nnix-path = a\ncores = 2\nnix-path = x\n\n# end",
  );
  assertEquals(setSetting("cores = 2", "nix-path", "x"), "cores = 2\nnix-path = x\n");
  assertEquals(setSetting("", "nix-path", "x"), "nix-path = x\n");
});

Deno.test("setSetting() keeps CRLF lines CRLF, and confFromBytes() keeps bytes that are not UTF-8", () => {
  assertEquals(
    setSetting("a = 1\r\nnix-path = b\r\n", "nix-path", "x"),
    "a = 1\r\nnix-path = x\r\n",
  );
  assertEquals(setSetting("a = 1\r\n", "nix-path", "x"), "a = 1\r\nnix-path = x\r\n");
  const bytes = new Uint8Array([0x23, 0x20, 0xe9, 0xff, 0x0d, 0x0a]);
  assertEquals(confToBytes(setSetting(confFromBytes(bytes), "a", "1")).subarray(0, 6), bytes);
  assertEquals(confToBytes(confString("é")), new TextEncoder().encode("é"));
});

Deno.test("planNixPath() puts the pins first and keeps other entries, or Nix's default", () => {
  assertEquals(
    planNixPath(undefined, ["/home/u/.nix-defexpr/channels"], { nixpkgs: "/nix/store/a-source" }),
    "nixpkgs=/nix/store/a-source /home/u/.nix-defexpr/channels",
  );
  assertEquals(
    planNixPath("hm=/h nixpkgs=/old", ["/ignored"], { nixpkgs: "flake:nixpkgs" }),
    "nixpkgs=flake:nixpkgs hm=/h",
  );
});

Deno.test("overrideSource() names NIX_CONFIG, NIX_PATH or a later include", () => {
  const conf = "nix-path = nixpkgs=/s\n";
  assertEquals(overrideSource({ name: "nix-path", nixConf: conf, env: {} }), null);
  assertEquals(
    overrideSource({ name: "nix-path", nixConf: conf, env: { NIX_CONFIG: "nix-path = x=/y" } }),
    "the NIX_CONFIG environment variable",
  );
  assertEquals(
    overrideSource({
      name: "nix-path",
      nixConf: conf,
      env: { NIX_PATH: "nixpkgs=/o" },
      nixPathVariableWins: true,
    }),
    "the NIX_PATH environment variable",
  );
  assertEquals(
    overrideSource({ name: "nix-path", nixConf: conf, env: { NIX_PATH: "nixpkgs=/o" } }),
    null,
  );
  assertEquals(
    overrideSource({ name: "nix-path", nixConf: "include a.conf\n" + conf, env: {} }),
    null,
  );
  assertEquals(
    overrideSource({ name: "nix-path", nixConf: conf + "!include b.conf\n", env: {} }),
    "a later include in nix.conf ('b.conf')",
  );
});

Deno.test("settingOrigin() follows includes in the order Nix reads them", () => {
  const files: Record<string, string> = {
    "/c/a.conf": "include sub/b.conf\n",
    "/c/sub/b.conf": "nix-path = b=/b\n",
  };
  const read = (f: string) => files[f] ?? null;
  assertEquals(settingOrigin("!include a.conf\n", "/c/nix.conf", "nix-path", read), {
    value: "b=/b",
    from: "/c/sub/b.conf",
    ownLineBefore: false,
  });
  assertEquals(
    settingOrigin("include a.conf\nnix-path = own\n", "/c/nix.conf", "nix-path", read)?.from,
    null,
  );
  assertEquals(
    settingOrigin("nix-path = own\ninclude a.conf\n", "/c/nix.conf", "nix-path", read)
      ?.ownLineBefore,
    true,
  );
  assertEquals(settingOrigin("!include gone.conf\n", "/c/nix.conf", "nix-path", read), undefined);
  assertEquals(includedFiles("include  x.conf # why\ninclude\n", "/c/nix.conf"), ["/c/x.conf"]);
});
