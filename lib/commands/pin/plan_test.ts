import { assertEquals, assertThrows } from "../../../tests/helpers/testing.ts";
import {
  defaultChannelsProfile,
  flakeNixPathWorks,
  pinFlakeDir,
  planPinFiles,
  registryIsRemote,
} from "./plan.ts";
import { parseNixVersion } from "../../nix/nix.ts";
import { FprofError, UsageError } from "../../errors.ts";

const env = new Map([["HOME", "/home/u"]]);
const pin = { id: "nixpkgs", storePath: "/nix/store/a-source", narHash: "sha256-a" };

Deno.test("pinFlakeDir() accepts local references and refuses remote ones", () => {
  assertEquals(pinFlakeDir("path:/p/f#profile", env), "/p/f");
  assertEquals(pinFlakeDir("git+file:///p/f?ref=main", env), "/p/f");
  assertEquals(pinFlakeDir("~/profile", env), "/home/u/profile");
  assertThrows(() => pinFlakeDir("github:me/profile", env), UsageError, "is not local");
});

Deno.test("flakeNixPathWorks() needs Nix 2.13 and the flakes feature", () => {
  assertEquals(flakeNixPathWorks(parseNixVersion("nix (Nix) 2.8.0"), ["flakes"]), false);
  assertEquals(flakeNixPathWorks(parseNixVersion("nix (Nix) 2.18.1"), ["flakes"]), true);
  assertEquals(flakeNixPathWorks(parseNixVersion("nix (Nix) 2.18.1"), ["nix-command"]), false);
});

Deno.test("registryIsRemote() tells URLs from local files", () => {
  assertEquals(
    registryIsRemote("https://github.com/NixOS/flake-registry/raw/master/flake-registry.json"),
    true,
  );
  assertEquals(registryIsRemote("/etc/nix/global-registry.json"), false);
  assertEquals(registryIsRemote("path:/x.json"), false);
});

Deno.test("planPinFiles() changes nothing the second time", () => {
  const args = {
    pins: [pin],
    registryText: "",
    registryFile: "r",
    nixConfFile: "/c/nix.conf",
    nixConf: new TextEncoder().encode("cores = 2\n"),
    nixPathTarget: () => pin.storePath,
    nixPathDefault: ["/home/u/.nix-defexpr/channels"],
  };
  const once = planPinFiles(args);
  assertEquals(
    new TextDecoder().decode(once.nixConf),
    "cores = 2\nnix-path = nixpkgs=/nix/store/a-source /home/u/.nix-defexpr/channels\n",
  );
  const twice = planPinFiles({ ...args, registryText: once.registry, nixConf: once.nixConf });
  assertEquals(twice, once);
  const offline = planPinFiles({ ...args, flakeRegistry: "/s/empty.json" });
  assertEquals(
    new TextDecoder().decode(offline.nixConf).endsWith("flake-registry = /s/empty.json\n"),
    true,
  );
});

Deno.test("planPinFiles() keeps every byte of nix.conf it does not own", () => {
  // A Latin-1 comment (not UTF-8) and CRLF lines; the new line ends as the file's last.
  const head = [...new TextEncoder().encode("# caf"), 0xe9, ...new TextEncoder().encode("\r\n")];
  const nixConf = new Uint8Array([...head, ...new TextEncoder().encode("cores = 2\r\n")]);
  const planned = planPinFiles({
    pins: [pin],
    registryText: "",
    registryFile: "r",
    nixConfFile: "/c/nix.conf",
    nixConf,
    nixPathTarget: () => pin.storePath,
    nixPathDefault: ["/home/é/.nix-defexpr/channels"],
  });
  assertEquals(planned.nixConf.subarray(0, nixConf.length), nixConf);
  assertEquals(
    new TextDecoder().decode(planned.nixConf.subarray(nixConf.length)),
    "nix-path = nixpkgs=/nix/store/a-source /home/é/.nix-defexpr/channels\r\n",
  );
});

Deno.test("planPinFiles() keeps a nix-path from an include, and refuses one that overrides its line", () => {
  const args = {
    pins: [pin],
    registryText: "",
    registryFile: "r",
    nixConf: new TextEncoder().encode("include more.conf\n"),
    nixConfFile: "/c/nix.conf",
    included: new Map([["/c/more.conf", "nix-path = hm=/h\n"]]),
    nixPathTarget: () => pin.storePath,
    nixPathDefault: ["/ignored"],
  };
  assertEquals(
    new TextDecoder().decode(planPinFiles(args).nixConf),
    "include more.conf\nnix-path = nixpkgs=/nix/store/a-source hm=/h\n",
  );
  const later = new TextEncoder().encode("nix-path = a=/a\ninclude more.conf\n");
  assertThrows(
    () => planPinFiles({ ...args, nixConf: later }),
    FprofError,
    "includes after its own nix-path line",
  );
});

Deno.test("defaultChannelsProfile() follows the installed Nix's default", () => {
  const ctx = {
    env: new Map([["HOME", "/h"], ["USER", "u"], ["XDG_STATE_HOME", "/h/st"]]),
    nix: { stateDir: "/nix/var/nix" },
  };
  const v = (s: string) => parseNixVersion(s);
  assertEquals(
    defaultChannelsProfile(v("nix (Nix) 2.8.0"), ctx, 1000),
    "/nix/var/nix/profiles/per-user/u/channels",
  );
  assertEquals(
    defaultChannelsProfile(v("nix (Nix) 2.18.1"), ctx, 1000),
    "/h/st/nix/profiles/channels",
  );
  assertEquals(
    defaultChannelsProfile(v("nix (Lix, like Nix) 2.91.1"), ctx, 1000),
    "/h/st/nix/profiles/channels",
  );
  assertEquals(
    defaultChannelsProfile(v("nix (Nix) 2.18.1"), ctx, 0),
    "/nix/var/nix/profiles/per-user/root/channels",
  );
});
