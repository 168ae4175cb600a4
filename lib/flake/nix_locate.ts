/**
 * Finds the lists of packages a flake declares, and edits one of them
 * without touching a byte around its entries. Pure: it works on the source
 * text, through {@link lexNix}, and never evaluates anything.
 *
 * It knows the bindings of attribute sets and `let`s (`a.b = …;`), each
 * named by the path of the bindings around it, and three shapes of list:
 *
 * - `{ inherit (pkgs) a b; }`, an attribute set of packages;
 * - `with pkgs; [ a b ]`;
 * - `[ pkgs.a pkgs.b ]`.
 *
 * A binding whose value is any other expression (`map …`, `a ++ b`, a
 * function's result) is "computed": it is reported with its place, never
 * rewritten, since no edit of it could be both small and sure.
 *
 * @module
 */

import { lexNix, type Token } from "./nix_lexer.ts";

/** One binding `a.b = value;` of an attribute set or a `let`. */
export interface Binding {
  /** The names of the bindings around it, then its own attribute path. */
  path: string[];
  /** Whether it is a `let` binding (a local name, not an attribute). */
  local: boolean;
  /** Line (1-based) of its first name. */
  line: number;
  /** Its value, as indexes into the significant tokens: `[from, to)`. */
  value: [number, number];
}

/** An entry of a package list: its name as declared, and its bytes. */
export interface ListEntry {
  /** The attribute path under the list's scope, such as `python3Packages.black`. */
  name: string;
  start: number;
  end: number;
}

/** A list of packages whose entries fprof can edit. */
export interface PackageList {
  shape: "inherit" | "with" | "select";
  /** The set the names are looked up in: `pkgs` in `inherit (pkgs)`. */
  scope: string;
  binding: Binding;
  entries: ListEntry[];
  /** Offset just after `[` (or after `inherit (pkgs)`), where an empty list's first entry goes. */
  open: number;
  /** Offset of `]` (or of the inherit's `;`). */
  close: number;
}

/** What the value of a binding is, for choosing a list. */
export type BindingValue =
  | { kind: "list"; list: PackageList }
  | { kind: "ref"; name: string }
  | { kind: "computed" };

/** Every binding of a source, with what its value is. */
export interface Located {
  source: string;
  bindings: { binding: Binding; value: BindingValue }[];
}

interface Lexed {
  source: string;
  all: Token[];
  /** The tokens that are not space or comments. */
  sig: Token[];
  /** For each opening token's index in `sig`, its closing token's index. */
  match: Map<number, number>;
}

const end = (t: Token) => t.start + t.text.length;

/** Locates every binding of `source` (throws a NixLexError on text Nix would not read). */
export function locate(source: string): Located {
  const lexed = lex(source);
  const found: Binding[] = [];
  scanExpr(lexed, 0, lexed.sig.length, [], found);
  return {
    source,
    bindings: found.map((binding) => ({ binding, value: valueOf(lexed, binding) })),
  };
}

function lex(source: string): Lexed {
  const all = lexNix(source);
  const sig = all.filter((t) => t.kind !== "space" && t.kind !== "comment");
  const match = new Map<number, number>();
  const stack: number[] = [];
  sig.forEach((t, i) => {
    const top = stack.at(-1);
    const inString = top !== undefined && isQuote(sig[top]);
    if (isQuote(t) && inString && sig[top!].kind === t.kind) {
      match.set(stack.pop()!, i);
    } else if (isQuote(t) || isOpen(t)) {
      stack.push(i);
    } else if (t.kind === "op" && (t.text === "}" || t.text === "]" || t.text === ")")) {
      if (stack.length) match.set(stack.pop()!, i);
    }
  });
  return { source, all, sig, match };
}

const isQuote = (t: Token) => t.kind === "quote" || t.kind === "indent-quote";
const isOpen = (t: Token) =>
  t.kind === "interp" || (t.kind === "op" && (t.text === "{" || t.text === "[" || t.text === "("));
