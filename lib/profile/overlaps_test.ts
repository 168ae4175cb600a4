import { assertEquals } from "../../tests/helpers/testing.ts";
import {
  collidingFiles,
  collisionWarnings,
  overlapLines,
  overlapMessage,
  type OverlapWarning,
  pathWarnings,
  type Provider,
  providersOf,
} from "./overlaps.ts";

const hello: Provider = { name: "hello", version: "1.0", storePath: "/s/a-hello-1.0" };
const alt: Provider = { name: "hello-alt", version: "1.0", storePath: "/s/b-hello-alt-1.0" };

Deno.test("collidingFiles() keeps only the files two packages provide", () => {
  const colliding = collidingFiles([
    { provider: hello, files: ["bin/hello", "bin/hi"] },
    { provider: alt, files: ["bin/hello", "bin/hola"] },
  ]);
  assertEquals([...colliding], [["bin/hello", [hello, alt]]]);
});

Deno.test("collidingFiles() counts two outputs of one package as one provider", () => {
  const man = { ...hello, storePath: "/s/c-hello-1.0-man" };
  assertEquals(
    collidingFiles([{ provider: hello, files: ["bin/x"] }, { provider: man, files: ["bin/x"] }])
      .size,
    0,
  );
});

Deno.test("providersOf() gives one provider per store path of each package", () => {
  assertEquals(
    providersOf([{ name: "hello", version: "1.0", storePaths: ["/s/a", "/s/b"] }]),
    [
      { name: "hello", version: "1.0", storePath: "/s/a" },
      { name: "hello", version: "1.0", storePath: "/s/b" },
    ],
  );
});

Deno.test("collisionWarnings() names the winner only when the profile links one of them", () => {
  const colliding = new Map([["bin/z", [hello, alt]], ["bin/a", [hello, alt]]]);
  const linked = new Map<string, string | null>([["bin/a", alt.storePath], ["bin/z", null]]);
  assertEquals(collisionWarnings(colliding, linked), [
    { kind: "collision", file: "bin/a", packages: [hello, alt], winner: alt },
    { kind: "collision", file: "bin/z", packages: [hello, alt], winner: null },
  ]);
});

Deno.test("pathWarnings() says a profile is not on PATH only when it has commands", () => {
  const facts = { bin: "/p/bin", onPath: false, earlier: [] };
  assertEquals(pathWarnings(facts, false), []);
  assertEquals(pathWarnings(facts, true), [
    { kind: "not-on-path", bin: "/p/bin", line: 'export PATH="/p/bin:$PATH"' },
  ]);
});

Deno.test("pathWarnings() names each shadowed command once, by the first directory", () => {
  const w = pathWarnings({
    bin: "/p/bin",
    onPath: true,
    earlier: [
      { directory: "/usr/local/bin", commands: ["jq", "hello"] },
      { directory: "/usr/bin", commands: ["hello"] },
    ],
  }, true);
  assertEquals(w.map((x) => x.kind === "shadowed" && `${x.command} ${x.directory}`), [
    "hello /usr/local/bin",
    "jq /usr/local/bin",
  ]);
});

Deno.test("overlapMessage() lists three packages with 'and', and leaves out an unknown winner", () => {
  const third = { name: "hi", version: "", storePath: "/s/c-hi" };
  const w: OverlapWarning = {
    kind: "collision",
    file: "bin/hello",
    packages: [hello, alt, third],
    winner: null,
  };
  assertEquals(
    overlapMessage(w).warning,
    "bin/hello is provided by hello 1.0, hello-alt 1.0 and hi",
  );
});

Deno.test("overlapLines() prints at most max of a kind, then how many more", () => {
  const many: OverlapWarning[] = Array.from({ length: 4 }, (_, i) => ({
    kind: "shadowed",
    command: `c${i}`,
    directory: "/d",
    bin: "/p/bin",
  }));
  const lines = overlapLines(many, 2);
  assertEquals(lines.length, 3);
  assertEquals(lines[2], {
    warning: "2 more shadowed commands; 'fprof switch --dry-run --json' lists them all",
  });
  assertEquals(lines[0].hint, "put /p/bin before /d in PATH, or remove /d/c0");
});
