import { assertEquals, assertStringIncludes } from "../../tests/helpers/testing.ts";
import {
  declarePackages,
  fillTemplate,
  initDir,
  LIBRARY_FILE,
  nextCommand,
  nixpkgsFromManifest,
  packageListNix,
  TEMPLATES,
  withNixpkgs,
} from "./init.ts";

const S = "/nix/store/ry3wji0qjghzb55bgp6babkivblpiyim";

Deno.test("declarePackages() takes attribute names from attr paths, guesses from names, and gives up on the rest", () => {
  const declared = declarePackages([
    {
      name: "requests",
      version: "2.31",
      storePaths: [`${S}-python3.11-requests-2.31`],
      attrPath: "legacyPackages.x86_64-linux.python3Packages.requests",
    },
    {
      name: "hello",
      version: "2.12",
      storePaths: [`${S}-hello-2.12`],
      attrPath: "legacyPackages.x86_64-linux.profiles.laptop.packages.hello",
    },
    { name: "jq", version: "1.6", storePaths: [`${S}-jq-1.6`] },
    { name: "gtk+3", version: "3.24", storePaths: [`${S}-gtk+3-3.24`] },
  ]);
  assertEquals(declared.map((d) => [d.attr, d.note]), [
    ["python3Packages.requests", undefined],
    ["hello", undefined],
    ["jq", "attribute guessed from the package name"],
    [undefined, "no attribute name is known"],
  ]);
  const text = packageListNix("shared", declared, "  ", "From generation 3.");
  assertEquals(
    text,
    [
      "  shared = {",
      "    # From generation 3.",
      "    requests = pkgs.python3Packages.requests;",
      "    hello = pkgs.hello;",
      "    jq = pkgs.jq; # attribute guessed from the package name (jq-1.6)",
      `    # gtk+3-3.24: no attribute name is known; was ${S}-gtk+3-3.24`,
      "  };",
      "",
    ].join("\n"),
  );
});

Deno.test("fillTemplate() replaces the template's example packages and the machines' extras", async () => {
  const text = await Deno.readTextFile(
    new URL("../../templates/default/flake.nix", import.meta.url),
  );
  const filled = fillTemplate("default", text, [
    { attr: "cowsay", fullName: "cowsay-3.7", storePath: `${S}-cowsay-3.7` },
  ], "Here.");
  assertStringIncludes(
    filled,
    "shared = {\n            # Here.\n            cowsay = pkgs.cowsay;\n",
  );
  assertEquals(/ripgrep|xterm|inherit \(pkgs\) hello/.test(filled), false);
  const noFlake = await Deno.readTextFile(
    new URL("../../templates/no-flake/default.nix", import.meta.url),
  );
  assertStringIncludes(
    fillTemplate("no-flake", noFlake, [], "Nothing."),
    "    paths = {\n      # Nothing.\n    };\n",
  );
});

Deno.test("initDir() defaults to the config directory, and nextCommand() quotes it", () => {
  const env = new Map([["HOME", "/home/a"]]);
  assertEquals(initDir(undefined, env), "/home/a/.config/fprof/profile");
  assertEquals(initDir(undefined, new Map()), Deno.cwd());
  assertEquals(nextCommand("default", "/home/a/my profile"), "fprof switch '/home/a/my profile'");
  assertEquals(
    nextCommand("no-flake", "/p"),
    `fprof switch "$(nix-build --no-out-link /p -A profile)"`,
  );
});

Deno.test("each template's fprof.nix is a copy of nix/lib.nix, the library init writes", async () => {
  const root = new URL("../../", import.meta.url);
  const library = await Deno.readTextFile(new URL("nix/lib.nix", root));
  for (const template of Object.keys(TEMPLATES)) {
    assertEquals(
      await Deno.readTextFile(new URL(`templates/${template}/${LIBRARY_FILE}`, root)),
      library,
      `templates/${template}/${LIBRARY_FILE} differs from nix/lib.nix: copy it again`,
    );
  }
});

Deno.test("withNixpkgs() writes the URL as the default template's nixpkgs input, escaped for Nix", () => {
  const text = withNixpkgs(TEMPLATES.default.text, 'path:/src/nix"pkgs');
  assertStringIncludes(text, '  inputs.nixpkgs.url = "path:/src/nix\\"pkgs";\n');
  assertEquals(text.includes("github:NixOS/nixpkgs"), false);
});

Deno.test("nixpkgsFromManifest() takes the flake most set packages came from, resolving registry names", () => {
  const pkg = (name: string, attrPath?: string, originalSource?: string, source?: string) => ({
    name,
    version: "1",
    storePaths: [`${S}-${name}-1`],
    ...(attrPath ? { attrPath } : {}),
    ...(originalSource ? { originalSource } : {}),
    ...(source ? { source } : {}),
  });
  const locked = "github:NixOS/nixpkgs/0123456789abcdef0123456789abcdef01234567";
  assertEquals(
    nixpkgsFromManifest([
      pkg("b", "legacyPackages.x86_64-linux.b", "path:/src/other", "path:/src/other?narHash=x"),
      pkg("a", "legacyPackages.x86_64-linux.a", "github:NixOS/nixpkgs/nixos-24.05", locked),
      pkg(
        "c",
        "legacyPackages.x86_64-linux.haskell.packages.ghc96.c",
        "github:NixOS/nixpkgs/nixos-24.05",
        locked,
      ),
    ]),
    "github:NixOS/nixpkgs/nixos-24.05",
  );
  // `nixpkgs#hello` records the registry name: the locked URL says which flake it was.
  assertEquals(
    nixpkgsFromManifest([pkg("a", "legacyPackages.x86_64-linux.a", "flake:nixpkgs", locked)]),
    locked,
  );
  // A package of fprof's own profile flake, or from nix-env, names no nixpkgs.
  assertEquals(
    nixpkgsFromManifest([
      pkg("a", "legacyPackages.x86_64-linux.profile.packages.a", "path:/home/me/profile"),
      pkg("b"),
    ]),
    undefined,
  );
});