const isOp = (t: Token | undefined, text: string) => t?.kind === "op" && t.text === text;
const isWord = (t: Token | undefined, text: string) => t?.kind === "id" && t.text === text;

/** The index after the expression part starting at `i`: a bracketed group is skipped whole. */
function skip(lexed: Lexed, i: number): number {
  return (lexed.match.get(i) ?? i) + 1;
}

/** Finds the bindings of every attribute set and `let` in `sig[from, to)`. */
function scanExpr(lexed: Lexed, from: number, to: number, prefix: string[], out: Binding[]) {
  const { sig } = lexed;
  for (let i = from; i < to;) {
    const t = sig[i];
    if (isOp(t, "{")) {
      const close = lexed.match.get(i) ?? to;
      const after = scanBindings(lexed, i + 1, close, prefix, false, out);
      if (after < close) scanExpr(lexed, after, close, prefix, out);
      i = close + 1;
    } else if (isWord(t, "let")) {
      i = scanBindings(lexed, i + 1, to, prefix, true, out);
      if (isWord(sig[i], "in")) i++;
    } else if (isOpen(t) || isQuote(t)) {
      const close = lexed.match.get(i) ?? to;
      scanExpr(lexed, i + 1, close, prefix, out);
      i = close + 1;
    } else {
      i++;
    }
  }
}

/**
 * Reads `name = value;` and `inherit …;` from `i` for as long as there are
 * any; returns the index of what follows them (`}`, `in`, or what is not a
 * binding, as in a function's pattern).
 */
function scanBindings(
  lexed: Lexed,
  i: number,
  to: number,
  prefix: string[],
  local: boolean,
  out: Binding[],
): number {
  const { sig } = lexed;
  while (i < to) {
    if (isWord(sig[i], "inherit")) {
      i = statementEnd(lexed, i, to) + 1;
      continue;
    }
    const names = attrPath(lexed, i);
    if (names === null || !isOp(sig[names.next], "=")) return i;
    const from = names.next + 1;
    const stop = statementEnd(lexed, from, to);
    const binding: Binding = {
      path: [...prefix, ...names.path],
      local,
      line: lineOf(lexed.source, sig[i].start),
      value: [from, stop],
    };
    out.push(binding);
    scanExpr(lexed, from, stop, binding.path, out);
    i = stop + 1;
  }
  return i;
}

/** The index of the `;` that ends the statement at `i` (or `to`). */
function statementEnd(lexed: Lexed, i: number, to: number): number {
  // `with e;` and `assert e;` open an expression with a `;` of their own.
  let opened = 0;
  for (; i < to; i = skip(lexed, i)) {
    const t = lexed.sig[i];
    if (isWord(t, "with") || isWord(t, "assert")) opened++;
    else if (isOp(t, ";") && opened-- === 0) break;
  }
  return Math.min(i, to);
}

/** An attribute path `a."b".c` at `i`, and the index after it; null when there is none. */
function attrPath(lexed: Lexed, i: number): { path: string[]; next: number } | null {
  const { sig } = lexed;
  const path: string[] = [];
  for (;;) {
    const t = sig[i];
    if (t?.kind === "id") {
      path.push(t.text);
      i++;
    } else if (
      t?.kind === "quote" && sig[i + 1]?.kind === "string-part" &&
      sig[i + 2] === sig[lexed.match.get(i) ?? -1]
    ) {
      path.push(sig[i + 1].text);
      i += 3;
    } else {
      return null;
    }
    if (!isOp(sig[i], ".")) return { path, next: i };
    i++;
  }
}

/** What a binding's value is: one of the three list shapes, another name, or computed. */
function valueOf(lexed: Lexed, binding: Binding): BindingValue {
  const [from, to] = binding.value;
  const { sig } = lexed;
  if (to - from === 1 && sig[from].kind === "id") return { kind: "ref", name: sig[from].text };
  const list = inheritList(lexed, binding) ?? withList(lexed, binding) ??
    selectList(lexed, binding);
  return list ? { kind: "list", list } : { kind: "computed" };
}

