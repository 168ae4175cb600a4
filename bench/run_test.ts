import { assertEquals, assertOk } from "../tests/helpers/testing.ts";
import { keepRuns, markdown, type Report } from "./run.ts";

const summary = (ms: number) => ({
  medianMs: ms,
  minMs: ms,
  maxMs: ms,
  peakMiB: 30,
  samples: [ms],
});

function run(nix: string, fprofMs: number): Report {
  return {
    date: "2026-11-29T18:00:00.000Z",
    machine: { cores: 2, cpu: "cpu", memoryGiB: 24, nix, deno: "2.9.6" },
    reps: 5,
    cases: [{
      case: "list (manifest.nix)",
      packages: 100,
      fprof: summary(fprofMs),
      alternative: "nix-env -q",
      other: summary(20),
      ratio: fprofMs / 20,
    }],
    pure: [{ operation: "read manifest.nix", packages: 100, medianMs: 0.3 }],
  };
}

Deno.test("keepRuns() keeps one run per Nix version, oldest version first", () => {
  const old28 = run("nix (Nix) 2.8.0", 70);
  const new28 = run("nix (Nix) 2.8.0", 30);
  const newest = run("nix (Nix) 2.34.8", 32);
  // A file from before runs were kept per version holds one bare run.
  assertEquals(keepRuns(old28, newest), [old28, newest]);
  assertEquals(keepRuns({ runs: [old28, newest] }, new28), [new28, newest]);
  assertEquals(keepRuns(null, newest), [newest]);
});

Deno.test("markdown() puts each Nix version's figures side by side", () => {
  const text = markdown([run("nix (Nix) 2.8.0", 30), run("nix (Nix) 2.34.8", 40)]);
  assertOk(text.includes("fprof (ms), Nix 2.8.0 |"), text);
  assertOk(text.includes("ratio, Nix 2.34.8 |"), text);
  assertOk(
    text.includes(
      "| list (manifest.nix) | 100 | nix-env -q | 30 | 20 | 1.50 | 30/30 | 40 | 20 | 2.00 | 30/30 |",
    ),
    text,
  );
});
