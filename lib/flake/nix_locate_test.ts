import { assertEquals, assertOk } from "../../tests/helpers/testing.ts";
import { repositoryNixFiles } from "../../tests/helpers/nix_files.ts";
import {
  appendEntries,
  type Choice,
  chooseList,
  locate,
  type PackageList,
  removeEntries,
} from "./nix_locate.ts";

/** The one list `chooseList` picks by default in `source`; fails otherwise. */
function listOf(source: string, want = {}): PackageList {
  const c = chooseList(locate(source), want);
  if (c.kind !== "list") throw new Error(`no list chosen: ${JSON.stringify(c)}`);
  return c.list;
}

const add = (source: string, names: string[], want = {}) =>
  appendEntries(source, listOf(source, want), names);
const remove = (source: string, names: string[], want = {}) =>
  removeEntries(source, listOf(source, want), names);

Deno.test("locate() reads the three shapes, one line or one entry per line", () => {
  const cases: [string, PackageList["shape"], string, string[]][] = [
    ["{ shared = { inherit (pkgs) hello jq; }; }", "inherit", "pkgs", ["hello", "jq"]],
    ["{ paths = with pkgs; [ hello python3Packages.black ]; }", "with", "pkgs", [
      "hello",
      "python3Packages.black",
    ]],
    ["{ paths = [ p.hello p.jq ]; }", "select", "p", ["hello", "jq"]],
    ["{ paths = [\n  pkgs.hello # the greeter\n  /* c */ pkgs.jq\n]; }", "select", "pkgs", [
      "hello",
      "jq",
    ]],
  ];
  for (const [source, shape, scope, names] of cases) {
    const list = listOf(source);
    assertEquals([list.shape, list.scope, list.entries.map((e) => e.name)], [shape, scope, names]);
  }
});

Deno.test("appendEntries() follows the list's layout and keeps every other byte", () => {
  assertEquals(
    add("{ shared = { inherit (pkgs) hello; }; }", ["jq", "rg"]),
    "{ shared = { inherit (pkgs) hello jq rg; }; }",
  );
  assertEquals(
    add("{ paths = [ pkgs.hello ]; }", ["jq"]),
    "{ paths = [ pkgs.hello pkgs.jq ]; }",
  );
  assertEquals(add("{ paths = with pkgs; []; }", ["jq"]), "{ paths = with pkgs; [jq]; }");
  assertEquals(add("{ paths = with pkgs; [ ]; }", ["jq"]), "{ paths = with pkgs; [ jq ]; }");
  // One per line: a line of its own, after the last entry's comment.
  assertEquals(
    add("{\n  paths = with pkgs; [\n    hello # greets\n  ];\n}\n", ["jq"]),
    "{\n  paths = with pkgs; [\n    hello # greets\n    jq\n  ];\n}\n",
  );
  assertEquals(
    add("{\n  paths = with pkgs; [\n  ];\n}\n", ["jq"]),
    "{\n  paths = with pkgs; [\n    jq\n  ];\n}\n",
  );
  assertEquals(
    add("{ shared = {\n  inherit (pkgs)\n    hello\n    jq;\n}; }", ["rg"]),
    "{ shared = {\n  inherit (pkgs)\n    hello\n    jq\n    rg;\n}; }",
  );
});

Deno.test("removeEntries() takes an entry with its line or its space, and nothing else", () => {
  assertEquals(
    remove("{ shared = { inherit (pkgs) hello jq; }; }", ["hello"]),
    "{ shared = { inherit (pkgs) jq; }; }",
  );
  assertEquals(remove("{ paths = [ pkgs.a pkgs.b ]; }", ["b"]), "{ paths = [ pkgs.a ]; }");
  assertEquals(remove("{ paths = with pkgs; [a b]; }", ["a"]), "{ paths = with pkgs; [b]; }");
  assertEquals(
    remove("{\n  paths = with pkgs; [\n    a # first\n    # keep me\n    b\n  ];\n}", ["a"]),
    "{\n  paths = with pkgs; [\n    # keep me\n    b\n  ];\n}",
  );
  assertEquals(
    remove("{ shared = {\n  inherit (pkgs)\n    hello\n    jq;\n}; }", ["jq"]),
    "{ shared = {\n  inherit (pkgs)\n    hello;\n}; }",
  );
});