/** `{ inherit (scope) a b; }`, alone in its set. */
function inheritList(lexed: Lexed, binding: Binding): PackageList | null {
  const [from, to] = binding.value;
  const { sig } = lexed;
  if (!isOp(sig[from], "{") || lexed.match.get(from) !== to - 1) return null;
  if (!isWord(sig[from + 1], "inherit") || !isOp(sig[from + 2], "(")) return null;
  if (sig[from + 3]?.kind !== "id" || !isOp(sig[from + 4], ")")) return null;
  let i = from + 5;
  const entries: ListEntry[] = [];
  for (; sig[i]?.kind === "id"; i++) {
    entries.push({ name: sig[i].text, start: sig[i].start, end: end(sig[i]) });
  }
  if (!isOp(sig[i], ";") || i !== to - 2) return null;
  return {
    shape: "inherit",
    scope: sig[from + 3].text,
    binding,
    entries,
    open: end(sig[from + 4]),
    close: sig[i].start,
  };
}

/** `with scope; [ a b.c ]`. */
function withList(lexed: Lexed, binding: Binding): PackageList | null {
  const [from, to] = binding.value;
  const { sig } = lexed;
  if (!isWord(sig[from], "with") || sig[from + 1]?.kind !== "id" || !isOp(sig[from + 2], ";")) {
    return null;
  }
  const entries = listEntries(lexed, from + 3, to, null);
  return entries && {
    shape: "with",
    scope: sig[from + 1].text,
    binding,
    entries,
    open: end(sig[from + 3]),
    close: sig[to - 1].start,
  };
}

/** `[ scope.a scope.b.c ]`, every entry under the same scope; `[ ]` counts, under `pkgs`. */
function selectList(lexed: Lexed, binding: Binding): PackageList | null {
  const [from, to] = binding.value;
  const { sig } = lexed;
  const scope = sig[from + 1]?.kind === "id" && isOp(sig[from + 2], ".")
    ? sig[from + 1].text
    : "pkgs";
  const entries = listEntries(lexed, from, to, scope);
  return entries && {
    shape: "select",
    scope,
    binding,
    entries,
    open: end(sig[from]),
    close: sig[to - 1].start,
  };
}

/**
 * The entries of the list `[ … ]` that spans `sig[from, to)` exactly, each an
 * attribute path (under `scope.` when a scope is given); null for anything else.
 */
function listEntries(
  lexed: Lexed,
  from: number,
  to: number,
  scope: string | null,
): ListEntry[] | null {
  const { sig } = lexed;
  if (!isOp(sig[from], "[") || lexed.match.get(from) !== to - 1) return null;
  const entries: ListEntry[] = [];
  for (let i = from + 1; i < to - 1;) {
    const path: string[] = [];
    let j = i;
    while (sig[j]?.kind === "id") {
      path.push(sig[j].text);
      if (!isOp(sig[j + 1], ".") || j + 2 >= to - 1) break;
      j += 2;
    }
    if (path.length === 0) return null;
    const names = scope === null ? path : path.slice(1);
    if (scope !== null && (path[0] !== scope || names.length === 0)) return null;
    entries.push({ name: names.join("."), start: sig[i].start, end: end(sig[j]) });
    i = j + 1;
  }
  return entries;
}

/** The 1-based line of `offset`. */
export function lineOf(source: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (source.charCodeAt(i) === 10) line++;
  return line;
}

/** How an entry is written in `list`: `pkgs.a` in a `[ pkgs.… ]` list, `a` otherwise. */
export function entryText(list: PackageList, name: string): string {
  return list.shape === "select" ? `${list.scope}.${name}` : name;
}

