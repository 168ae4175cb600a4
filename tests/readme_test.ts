/**
 * The README's command reference keeps up with the program: every command
 * `fprof --help` lists has a section, and every example in a `--help` is in
 * the README.
 */

import { assertOk } from "../lib/testing.ts";

const ROOT = new URL("..", import.meta.url).pathname;

async function help(args: string[]): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", `${ROOT}main.ts`, ...args, "--help"],
    env: { NO_COLOR: "1" },
    stdout: "piped",
  }).output();
  return new TextDecoder().decode(out.stdout);
}

function examples(helpText: string): string[] {
  const at = helpText.indexOf("\nExamples:\n");
  if (at < 0) return [];
  return helpText.slice(at + "\nExamples:\n".length).split("\n")
    .map((l) => l.trim()).filter((l) => l !== "");
}

Deno.test("the README documents every command and every --help example", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const top = await help([]);
  const start = top.indexOf("Commands:");
  const commands = [
    ...top.slice(start, top.indexOf("\n\n", start)).matchAll(/^ {2}([a-z][\w-]*)/gm),
  ]
    .map((m) => m[1]).filter((c) => c !== "help");
  const missing: string[] = [];
  for (const line of examples(top)) if (!readme.includes(line)) missing.push(line);
  for (const cmd of commands) {
    if (!readme.includes(`### \`fprof ${cmd}`)) missing.push(`a "### \`fprof ${cmd} …\`" section`);
    for (const line of examples(await help([cmd]))) {
      if (!readme.includes(line)) missing.push(line);
    }
  }
  assertOk(missing.length === 0, `README.md lacks:\n${missing.join("\n")}`);
});
