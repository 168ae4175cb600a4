/**
 * The parent tree of `fprof generations --tree`: each generation under the
 * one it was made from, so the branches that rollbacks create show. Pure.
 *
 * @module
 */

/** What the tree needs of a generation. */
export interface TreeNode {
  number: number;
  current: boolean;
  /** The recorded parent, or null for a root or a generation another tool made. */
  parent: number | null;
  /** The rest of the line: date, package count, source. */
  label: string;
}

/**
 * Draws the tree. A generation whose parent is unknown or gone is a root.
 * Children come in order of number, so the newest branch is last.
 *
 * @example
 * ```ts
 * import { drawTree } from "./generation_tree.ts";
 * drawTree([
 *   { number: 1, current: false, parent: null, label: "a" },
 *   { number: 2, current: true, parent: 1, label: "b" },
 * ]);
 * // ["1  a", "└─ 2*  b"]
 * ```
 */
export function drawTree(nodes: readonly TreeNode[]): string[] {
  const numbers = new Set(nodes.map((n) => n.number));
  const children = new Map<number | null, TreeNode[]>();
  for (const n of [...nodes].sort((a, b) => a.number - b.number)) {
    const parent = n.parent !== null && numbers.has(n.parent) && n.parent !== n.number
      ? n.parent
      : null;
    children.set(parent, [...(children.get(parent) ?? []), n]);
  }
  const lines: string[] = [];
  const seen = new Set<number>();
  const walk = (n: TreeNode, lead: string, branch: string) => {
    if (seen.has(n.number)) return;
    seen.add(n.number);
    lines.push(`${lead}${branch}${n.number}${n.current ? "*" : ""}  ${n.label}`.trimEnd());
    const kids = children.get(n.number) ?? [];
    const next = lead + (branch === "" ? "" : branch === "├─ " ? "│  " : "   ");
    kids.forEach((k, i) => walk(k, next, i === kids.length - 1 ? "└─ " : "├─ "));
  };
  for (const root of children.get(null) ?? []) walk(root, "", "");
  return lines;
}