/**
 * `source` with `names` appended to `list`, in its layout: on a line of their
 * own, indented as the last entry, when the list has one entry per line (after
 * that entry's comment on the same line, if any); after a space otherwise.
 *
 * @example
 * ```ts
 * import { appendEntries, locate } from "./nix_locate.ts";
 * const src = "{ shared = { inherit (pkgs) hello; }; }";
 * const found = locate(src).bindings[0].value;
 * found.kind === "list" && appendEntries(src, found.list, ["jq"]);
 * // => "{ shared = { inherit (pkgs) hello jq; }; }"
 * ```
 */
export function appendEntries(source: string, list: PackageList, names: string[]): string {
  if (names.length === 0) return source;
  const texts = names.map((n) => entryText(list, n));
  const last = list.entries.at(-1);
  const inside = source.slice(list.open, list.close);
  if (!inside.includes("\n")) {
    const at = last?.end ?? list.open;
    const sep = last === undefined && inside === "" ? "" : " ";
    return source.slice(0, at) + texts.map((t, i) => (i === 0 ? sep : " ") + t).join("") +
      source.slice(at);
  }
  const anchor = last?.start ?? list.close;
  const indent = last === undefined
    ? `${leadingSpace(source, anchor)}  `
    : leadingSpace(source, anchor);
  const at = last === undefined ? list.open : afterSameLineComment(source, last.end);
  return source.slice(0, at) + texts.map((t) => `\n${indent}${t}`).join("") + source.slice(at);
}

/**
 * `source` without the entries of `list` named `names`: an entry alone on its
 * line goes with its line (and the comment on it), any other with the space
 * before it (or after it, when it opens the list).
 */
export function removeEntries(source: string, list: PackageList, names: string[]): string {
  const gone = list.entries.filter((e) => names.includes(e.name));
  let out = source;
  for (const e of [...gone].reverse()) {
    const [from, to] = entrySpan(out, e);
    out = out.slice(0, from) + out.slice(to);
  }
  return out;
}

/**
 * The bytes that go with an entry when it is removed: its whole line when
 * it is alone there; else the blanks before it (only those of its own line
 * after a comment, which ends at the newline); else the blanks after it.
 */
function entrySpan(source: string, e: ListEntry): [number, number] {
  const all = lexNix(source);
  const first = all.findIndex((t) => t.start === e.start);
  const last = all.findIndex((t) => end(t) === e.end);
  const prev = all[first - 1];
  const next = all[last + 1];
  const afterComment = all[last + 2]?.kind === "comment" && next?.kind === "space" &&
      !next.text.includes("\n")
    ? all[last + 3]
    : next?.kind === "comment"
    ? all[last + 2]
    : next;
  const prevBreaks = prev === undefined || (prev.kind === "space" && prev.text.includes("\n"));
  const nextBreaks = afterComment?.kind === "space" && afterComment.text.includes("\n");
  if (prevBreaks && nextBreaks) {
    const from = prev === undefined ? 0 : prev.start + prev.text.lastIndexOf("\n") + 1;
    return [from, afterComment.start + afterComment.text.indexOf("\n") + 1];
  }
  if (prev?.kind === "space") {
    const keepBreak = prev.text.includes("\n") && all[first - 2]?.kind === "comment";
    return [keepBreak ? prev.start + prev.text.lastIndexOf("\n") + 1 : prev.start, e.end];
  }
  const trailing = next?.kind === "space" && !next.text.includes("\n") ? end(next) : e.end;
  return [e.start, trailing];
}

/** The blanks that open the line `offset` is on. */
function leadingSpace(source: string, offset: number): string {
  const lineStart = source.lastIndexOf("\n", offset - 1) + 1;
  return /^[ \t]*/.exec(source.slice(lineStart))![0];
}

/** After `offset`, past blanks and a `#` comment that end its line; else `offset` itself. */
function afterSameLineComment(source: string, offset: number): number {
  const m = /^[ \t]*#[^\r\n]*/.exec(source.slice(offset));
  return m ? offset + m[0].length : offset;
}

