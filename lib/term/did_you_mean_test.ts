import { assertEquals } from "../../tests/helpers/testing.ts";
import { didYouMean } from "./did_you_mean.ts";

const COMMANDS = ["switch", "list", "init", "rollback", "generations", "pin", "diff", "upgrade"];

Deno.test("didYouMean() finds typing slips and unique beginnings, and nothing far off", () => {
  assertEquals(didYouMean("lst", COMMANDS), "list");
  assertEquals(didYouMean("swicth", COMMANDS), "switch");
  assertEquals(didYouMean("rollbak", COMMANDS), "rollback");
  assertEquals(didYouMean("gen", COMMANDS), "generations");
  assertEquals(didYouMean("upgarde", COMMANDS), "upgrade");
  assertEquals(didYouMean("install", COMMANDS), undefined);
  assertEquals(didYouMean("x", COMMANDS), undefined);
});
