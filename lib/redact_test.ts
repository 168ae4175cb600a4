import { assertEquals } from "../tests/helpers/testing.ts";
import { redactSecrets } from "./redact.ts";

Deno.test("redactSecrets() hides every access-tokens value Nix quotes, and nothing else", () => {
  assertEquals(
    redactSecrets(
      "error: syntax error in configuration line 'access-tokens github.com=ghp_SECRET1' in \"NIX_CONFIG\"\n",
    ),
    "error: syntax error in configuration line 'access-tokens github.com=<redacted>' in \"NIX_CONFIG\"\n",
  );
  assertEquals(
    redactSecrets("warning: 'access-tokens = a.com=t1 gitlab.com=PAT:t2 bare'\n"),
    "warning: 'access-tokens = a.com=<redacted> gitlab.com=<redacted> <redacted>'\n",
  );
  assertEquals(redactSecrets("error: attribute 'x' missing\n"), "error: attribute 'x' missing\n");
});
