/**
 * A lexer for the Nix language, for finding and editing places in a flake's
 * own source (the list of packages `fprof add` changes) without touching a
 * byte around them. Pure.
 *
 * Every byte of the source belongs to exactly one token, whitespace and
 * comments included, so joining the tokens' `text` gives the source back.
 * It follows Nix's own lexer: longest match wins, and on a tie the earlier
 * kind in Nix's rules (so `a/b` is a path, `x:x` a URI and `a.b` an
 * attribute selection); strings and indented strings with their escapes and
 * `${…}` nested to any depth; paths with interpolations; both kinds of
 * comment; integers and floats.
 *
 * @module
 */

/** What a token is. */
export type TokenKind =
  /** Blanks and newlines. */
  | "space"
  /** `# …` to the end of the line, or `/* … *\/`. */
  | "comment"
  | "id"
  | "int"
  | "float"
  /** `./a`, `/a/b`, `a/b`, `~/a`; a path with `${…}` is split into `path` parts around them. */
  | "path"
  /** `<nixpkgs>`. */
  | "spath"
  | "uri"
  /** `"` that opens or closes a string. */
  | "quote"
  /** `''` that opens or closes an indented string. */
  | "indent-quote"
  /** Literal text (escapes included, as written) inside a string. */
  | "string-part"
  /** `${`, in code, a string or a path. */
  | "interp"
  /** Punctuation and operators, `{` and `}` among them. */
  | "op";

/** One token: its kind, its text as written, and where it starts. */
export interface Token {
  kind: TokenKind;
  text: string;
  /** Offset of its first character in the source. */
  start: number;
}

/** A source the lexer cannot read, with the offset where it stopped. */
export class NixLexError extends Error {
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(message);
    this.name = "NixLexError";
    this.offset = offset;
  }
}

