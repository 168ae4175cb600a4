import { assertEquals } from "../../tests/helpers/testing.ts";
import { completionScript, lockInputNames, type ProgramSpec, valueKind } from "./completions.ts";
import { localFlakeDir } from "../nix/flake_ref.ts";

Deno.test("valueKind() picks values by the option's or argument's name", () => {
  assertEquals(valueKind("to"), { kind: "generations" });
  assertEquals(valueKind("generation"), { kind: "generations" });
  assertEquals(valueKind("from"), { kind: "generations" });
  assertEquals(valueKind("delete"), { kind: "deletable" });
  assertEquals(valueKind("input"), { kind: "inputs" });
  assertEquals(valueKind("command"), { kind: "commands" });
  assertEquals(valueKind("profile"), { kind: "files" });
  assertEquals(valueKind("installable"), { kind: "files" });
  assertEquals(valueKind("keep"), { kind: "none" });
  assertEquals(valueKind("to", ["a", "b"]), { kind: "choices", choices: ["a", "b"] });
});

Deno.test("lockInputNames() lists the root's inputs and tolerates bad locks", () => {
  const lock = { nodes: { root: { inputs: { nixpkgs: "n", agenix: "a" } } }, root: "root" };
  assertEquals(lockInputNames(JSON.stringify(lock)), ["agenix", "nixpkgs"]);
  assertEquals(lockInputNames("{"), []);
  assertEquals(lockInputNames("{}"), []);
});

Deno.test("localFlakeDir() finds the directory of local flake references only", () => {
  assertEquals(localFlakeDir(".", "/w", "/h"), "/w");
  assertEquals(localFlakeDir("path:/p#profile", "/w", "/h"), "/p");
  assertEquals(localFlakeDir("~/profile", "/w", "/h"), "/h/profile");
  assertEquals(localFlakeDir("./sub?dir=x", "/w", "/h"), "/w/sub/x");
  assertEquals(localFlakeDir("git+file:///p/f?ref=main", "/w", "/h"), "/p/f");
  assertEquals(localFlakeDir("github:o/r", "/w", "/h"), null);
});

Deno.test("completionScript() covers a new command without being told about it", () => {
  const spec: ProgramSpec = {
    name: "fprof",
    options: [],
    commands: [{
      name: "frobnicate",
      description: "a command added later",
      options: [{
        flags: ["--since"],
        description: "since generation N: it's [new]",
        takesValue: true,
        value: valueKind("generation"),
        optionalValue: false,
      }],
      args: [],
      variadic: false,
    }],
  };
  for (const shell of ["bash", "zsh", "fish"] as const) {
    const script = completionScript(spec, shell);
    assertEquals(script.includes("frobnicate"), true, shell);
    assertEquals(script.includes("since"), true, shell);
    assertEquals(/_fprof_(values|generations)|__fprof_values/.test(script), true, shell);
  }
});
