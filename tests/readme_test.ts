/**
 * The documents keep up with the program: the command reference
 * (docs/commands.md) has a section for every command `fprof --help` lists and
 * every example of a `--help`; the README stays a short page for users; and
 * every relative link between the documents leads to a file.
 */

import { assertOk } from "./helpers/testing.ts";

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

Deno.test("the command reference documents every command and every --help example", async () => {
  const readme = await Deno.readTextFile(`${ROOT}docs/commands.md`);
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
  assertOk(missing.length === 0, `docs/commands.md lacks:\n${missing.join("\n")}`);
});

Deno.test("the README stays a page for users, and every link between the documents resolves", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  assertOk(
    readme.split("\n").length <= 400,
    "README.md is past 400 lines: move reference to docs/",
  );
  const files = ["README.md", "CONTRIBUTING.md"];
  for await (const e of Deno.readDir(`${ROOT}docs`)) {
    if (e.name.endsWith(".md")) files.push(`docs/${e.name}`);
  }
  assertOk(files.length >= 6, `only ${files.length} documents`);
  const broken: string[] = [];
  for (const file of files) {
    const text = await Deno.readTextFile(`${ROOT}${file}`);
    for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(m[1])) continue;
      const target = new URL(m[1], new URL(file, `file://${ROOT}`)).pathname;
      try {
        await Deno.stat(target);
      } catch {
        broken.push(`${file}: ${m[1]}`);
      }
    }
  }
  assertOk(broken.length === 0, `links to nothing:\n${broken.join("\n")}`);
});
