import { assertEquals } from "../../tests/helpers/testing.ts";
import { groupedText, groupPackages, UNGROUPED } from "./groups.ts";

const pkg = (name: string) => ({ name, version: "1.0", storePaths: [`/nix/store/x-${name}-1.0`] });

Deno.test("groupPackages() sorts groups by name and puts ungrouped packages last", () => {
  const [a, b, c] = [pkg("a"), pkg("b"), pkg("c")];
  const groups = { [b.storePaths[0]]: "gui", [c.storePaths[0]]: "cli" };
  assertEquals(groupPackages([a, b, c], groups), [["cli", [c]], ["gui", [b]], [UNGROUPED, [a]]]);
});

Deno.test("groupedText() indents each group's packages under a heading", () => {
  const text = groupedText(
    [["cli", [pkg("jq")]], [UNGROUPED, [pkg("hello")]]],
    (ps) => ps.map((p) => `${p.name}  ${p.version}\n`).join(""),
  );
  assertEquals(text, "cli:\n  jq  1.0\n(no group):\n  hello  1.0\n");
});