/** The template's shape: `paths = shared;` inside the machine function, groups per host. */
const TEMPLATE = `{
  outputs = { self, nixpkgs }: {
    legacyPackages = f (pkgs:
      let
        shared = { inherit (pkgs) hello jq; };
        machine = groups: mk { paths = shared; inherit groups; };
      in
      rec {
        profiles = {
          laptop = machine { cli = { inherit (pkgs) ripgrep; }; };
          desktop = machine {
            cli = { inherit (pkgs) ripgrep; };
            gui = { inherit (pkgs) xterm; };
          };
        };
        profile = machine { };
      });
  };
}
`;

Deno.test("chooseList() finds the shared list, a host's group, and says when it cannot choose", () => {
  const found = locate(TEMPLATE);
  const line = (c: Choice) => c.kind === "list" ? c.list.binding.line : c.kind;
  assertEquals(line(chooseList(found, {})), 5);
  assertEquals(line(chooseList(found, { group: "cli", host: "laptop" })), 10);
  assertEquals(line(chooseList(found, { host: "laptop" })), 10);
  assertEquals(line(chooseList(found, { group: "gui", host: "desktop" })), 13);
  const both = chooseList(found, { host: "desktop" });
  assertEquals(both.kind === "ambiguous" && both.candidates.map((b) => b.line), [12, 13]);
  const none = chooseList(found, { group: "gui", host: "laptop" });
  assertEquals(none.kind === "none" && none.near.map((b) => b.path.at(-1)), ["cli"]);
  // Two profiles with lists of their own: ambiguous, each named by its line.
  const two = chooseList(
    locate("{ a = env { paths = [ p.x ]; }; b = env { paths = [ p.y ]; }; }"),
    {},
  );
  assertEquals(two.kind, "ambiguous");
});

Deno.test("chooseList() refuses a computed list with its place, and never calls it a list", () => {
  for (
    const source of [
      "{ paths = map (n: pkgs.${n}) names; }",
      "{ paths = base ++ [ pkgs.jq ]; }",
      "{ paths = builtins.attrValues { inherit (pkgs) jq; }; }",
      "{ paths = with pkgs; [ hello ] ++ extra; }",
      '{ paths = [ pkgs.hello "x" ]; }',
    ]
  ) {
    const c = chooseList(locate(source), {});
    assertEquals(c.kind === "computed" && c.at.map((b) => b.line), [1], source);
  }
});

Deno.test("every list of every .nix file of the repository survives an add and a remove byte for byte", async () => {
  const files = await repositoryNixFiles();
  assertOk(files.length >= 8, `only ${files.length} .nix files found`);
  let lists = 0;
  for (const file of files) {
    const source = await Deno.readTextFile(file);
    const found = locate(source);
    found.bindings.forEach(({ value }, i) => {
      if (value.kind !== "list") return;
      lists++;
      const added = appendEntries(source, value.list, ["fuzzA", "fuzzB"]);
      const again = locate(added).bindings[i].value;
      assertOk(again.kind === "list", `${file}:${value.list.binding.line}: no list after the add`);
      assertEquals(
        again.list.entries.map((e) => e.name),
        [...value.list.entries.map((e) => e.name), "fuzzA", "fuzzB"],
      );
      assertEquals(removeEntries(added, again.list, ["fuzzA", "fuzzB"]), source, file);
      for (const e of value.list.entries) {
        // Taking an entry out changes that list only: the rest still locates the same.
        const without = removeEntries(source, value.list, [e.name]);
        assertEquals(locate(without).bindings.length, found.bindings.length, file);
      }
    });
  }
  assertOk(lists >= 3, `only ${lists} lists found: the fuzz tests nothing`);
});
