import { assertEquals } from "./testing.ts";
import { planNixPath, setSetting, settingValue } from "./nix_conf.ts";

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
