import { assertEquals, assertOk, assertThrows } from "../../tests/helpers/testing.ts";
import { repositoryNixFiles } from "../../tests/helpers/nix_files.ts";
import { lexNix, NixLexError, type Token } from "./nix_lexer.ts";

/** The tokens as `kind:text`, without spaces. */
const shown = (source: string) =>
  lexNix(source).filter((t) => t.kind !== "space").map((t) => `${t.kind}:${t.text}`);

/** Every byte belongs to exactly one token, in order. */
function assertCovers(source: string, tokens: Token[]): void {
  let at = 0;
  for (const t of tokens) {
    assertEquals(t.start, at, `a gap or overlap before ${JSON.stringify(t)}`);
    assertOk(t.text.length > 0, "an empty token");
    at += t.text.length;
  }
  assertEquals(at, source.length);
  assertEquals(tokens.map((t) => t.text).join(""), source);
}

Deno.test("lexNix() splits the shapes fprof edits, keeping every byte", () => {
  for (
    const source of [
      "{ inherit (pkgs) a b; }",
      "with pkgs; [ a b ]",
      "[ pkgs.a pkgs.b ] # trailing\n",
      "[\n  a # first\n  /* between */ b\n]",
      "{ python3Packages.black = 1; }",
    ]
  ) assertCovers(source, lexNix(source));
  assertEquals(shown("with pkgs; [ a b ]"), [
    "id:with",
    "id:pkgs",
    "op:;",
    "op:[",
    "id:a",
    "id:b",
    "op:]",
  ]);
  assertEquals(shown("pkgs.python3Packages.black"), [
    "id:pkgs",
    "op:.",
    "id:python3Packages",
    "op:.",
    "id:black",
  ]);
});

Deno.test("lexNix() follows Nix's longest match: paths, URIs, numbers and identifiers", () => {
  assertEquals(shown("a/b"), ["path:a/b"]);
  assertEquals(shown("a / b"), ["id:a", "op:/", "id:b"]);
  assertEquals(shown("./x.nix ../y ~/z /abs/p <nixpkgs/lib>"), [
    "path:./x.nix",
    "path:../y",
    "path:~/z",
    "path:/abs/p",
    "spath:<nixpkgs/lib>",
  ]);
  assertEquals(shown("x:x"), ["uri:x:x"]);
  assertEquals(shown("x: x"), ["id:x", "op::", "id:x"]);
  assertEquals(shown("https://example.org/a?b=c"), ["uri:https://example.org/a?b=c"]);
  assertEquals(shown("1 1.5 .5 2e3 1.0e-2"), [
    "int:1",
    "float:1.5",
    "float:.5",
    "int:2",
    "id:e3",
    "float:1.0e-2",
  ]);
  assertEquals(shown(`a-b'c "d'"`), ["id:a-b'c", 'quote:"', "string-part:d'", 'quote:"']);
  assertEquals(shown("a++b//c -> d"), ["id:a", "op:++", "id:b", "op://", "id:c", "op:->", "id:d"]);
  // An identifier may hold '-': Nix reads `c->d` as `c-` and `>`.
  assertEquals(shown("c->d"), ["id:c-", "op:>", "id:d"]);
  assertEquals(shown("{ a ? 1, ... }@args: a"), [
    "op:{",
    "id:a",
    "op:?",
    "int:1",
    "op:,",
    "op:...",
    "op:}",
    "op:@",
    "id:args",
    "op::",
    "id:a",
  ]);
});

Deno.test("lexNix() reads strings with escapes and ${} nested to any depth", () => {
  assertEquals(shown('"a\\"b${c}d"'), [
    'quote:"',
    'string-part:a\\"b',
    "interp:${",
    "id:c",
    "op:}",
    "string-part:d",
    'quote:"',
  ]);
  // `$${` is a literal `${`; a `\$` escape too.
  assertEquals(shown('"$${x} \\${y}"'), ['quote:"', "string-part:$${x} \\${y}", 'quote:"']);
  const nested = '"a${ { b = "c${"d${e}"}"; }.b }f"';
  assertCovers(nested, lexNix(nested));
  assertEquals(lexNix(nested).filter((t) => t.kind === "quote").length, 6);
  assertEquals(shown('{ "a b" = 1; ${x} = 2; }'), [
    "op:{",
    'quote:"',
    "string-part:a b",
    'quote:"',
    "op:=",
    "int:1",
    "op:;",
    "interp:${",
    "id:x",
    "op:}",
    "op:=",
    "int:2",
    "op:;",
    "op:}",
  ]);
});

Deno.test("lexNix() reads indented strings with their escapes", () => {
  const s = "''\n  a ''' b ''${c} ''\\n ${d} $${e}\n''";
  assertEquals(shown(s), [
    "indent-quote:''",
    "string-part:\n  a ''' b ''${c} ''\\n ",
    "interp:${",
    "id:d",
    "op:}",
    "string-part: $${e}\n",
    "indent-quote:''",
  ]);
  assertEquals(shown("''''"), ["indent-quote:''", "indent-quote:''"]);
});

Deno.test("lexNix() reads paths with interpolations", () => {
  assertEquals(shown("./pkgs/${name}/bin"), [
    "path:./pkgs/",
    "interp:${",
    "id:name",
    "op:}",
    "path:/bin",
  ]);
  assertEquals(shown("./a${b}.nix"), ["path:./a", "interp:${", "id:b", "op:}", "path:.nix"]);
});

Deno.test("lexNix() reads both kinds of comment, and refuses what Nix refuses", () => {
  assertEquals(shown("# a\n/* b\n * c */ d"), ["comment:# a", "comment:/* b\n * c */", "id:d"]);
  assertEquals(shown("a /* x */ / b"), ["id:a", "comment:/* x */", "op:/", "id:b"]);
  for (const bad of ['"open', "''open", "/* open", "}", "a ` b", '"${ "']) {
    assertThrows(() => lexNix(bad), NixLexError);
  }
});

Deno.test("lexNix() gives back every .nix file of the repository byte for byte", async () => {
  const files = await repositoryNixFiles();
  assertOk(files.length >= 8, `only ${files.length} .nix files found`);
  let cuts = 0;
  for (const file of files) {
    const source = await Deno.readTextFile(file);
    assertCovers(source, lexNix(source));
    // Every prefix either lexes, covering its bytes, or is refused with an
    // offset inside it: never a silent loss.
    for (let end = 0; end < source.length; end += 37) {
      const part = source.slice(0, end);
      try {
        assertCovers(part, lexNix(part));
      } catch (e) {
        if (!(e instanceof NixLexError)) throw e;
        assertOk(e.offset <= part.length, `${file}: offset ${e.offset} past ${part.length}`);
        cuts++;
      }
    }
  }
  assertOk(cuts > 0, "no prefix was refused: the prefixes test nothing");
});
