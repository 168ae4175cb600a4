import { assertEquals, assertThrows } from "../tests/helpers/testing.ts";
import { lineColumn, MAX_CONFIG_DEPTH, parseConfig, tooDeepAt } from "./parse_config.ts";
import { FprofError } from "./errors.ts";

Deno.test("tooDeepAt() finds the first bracket past the limit, ignoring strings and comments", () => {
  assertEquals(tooDeepAt('{ "a": [[1]] }', 3), -1);
  assertEquals(tooDeepAt('{ "a": [[[1]]] }', 3), 9);
  assertEquals(tooDeepAt('{ "a": "[[[[", // [[[[\n "b": [] }', 2), -1);
});

Deno.test("parseConfig() refuses a file nested 100,000 deep with an error, not a stack overflow", () => {
  const text = '{ "hosts": ' + "[".repeat(100_000) + "]".repeat(100_000) + " }";
  const e = assertThrows(() => parseConfig(text, "c.jsonc"), FprofError, "nested more than");
  assertEquals(
    e.message,
    `cannot parse config file 'c.jsonc' at line 1, column ${
      11 + MAX_CONFIG_DEPTH
    }: nested more than ${MAX_CONFIG_DEPTH} levels deep`,
  );
  assertEquals(typeof (e as FprofError).hint, "string");
  assertEquals(parseConfig('{ "hosts": { "lab": ["a"] } }', "c.jsonc").hosts, { lab: ["a"] });
});

Deno.test("parseConfig() accepts comments and trailing commas", () => {
  assertEquals(
    parseConfig(
      '// mine\n{ "flake": "~/p", /* x */ "manifest": "json", }',
      "c",
    ),
    {
      flake: "~/p",
      manifest: "json",
    },
  );
  assertEquals(parseConfig("", "c"), {});
});

Deno.test("parseConfig() reports the line and column of a syntax error", () => {
  assertThrows(
    () => parseConfig('{\n  "flake": ".",\n  "profile" "x"\n}', "c.jsonc"),
    FprofError,
    "line 3, column 13",
  );
  assertThrows(
    () => parseConfig('{"manifest": "xml"}', "c"),
    FprofError,
    "must be one of",
  );
  assertThrows(
    () => parseConfig('{"flak": "."}', "c"),
    FprofError,
    "unknown setting 'flak'",
  );
  assertThrows(() => parseConfig("[]", "c"), FprofError, "must hold an object");
  assertEquals(lineColumn("ab\ncd", 4), { line: 2, column: 2 });
});
