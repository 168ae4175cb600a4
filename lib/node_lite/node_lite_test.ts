import { assertEquals, assertThrows } from "../../tests/helpers/testing.ts";
import { EventEmitter as NodeEmitter } from "node:events";
import { stripVTControlCharacters as nodeStrip } from "node:util";
import { EventEmitter } from "./events.ts";
import { stripVTControlCharacters } from "./util.ts";
import process from "./process.ts";
import childProcess from "./child_process.ts";

Deno.test("EventEmitter calls listeners in order and reports whether any ran, as node:events does", () => {
  for (const Emitter of [EventEmitter, NodeEmitter]) {
    const calls: string[] = [];
    const e = new Emitter();
    e.on("option:json", (v: string) => calls.push(`a${v}`));
    e.on("option:json", (v: string) => calls.push(`b${v}`));
    assertEquals(e.emit("option:json", "1"), true);
    assertEquals(e.emit("option:long"), false);
    assertEquals([e.listenerCount("option:json"), e.listenerCount("x")], [2, 0]);
    assertEquals(calls, ["a1", "b1"]);
  }
});

Deno.test("stripVTControlCharacters() removes what node:util's removes", () => {
  for (
    const text of [
      "plain",
      "\x1b[1;31merror\x1b[0m: x",
      "\x1b[2mhint\x1b[0m",
      "\x1b]8;;https://example.invalid\x07link\x1b]8;;\x07",
      "\x1b[38;5;245mgrey\x1b[39m",
    ]
  ) {
    assertEquals(stripVTControlCharacters(text), nodeStrip(text), JSON.stringify(text));
  }
});

Deno.test("process.env reads one variable at a time, and an unset one is undefined and not in it", () => {
  assertEquals(process.env.HOME, Deno.env.get("HOME"));
  assertEquals("HOME" in process.env, Deno.env.get("HOME") !== undefined);
  assertEquals(process.env.FPROF_SURELY_UNSET_VARIABLE, undefined);
  assertEquals("FPROF_SURELY_UNSET_VARIABLE" in process.env, false);
});

Deno.test("child_process.spawn() refuses: fprof starts no process through commander", () => {
  assertThrows(() => childProcess.spawn(), Error, "not available in fprof's bundle");
});
