import { join } from "node:path";
import { assertEquals, assertRejects } from "../../tests/helpers/testing.ts";
import { chooseFlake, escapeFlakeUrl, flakeReadContext } from "./flake_ref.ts";
import { FprofError } from "../errors.ts";

Deno.test("escapeFlakeUrl() encodes what Nix's URL parser refuses in the path, once", () => {
  assertEquals(
    escapeFlakeUrl("path:/home/u/sp ace é?lastModified=1&narHash=sha256-a+b="),
    "path:/home/u/sp%20ace%20%C3%A9?lastModified=1&narHash=sha256-a+b=",
  );
  assertEquals(
    escapeFlakeUrl("path:/home/u/sp%20ace?narHash=x"),
    "path:/home/u/sp%20ace?narHash=x",
  );
  assertEquals(escapeFlakeUrl("path:/home/u/100%?narHash=x"), "path:/home/u/100%25?narHash=x");
  assertEquals(escapeFlakeUrl("github:NixOS/nixpkgs/abc"), "github:NixOS/nixpkgs/abc");
});

Deno.test("chooseFlake() takes the argument, the config, ./flake.nix, then init's directory", async () => {
  const home = await Deno.makeTempDir();
  try {
    const env = new Map([["HOME", home]]);
    const cwd = join(home, "work");
    const initDir = join(home, ".config", "fprof", "profile");
    await Deno.mkdir(cwd);
    const e = await assertRejects(() => chooseFlake(undefined, undefined, env, cwd), FprofError);
    assertEquals((e as FprofError).hint?.includes("fprof init"), true);
    await Deno.mkdir(initDir, { recursive: true });
    await Deno.writeTextFile(join(initDir, "flake.nix"), "{ }");
    assertEquals(await chooseFlake(undefined, undefined, env, cwd), {
      ref: initDir,
      from: "the flake 'fprof init' wrote",
    });
    await Deno.writeTextFile(join(cwd, "flake.nix"), "{ }");
    assertEquals(await chooseFlake(undefined, undefined, env, cwd), {
      ref: ".",
      from: "the flake in the current directory",
    });
    assertEquals(await chooseFlake(undefined, "/p#x", env, cwd), {
      ref: "/p#x",
      from: "the config's flake",
    });
    assertEquals(await chooseFlake("./result", "/p#x", env, cwd), { ref: "./result" });
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("flakeReadContext() names the --override-input Nix's error quotes, else the flake and its overrides", () => {
  const args = ["--override-input", "a", "path:/a", "--override-input", "dep", "bogus:///x"];
  assertEquals(
    flakeReadContext("path:/f", args, "error: input 'bogus:///x' is unsupported\n"),
    "cannot use --override-input dep=bogus:///x",
  );
  assertEquals(
    flakeReadContext("path:/f", args, "… while updating the flake input 'a'\nerror: gone\n"),
    "cannot use --override-input a=path:/a",
  );
  assertEquals(
    flakeReadContext("path:/f", args, "error: syntax error\n"),
    "cannot read flake 'path:/f' with --override-input a=path:/a, --override-input dep=bogus:///x",
  );
  assertEquals(flakeReadContext("path:/f", [], "error: x\n"), "cannot read flake 'path:/f'");
});
