import { assertEquals } from "../../tests/helpers/testing.ts";
import { IDLE_OPTIONS, idleOptionError } from "./idle_options.ts";

Deno.test("idleOptionError() lets an option through with what it needs, and without what idles it", () => {
  for (const rule of IDLE_OPTIONS) {
    const given = new Set([rule.option, ...(rule.needs ? [rule.needs.at(-1)!] : [])]);
    assertEquals(idleOptionError(rule.command, given), undefined, `${rule.command} ${[...given]}`);
  }
  assertEquals(idleOptionError("pin", new Set(["--json"]))?.message, "--json needs --status");
  assertEquals(
    idleOptionError("generations", new Set(["--dry-run"]))?.message,
    "--dry-run needs --delete, --older-than or --keep",
  );
  assertEquals(
    idleOptionError("pin", new Set(["[flake]", "--unpin"]))?.message,
    "the argument [flake] does nothing with --unpin",
  );
  assertEquals(idleOptionError("diff", new Set(["--json", "--closure"])), undefined);
  // With --target-host, switch --json reports a real switch, which asks and shows its diff.
  assertEquals(idleOptionError("switch", new Set(["--json", "--yes", "--target-host"])), undefined);
  assertEquals(
    idleOptionError("switch", new Set(["--json", "--force", "--target-host"])),
    undefined,
  );
});
