/**
 * The completion scripts, loaded into real shells: bash through its
 * programmable completion (COMP_WORDS and the registered function), fish
 * through `complete -C`, zsh through compinit and the value helper the
 * script's `_arguments` specs call. The dynamic values come from
 * `fprof __complete`, run as the scripts run it.
 */

import { join } from "node:path";
import { assertEquals, assertOk } from "./helpers/testing.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

function which(program: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(join(dir, program)).isFile) return true;
    } catch { /* not here */ }
  }
  return false;
}

/**
 * A directory with an `fprof` wrapper (the scripts call fprof back by the
 * name it was typed as), a fake profile with generations 1, 2 and 3, a
 * flake with a flake.lock of two inputs, and the three scripts.
 */
async function setup() {
  const dir = await Deno.makeTempDir({ prefix: "fprof-completions-" });
  const bin = join(dir, "bin");
  await Deno.mkdir(bin);
  await Deno.writeTextFile(
    join(bin, "fprof"),
    `#!/bin/sh\nexec '${Deno.execPath()}' run -A --quiet '${MAIN}' "$@"\n`,
  );
  await Deno.chmod(join(bin, "fprof"), 0o755);
  const profiles = join(dir, "profiles");
  await Deno.mkdir(profiles);
  for (const n of [1, 2, 3]) await Deno.symlink(`/nonexistent/${n}`, join(profiles, `p-${n}-link`));
  await Deno.symlink("p-2-link", join(profiles, "p"));
  const flake = join(dir, "flake");
  await Deno.mkdir(flake);
  await Deno.writeTextFile(join(flake, "flake.nix"), "{ outputs = _: { }; }\n");
  await Deno.writeTextFile(
    join(flake, "flake.lock"),
    JSON.stringify({
      nodes: {
        root: { inputs: { nixpkgs: "nixpkgs", "home-manager": "home-manager" } },
        nixpkgs: {},
        "home-manager": {},
      },
      root: "root",
      version: 7,
    }),
  );
  const scripts: Record<string, string> = {};
  for (const shell of ["bash", "zsh", "fish"]) {
    const out = await new Deno.Command(join(bin, "fprof"), {
      args: ["completions", shell],
      stdout: "piped",
    }).output();
    assertOk(out.success, `fprof completions ${shell} failed`);
    scripts[shell] = join(dir, `fprof.${shell}`);
    await Deno.writeFile(scripts[shell], out.stdout);
  }
  const env = {
    PATH: `${bin}:${Deno.env.get("PATH")}`,
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, "config"),
    XDG_STATE_HOME: join(dir, "state"),
    NO_COLOR: "1",
  };
  return {
    dir,
    profile: join(profiles, "p"),
    flake,
    scripts,
    env,
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function sh(argv: string[], env: Record<string, string>, cwd?: string): Promise<string> {
  const out = await new Deno.Command(argv[0], { args: argv.slice(1), env, cwd, stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  assertOk(out.success, `${argv.join(" ")}: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}

/**
 * Completes `line` (the cursor at its end) in bash the way readline would:
 * words split as bash splits them (COMP_WORDBREAKS includes '='), then the
 * function registered for fprof.
 */
async function bashComplete(
  t: Awaited<ReturnType<typeof setup>>,
  line: string,
  cwd?: string,
): Promise<string[]> {
  const script = `
source '${t.scripts.bash}'
line=$1
read -ra COMP_WORDS <<<"\${line//=/ = }"
[[ $line == *" " || $line == *"=" ]] && COMP_WORDS+=("")
COMP_CWORD=$((\${#COMP_WORDS[@]} - 1))
COMP_LINE=$line COMP_POINT=\${#line}
fn=$(complete -p fprof | sed -E 's/.*-F ([^ ]+).*/\\1/')
"$fn" fprof "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD - 1]}"
printf '%s\\n' "\${COMPREPLY[@]}"
`;
  const out = await sh(["bash", "--norc", "-c", script, "bash", line], t.env, cwd);
  return out.split("\n").filter((l) => l !== "").sort();
}

async function helpOptions(t: Awaited<ReturnType<typeof setup>>, cmd: string): Promise<string[]> {
  const help = await sh(["fprof", cmd, "--help"], t.env);
  return [...help.matchAll(/^ {2}(?:(-\w), )?(--[\w-]+)/gm)].flatMap((m) => m.slice(1))
    .filter((f): f is string => Boolean(f));
}

async function commands(t: Awaited<ReturnType<typeof setup>>): Promise<string[]> {
  const help = await sh(["fprof", "--help"], t.env);
  const start = help.indexOf("Commands:");
  const section = help.slice(start, help.indexOf("\n\n", start));
  return [...section.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((m) => m[1]).filter((c) => c !== "help");
}

Deno.test("bash: completes every command and every option of each, as --help lists them", async () => {
  await using t = await setup();
  const cmds = await commands(t);
  assertEquals(await bashComplete(t, "fprof "), [...cmds].sort());
  assertEquals(await bashComplete(t, "fprof gen"), ["generations"]);
  for (const cmd of cmds) {
    const got = await bashComplete(t, `fprof ${cmd} -`);
    for (const flag of await helpOptions(t, cmd)) {
      assertOk(got.includes(flag), `fprof ${cmd} -<TAB> lacks ${flag}: ${got.join(" ")}`);
    }
  }
});

Deno.test("bash: completes generation numbers, choices and flake inputs", async () => {
  await using t = await setup();
  const p = `--profile ${t.profile}`;
  assertEquals(await bashComplete(t, `fprof rollback ${p} --to `), ["1", "2", "3"]);
  assertEquals(await bashComplete(t, `fprof list ${p} --generation 3`), ["3"]);
  assertEquals(await bashComplete(t, `fprof pin ${p} --from-generation `), ["1", "2", "3"]);
  // The current generation (2) cannot be deleted, so it is not offered.
  assertEquals(await bashComplete(t, `fprof generations ${p} --delete `), ["1", "3"]);
  assertEquals(await bashComplete(t, "fprof switch --manifest="), ["auto", "json", "nix", "none"]);
  assertEquals(await bashComplete(t, "fprof switch --manifest=j"), ["json"]);
  assertEquals(await bashComplete(t, "fprof completions "), ["bash", "fish", "zsh"]);
  // An option's value is not taken for the command's argument.
  assertEquals(await bashComplete(t, `fprof rollback ${p} --to 1 --dr`), ["--dry-run"]);
  const cmds = await commands(t);
  if (cmds.includes("diff")) {
    assertEquals(await bashComplete(t, `fprof diff ${p} `), ["1", "2", "3"]);
    assertEquals(await bashComplete(t, `fprof diff ${p} 1 `), ["1", "2", "3"]);
  }
  for (const cmd of ["pin", "upgrade"].filter((c) => cmds.includes(c))) {
    assertEquals(await bashComplete(t, `fprof ${cmd} --input `, t.flake), [
      "home-manager",
      "nixpkgs",
    ]);
  }
});

Deno.test("bash: completes the commands of the profile's bin/ for which", async () => {
  await using t = await setup();
  const gen = join(t.dir, "generation");
  await Deno.mkdir(join(gen, "bin"), { recursive: true });
  for (const c of ["hello", "jq"]) await Deno.writeTextFile(join(gen, "bin", c), "");
  const profile = join(t.dir, "profiles", "q");
  await Deno.symlink(gen, `${profile}-1-link`);
  await Deno.symlink("q-1-link", profile);
  assertEquals(await bashComplete(t, `fprof which --profile ${profile} `), ["hello", "jq"]);
  assertEquals(await bashComplete(t, `fprof which --profile ${profile} j`), ["jq"]);
});

Deno.test({
  name: "fish: completes commands, generation numbers and choices",
  ignore: !which("fish"),
  async fn() {
    await using t = await setup();
    const complete = async (line: string) =>
      (await sh(
        ["fish", "--no-config", "-c", `source ${t.scripts.fish}; complete -C '${line}'`],
        t.env,
      ))
        .split("\n").filter((l) => l !== "").map((l) => l.split("\t")[0]).sort();
    const cmds = await commands(t);
    assertEquals(await complete("fprof "), [...cmds].sort());
    assertEquals(await complete(`fprof rollback --profile ${t.profile} --to `), ["1", "2", "3"]);
    assertEquals(await complete(`fprof generations --profile ${t.profile} --delete `), ["1", "3"]);
    const manifest = await complete("fprof switch --manifest=");
    for (const kind of ["auto", "nix", "json", "none"]) {
      assertOk(manifest.includes(`--manifest=${kind}`), manifest.join(" "));
    }
    assertOk((await complete("fprof list --")).includes("--generation"));
  },
});

Deno.test({
  name: "zsh: the script loads into compinit and its value helper lists generations",
  ignore: !which("zsh"),
  async fn() {
    await using t = await setup();
    const out = await sh([
      "zsh",
      "-f",
      "-c",
      `autoload -U compinit && compinit -u -d ${t.dir}/zcompdump
source ${t.scripts.zsh}
print -r -- "registered: $_comps[fprof]"
compadd() { print -rl -- \${(P)2} }
words=(fprof rollback --profile ${t.profile} --to '')
_fprof_generations
words=(fprof generations --profile ${t.profile} --delete '')
_fprof_deletable`,
    ], t.env);
    assertEquals(out, "registered: _fprof\n1\n2\n3\n1\n3\n");
  },
});