/** Which list `fprof add` edits, or why there is no one list. */
export type Choice =
  | { kind: "list"; list: PackageList }
  /** Several lists fit; each is named with its line. */
  | { kind: "ambiguous"; candidates: Binding[] }
  /** The lists that fit are computed, not written out. */
  | { kind: "computed"; at: Binding[] }
  /** None fits; `near` are the bindings that might have been meant. */
  | { kind: "none"; near: Binding[] };

/** What list to choose: a group of a machine's profile, or the one every machine gets. */
export interface ListWanted {
  /** A group of `host`'s entry (`cli = { inherit (pkgs) ripgrep; }`). */
  group?: string;
  /** The machine's entry under `profiles` (or `profile` for every other machine). */
  host?: string;
}

/**
 * Chooses the list to edit. Pure.
 *
 * - With a group: the binding `group` directly inside `host`'s entry.
 * - With a host alone: that entry, if it is a list; else its only list.
 * - Otherwise the list every machine gets: the value of the only `paths`
 *   binding (a `buildEnv`'s or `mkProfile`'s), following a name to its
 *   binding (`paths = shared;`), else a binding called `shared`.
 */
export function chooseList(located: Located, want: ListWanted): Choice {
  const all = located.bindings;
  if (want.group !== undefined) {
    const host = want.host ?? "profile";
    const hits = all.filter((b) =>
      b.binding.path.at(-1) === want.group && b.binding.path.at(-2) === host
    );
    // The group's lists under this host, else the hosts that have one of that name.
    const mine = all.filter((b) => b.binding.path.at(-2) === host && b.value.kind === "list");
    const elsewhere = all.filter((b) => b.binding.path.at(-1) === want.group);
    const near = mine.length ? mine : elsewhere;
    return decide(hits.map((b) => resolve(all, b)), near.map((b) => b.binding));
  }
  if (want.host !== undefined) {
    const entries = all.filter((b) => b.binding.path.at(-1) === want.host && !b.binding.local);
    const own = entries.map((b) => resolve(all, b)).filter((b) => b.value.kind === "list");
    if (own.length) return decide(own, []);
    const inside = all.filter((b) =>
      b.binding.path.at(-2) === want.host && b.value.kind === "list"
    );
    return decide(inside, entries.map((b) => b.binding));
  }
  const paths = all.filter((b) => b.binding.path.at(-1) === "paths").map((b) => resolve(all, b));
  const choice = decide(paths, []);
  if (choice.kind !== "none") return choice;
  const shared = all.filter((b) => b.binding.path.at(-1) === "shared");
  return decide(shared.map((b) => resolve(all, b)), []);
}

type Found = Located["bindings"][number];

/** Follows `paths = shared;` to the binding of `shared` in scope, a few steps at most. */
function resolve(all: Found[], from: Found): Found {
  let at = from;
  for (let steps = 0; steps < 8 && at.value.kind === "ref"; steps++) {
    const name = at.value.name;
    const scope = at.binding.path.slice(0, -1);
    const seen = all.filter((b) =>
      b.binding.path.at(-1) === name &&
      b.binding.path.slice(0, -1).every((p, i) => scope[i] === p)
    );
    // The innermost binding of that name whose scope holds the reference.
    const next = seen.sort((a, b) => b.binding.path.length - a.binding.path.length)[0];
    if (next === undefined) break;
    at = next;
  }
  return at;
}

function decide(found: Found[], near: Binding[]): Choice {
  const unique = [...new Set(found)];
  const lists = unique.filter((b) => b.value.kind === "list");
  if (lists.length === 1 && lists[0].value.kind === "list") {
    return { kind: "list", list: lists[0].value.list };
  }
  if (lists.length > 1) return { kind: "ambiguous", candidates: lists.map((b) => b.binding) };
  const computed = unique.filter((b) => b.value.kind !== "list").map((b) => b.binding);
  if (computed.length) return { kind: "computed", at: computed };
  return { kind: "none", near };
}
