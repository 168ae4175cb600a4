/**
 * The word a user probably meant, for "did you mean …?" in usage errors.
 *
 * @module
 */

/**
 * The one candidate that `word` begins, else the candidate closest to it by
 * edit distance when that is close enough to be a typing slip (at most a
 * third of the word, and at least one edit). Pure.
 *
 * @example
 * ```ts
 * import { didYouMean } from "./did_you_mean.ts";
 * didYouMean("lst", ["switch", "list"]); // "list"
 * didYouMean("gen", ["generations", "list"]); // "generations"
 * didYouMean("frobnicate", ["switch", "list"]); // undefined
 * ```
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const started = candidates.filter((c) => c.startsWith(word));
  if (started.length === 1) return started[0];
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = editDistance(word, name);
    if (!best || distance < best.distance) best = { name, distance };
  }
  return best && best.distance <= Math.max(1, Math.floor(word.length / 3)) ? best.name : undefined;
}

/**
 * Up to `count` candidates close to `word`, closest first: those it begins
 * or that begin it, then those within a third of its length in edits (two at
 * least), for a list of "did you mean" names. Pure.
 *
 * @example
 * ```ts
 * import { nearest } from "./did_you_mean.ts";
 * nearest("ripgrp", ["ripgrep", "ripgrep-all", "grep", "jq"]); // ["ripgrep"]
 * ```
 */
export function nearest(word: string, candidates: readonly string[], count = 3): string[] {
  const limit = Math.max(2, Math.floor(word.length / 3));
  return candidates
    .map((name) => ({ name, distance: editDistance(word.toLowerCase(), name.toLowerCase()) }))
    .filter((c) => c.distance <= limit)
    .sort((a, b) => a.distance - b.distance || a.name.localeCompare(b.name))
    .slice(0, count)
    .map((c) => c.name);
}

/** Levenshtein distance, where swapping two neighbours counts as one edit. */
function editDistance(a: string, b: string): number {
  const d = Array.from(
    { length: a.length + 1 },
    (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}
