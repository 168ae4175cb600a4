/**
 * A unified diff of two versions of one text file, as `diff -u` prints it,
 * for showing an edit fprof would make before it makes it.
 *
 * @module
 */

/**
 * The unified diff from `before` to `after`, labelled `a/NAME` and `b/NAME`,
 * with three lines of context; `""` when they are the same. The lines that
 * differ are taken as one hunk, from the first changed line to the last,
 * which is what an edit of one place needs and is still a valid patch. Pure.
 *
 * @example
 * ```ts
 * import { unifiedDiff } from "./unified_diff.ts";
 * unifiedDiff("flake.nix", "a\nb\n", "a\nc\n");
 * // "--- a/flake.nix\n+++ b/flake.nix\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n"
 * ```
 */
export function unifiedDiff(name: string, before: string, after: string): string {
  if (before === after) return "";
  const a = splitLines(before);
  const b = splitLines(after);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (
    tail < a.length - head && tail < b.length - head &&
    a[a.length - 1 - tail] === b[b.length - 1 - tail]
  ) tail++;
  const from = Math.max(0, head - 3);
  const aEnd = Math.min(a.length, a.length - tail + 3);
  const bEnd = Math.min(b.length, b.length - tail + 3);
  const body = [
    ...a.slice(from, head).map((l) => ` ${l}`),
    ...a.slice(head, a.length - tail).map((l) => `-${l}`),
    ...b.slice(head, b.length - tail).map((l) => `+${l}`),
    ...a.slice(a.length - tail, aEnd).map((l) => ` ${l}`),
  ].map((l) => l.endsWith("\n") ? l : `${l}\n\\ No newline at end of file\n`);
  return `--- a/${name}\n+++ b/${name}\n@@ -${range(from, aEnd)} +${range(from, bEnd)} @@\n` +
    body.join("");
}

/** The lines of `text`, each with its newline (the last may have none). */
function splitLines(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

/** A hunk's `start,count`, 1-based, as diff writes it (`0,0` for nothing at the start). */
function range(from: number, to: number): string {
  const count = to - from;
  return `${count === 0 ? from : from + 1},${count}`;
}
