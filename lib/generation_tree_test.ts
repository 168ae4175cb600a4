import { assertEquals } from "./testing.ts";
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

Deno.test("drawTree() nests chains and makes roots of unknown or missing parents", () => {
  assertEquals(drawTree([node(1, null), node(2, 1), node(3, 2, true), node(4, 1), node(6, 5)]), [
    "1  g1",
    "├─ 2  g2",
    "│  └─ 3*  g3",
    "└─ 4  g4",
    "6  g6",
  ]);
});
