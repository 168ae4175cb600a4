import { assertEquals } from "../../tests/helpers/testing.ts";
import {
  diffPackages,
  diffReport,
  formatClosureChange,
  formatDiff,
  formatSize,
  packageDiffJson,
} from "./diff.ts";
import type { ProfilePackage } from "../../manifest/types.ts";

const pkg = (name: string, version: string): ProfilePackage => ({
  name,
  version,
  storePaths: [`/s/${name}-${version}`],
});

const AB = diffPackages(
  [pkg("hello", "2.12.1"), pkg("jq", "1.6"), pkg("gone", "1.0")],
  [pkg("ripgrep", "14.1.0"), pkg("jq", "1.6"), pkg("hello", "2.12.2")],
);

Deno.test("packageDiffJson() lists each kind of change sorted by name", () => {
  assertEquals(packageDiffJson(AB), {
    added: [{ name: "ripgrep", version: "14.1.0", storePaths: ["/s/ripgrep-14.1.0"] }],
    removed: [{ name: "gone", version: "1.0", storePaths: ["/s/gone-1.0"] }],
    changed: [{ name: "hello", from: "2.12.1", to: "2.12.2" }],
  });
});

Deno.test("formatSize() uses binary units with one decimal", () => {
  assertEquals(formatSize(0), "0 B");
  assertEquals(formatSize(1023), "1023 B");
  assertEquals(formatSize(1536), "1.5 KiB");
  assertEquals(formatSize(3 * 1024 * 1024), "3.0 MiB");
  assertEquals(formatSize(-2048), "-2.0 KiB");
});

Deno.test("formatClosureChange() shows both sizes and the signed change", () => {
  assertEquals(
    formatClosureChange({ from: 1024 * 1024, to: 1536 * 1024 }),
    "closure size: 1.0 MiB → 1.5 MiB (+512.0 KiB)",
  );
  assertEquals(
    formatClosureChange({ from: 2048, to: 1024 }),
    "closure size: 2.0 KiB → 1.0 KiB (-1.0 KiB)",
  );
  assertEquals(formatClosureChange({ from: 10, to: 10 }), "closure size: 10 B → 10 B (±0 B)");
  assertEquals(formatClosureChange({ from: null, to: 10 }), "closure size: 10 B");
});

Deno.test("diffReport() prints changes in auto, more in always, nothing in never", () => {
  const lines = ["~ hello 2.12.1 → 2.12.2", "+ ripgrep 14.1.0", "- gone 1.0"];
  assertEquals(diffReport(AB, "auto"), lines);
  assertEquals(diffReport(AB, "auto", { from: 1, to: 2 }), lines);
  assertEquals(diffReport(AB, "always", { from: 1, to: 2 }), [
    ...lines,
    "closure size: 1 B → 2 B (+1 B)",
  ]);
  assertEquals(diffReport(AB, "never"), []);
  const none = diffPackages([pkg("a", "1")], [pkg("a", "1")]);
  assertEquals(diffReport(none, "auto"), []);
  assertEquals(diffReport(none, "always"), ["no package changes"]);
});

Deno.test("diffPackages() reports added, removed and version changes", () => {
  const d = diffPackages([
    pkg("hello", "2.12.1"),
    pkg("jq", "1.6"),
    pkg("gone", "1"),
  ], [
    pkg("hello", "2.12.2"),
    pkg("jq", "1.6"),
    pkg("new", "0.1"),
  ]);
  assertEquals(formatDiff(d), [
    "~ hello 2.12.1 → 2.12.2",
    "+ new 0.1",
    "- gone 1",
  ]);
});

Deno.test("diffPackages() keeps two versions of one name apart", () => {
  const d = diffPackages([pkg("py", "3.11"), pkg("py", "3.12")], [
    pkg("py", "3.12"),
  ]);
  assertEquals(formatDiff(d), ["- py 3.11"]);
});
