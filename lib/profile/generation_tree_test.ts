import { assertEquals } from "../../tests/helpers/testing.ts";
import { drawTree, type TreeNode } from "./generation_tree.ts";

const node = (number: number, parent: number | null, current = false): TreeNode => ({
  number,
  parent,
  current,
  label: `g${number}`,
});

Deno.test("drawTree() shows the branch a rollback and a new switch make", () => {
  // A=1, B=2 from 1, rollback to 1, C=3 from 1, rollback to 1.
  assertEquals(drawTree([node(1, null, true), node(2, 1), node(3, 1)]), [
    "1*  g1",
    "├─ 2  g2",
    "└─ 3  g3",
  ]);
});

Deno.test("drawTree() keeps straight runs in one column and makes roots of unknown or missing parents", () => {
  assertEquals(drawTree([node(1, null), node(2, 1), node(3, 2, true), node(4, 1), node(6, 5)]), [
    "1  g1",
    "├─ 2  g2",
    "│  3*  g3",
    "└─ 4  g4",
    "6  g6",
  ]);
});

Deno.test("drawTree() draws a long straight history in one column", () => {
  const nodes = Array.from({ length: 20_000 }, (_, i) => node(i + 1, i === 0 ? null : i));
  const lines = drawTree(nodes);
  assertEquals(lines.length, 20_000);
  assertEquals(lines.at(-1), "20000  g20000");
  assertEquals(lines.filter((l) => !/^\d/.test(l)), []);
});
