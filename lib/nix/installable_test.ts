import { assertEquals } from "../../tests/helpers/testing.ts";
import {
  currentSystem,
  defaultAttrs,
  machineName,
  namedAttrs,
  parseInstallable,
} from "./installable.ts";

Deno.test("defaultAttrs() tries the machine's own profile first when there is a host name", () => {
  assertEquals(defaultAttrs("x86_64-linux", "laptop"), [
    "legacyPackages.x86_64-linux.profiles.laptop",
    "packages.x86_64-linux.profile",
    "legacyPackages.x86_64-linux.profile",
    "packages.x86_64-linux.default",
  ]);
});

Deno.test("machineName() keeps the short host name, and refuses one that is no attribute name", () => {
  assertEquals(machineName("laptop.example.org"), "laptop");
  assertEquals(machineName("my-box"), "my-box");
  assertEquals(machineName("42"), undefined);
  assertEquals(machineName(""), undefined);
});

Deno.test("namedAttrs() also tries profiles.NAME for a bare name, and only the name for a path", () => {
  assertEquals(namedAttrs("laptop", "x86_64-linux"), [
    "laptop",
    "legacyPackages.x86_64-linux.profiles.laptop",
  ]);
  assertEquals(namedAttrs("profiles.laptop", "x86_64-linux"), ["profiles.laptop"]);
  assertEquals(namedAttrs('"odd name"', "x86_64-linux"), ['"odd name"']);
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
