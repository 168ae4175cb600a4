import { assertEquals } from "../../tests/helpers/testing.ts";
import { useColor } from "./log.ts";

Deno.test("useColor() follows NO_COLOR, then FORCE_COLOR, then the terminal", () => {
  // [environment, stderr is a terminal, expected]
  const table: [Record<string, string>, boolean, boolean][] = [
    [{}, true, true],
    [{}, false, false],
    [{ TERM: "dumb" }, true, false],
    [{ NO_COLOR: "1" }, true, false],
    [{ NO_COLOR: "" }, true, true],
    [{ NO_COLOR: "1", FORCE_COLOR: "1" }, true, false],
    [{ FORCE_COLOR: "1" }, false, true],
    [{ FORCE_COLOR: "3" }, false, true],
    [{ FORCE_COLOR: "" }, false, false],
    [{ FORCE_COLOR: "0" }, true, false],
    [{ FORCE_COLOR: "false" }, true, false],
    [{ FORCE_COLOR: "1", TERM: "dumb" }, false, true],
  ];
  for (const [vars, terminal, expected] of table) {
    const env = { get: (k: string) => vars[k] };
    assertEquals(useColor(env, terminal), expected, JSON.stringify({ vars, terminal }));
  }
});
