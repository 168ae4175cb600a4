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
 * A generation with one child continues in its column, so a straight history
 * is one column however long; only where a generation has several children
 * (a rollback, then a switch) do they branch off and indent. Children come
 * in order of number, so the newest branch is last.
 *
 * @example
 * ```ts
 * import { drawTree } from "./generation_tree.ts";
 * drawTree([
 *   { number: 1, current: false, parent: null, label: "a" },
 *   { number: 2, current: true, parent: 1, label: "b" },
 * ]);
 * // ["1  a", "2*  b"]
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
  // `first` leads the generation's own line, `rest` the lines below it.
  const walk = (start: TreeNode, first: string, rest: string) => {
    let n: TreeNode | undefined = start;
    let lead = first;
    // A straight run is a loop, not a recursion, so any length draws.
    while (n && !seen.has(n.number)) {
      seen.add(n.number);
      lines.push(`${lead}${n.number}${n.current ? "*" : ""}  ${n.label}`.trimEnd());
      const kids: TreeNode[] = children.get(n.number) ?? [];
      lead = rest;
      if (kids.length === 1) {
        n = kids[0];
        continue;
      }
      kids.forEach((k, i) =>
        i === kids.length - 1
          ? walk(k, `${rest}└─ `, `${rest}   `)
          : walk(k, `${rest}├─ `, `${rest}│  `)
      );
      n = undefined;
    }
  };
  for (const root of children.get(null) ?? []) walk(root, "", "");
  return lines;
}