const PATH_CHAR = "[a-zA-Z0-9._\\-+]";
/** Code-level rules, in Nix's order: on equal lengths the first wins. */
const RULES: [TokenKind, RegExp][] = [
  ["id", /[a-zA-Z_][a-zA-Z0-9_'-]*/y],
  ["int", /[0-9]+/y],
  ["float", /(?:[1-9][0-9]*\.[0-9]*|0?\.[0-9]+)(?:[Ee][+-]?[0-9]+)?/y],
  ["path", new RegExp(`${PATH_CHAR}*(?:/${PATH_CHAR}+)+/?`, "y")],
  ["path", new RegExp(`~(?:/${PATH_CHAR}+)+/?`, "y")],
  ["spath", new RegExp(`<${PATH_CHAR}+(?:/${PATH_CHAR}+)*>`, "y")],
  ["uri", /[a-zA-Z][a-zA-Z0-9+\-.]*:[a-zA-Z0-9%/?:@&=+$,\-_.!~*']+/y],
];

/** The start of a path that goes on with `${`: everything up to and including its last `/`. */
const PATH_WITH_INTERP = new RegExp(
  `(?:${PATH_CHAR}*/)+${PATH_CHAR}*(?=\\$\\{)|~(?:/${PATH_CHAR}+)*/${PATH_CHAR}*(?=\\$\\{)`,
  "y",
);

const OPS = [
  "...",
  "==",
  "!=",
  "<=",
  ">=",
  "&&",
  "||",
  "->",
  "//",
  "++",
  "${",
  ...".,;:=@()[]{}+-*/!<>?",
];

type Mode = "code" | "string" | "indented" | "path";

/**
 * The tokens of `source`; throws a {@link NixLexError} for text Nix would not
 * read (an unterminated string or comment, a stray character).
 *
 * @example
 * ```ts
 * import { lexNix } from "./nix_lexer.ts";
 * lexNix('{ a = "x${b}"; }').map((t) => t.kind).join(" ");
 * // "op space id space op space quote string-part interp id op quote op space op"
 * lexNix("with pkgs; [ a b ]").map((t) => t.text).join(""); // "with pkgs; [ a b ]"
 * ```
 */
export function lexNix(source: string): Token[] {
  const tokens: Token[] = [];
  // What each open `{` or `${` returns to when its `}` closes it.
  const stack: Mode[] = [];
  let mode: Mode = "code";
  let pos = 0;
  const push = (kind: TokenKind, text: string) => {
    tokens.push({ kind, text, start: pos });
    pos += text.length;
  };
  while (pos < source.length) {
    if (mode === "string") mode = lexString(source, pos, push, stack) ?? mode;
    else if (mode === "indented") mode = lexIndented(source, pos, push, stack) ?? mode;
    else if (mode === "path") mode = lexPathPart(source, pos, push, stack);
    else mode = lexCode(source, pos, push, stack);
    pos = tokens.length ? tokens.at(-1)!.start + tokens.at(-1)!.text.length : pos;
  }
  if (mode === "string" || mode === "indented") {
    throw new NixLexError("unterminated string", source.length);
  }
  return tokens;
}

type Push = (kind: TokenKind, text: string) => void;

/** One token of code; returns the mode after it. */
function lexCode(source: string, pos: number, push: Push, stack: Mode[]): Mode {
  const rest = (re: RegExp) => {
    re.lastIndex = pos;
    return re.exec(source)?.[0];
  };
  const space = rest(/[ \t\r\n]+/y);
  if (space) return push("space", space), "code";
  const comment = rest(/#[^\r\n]*/y) ?? rest(/\/\*[^]*?\*\//y);
  if (comment) return push("comment", comment), "code";
  if (source.startsWith("/*", pos)) throw new NixLexError("unterminated comment", pos);
  const pathStart = rest(PATH_WITH_INTERP);
  let best: [TokenKind, string] | null = null;
  for (const [kind, re] of RULES) {
    const m = rest(re);
    if (m && (best === null || m.length > best[1].length)) best = [kind, m];
  }
  if (pathStart && (best === null || pathStart.length >= best[1].length)) {
    push("path", pathStart);
    return "path";
  }
  if (best) return push(best[0], best[1]), "code";
  if (source[pos] === '"') return push("quote", '"'), "string";
  if (source.startsWith("''", pos)) return push("indent-quote", "''"), "indented";
  const op = OPS.find((o) => source.startsWith(o, pos));
  if (op === undefined) throw new NixLexError(`unexpected character '${source[pos]}'`, pos);
  push(op === "${" ? "interp" : "op", op);
  if (op === "{" || op === "${") stack.push("code");
  if (op === "}") {
    if (stack.length === 0) throw new NixLexError("'}' closes nothing", pos);
    return stack.pop()!;
  }
  return "code";
}

/** The text, `${` or closing quote of a string; returns the mode after it. */
function lexString(source: string, pos: number, push: Push, stack: Mode[]): Mode | undefined {
  if (source[pos] === '"') return push("quote", '"'), "code";
  if (source.startsWith("${", pos)) {
    push("interp", "${");
    stack.push("string");
    return "code";
  }
  let end = pos;
  while (end < source.length) {
    const c = source[end];
    if (c === '"') break;
    if (c === "\\") end += 2;
    else if (c === "$" && source[end + 1] === "$") end += 2;
    else if (c === "$" && source[end + 1] === "{") break;
    else end++;
  }
  if (end >= source.length) throw new NixLexError("unterminated string", pos);
  push("string-part", source.slice(pos, end));
  return undefined;
}

/** The text, `${` or closing `''` of an indented string; returns the mode after it. */
function lexIndented(source: string, pos: number, push: Push, stack: Mode[]): Mode | undefined {
  if (source.startsWith("${", pos)) {
    push("interp", "${");
    stack.push("indented");
    return "code";
  }
  let end = pos;
  while (end < source.length) {
    if (source.startsWith("'''", end) || source.startsWith("''$", end)) end += 3;
    else if (source.startsWith("''\\", end)) end += 4;
    else if (source.startsWith("''", end)) break;
    else if (source[end] === "$" && source[end + 1] === "$") end += 2;
    else if (source[end] === "$" && source[end + 1] === "{") break;
    else end++;
  }
  if (end > source.length || (end === source.length && !source.startsWith("''", end))) {
    throw new NixLexError("unterminated indented string", pos);
  }
  if (end === pos) return push("indent-quote", "''"), "code";
  push("string-part", source.slice(pos, end));
  return undefined;
}

/** After a path's `${…}`: more of the path, another `${`, or the end of the path. */
function lexPathPart(source: string, pos: number, push: Push, stack: Mode[]): Mode {
  if (source.startsWith("${", pos)) {
    push("interp", "${");
    stack.push("path");
    return "code";
  }
  const re = new RegExp(`(?:${PATH_CHAR}|/)+`, "y");
  re.lastIndex = pos;
  const m = re.exec(source)?.[0];
  if (!m) return lexCode(source, pos, push, stack);
  push("path", m);
  return "path";
}
