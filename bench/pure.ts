/**
 * The in-process half of the benchmark: writing and reading manifests, and
 * planning a whole generation (manifest, NAR and hashes), with no process
 * started. These are the parts of a switch whose cost grows with the number
 * of packages.
 *
 * @module
 */

import {
  parseManifestJson,
  parseManifestNix,
  printManifestJson,
  printManifestNix,
} from "../manifest/mod.ts";
import type { ProfilePackage } from "../manifest/types.ts";
import { planGeneration } from "../lib/profile/generation.ts";
import { median } from "./measure.ts";

const STORE = "/nix/store";
const NIX32 = "0123456789abcdfghijklmnpqrsvwxyz";

/** A store-path hash part made from a number; deterministic. Pure. */
function hashPart(i: number): string {
  let s = "";
  let x = i * 2654435761 + 12345;
  for (let k = 0; k < 32; k++) {
    s += NIX32[x % 32];
    x = Math.floor(x / 32) + k * 7919 + i;
  }
  return s;
}

/** `count` packages such as a big profile has. Pure. */
export function fakePackages(count: number): ProfilePackage[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `p${i + 1}`,
    version: "1.0",
    storePaths: [`${STORE}/${hashPart(i)}-p${i + 1}-1.0`],
  }));
}

/** One in-process measurement. */
export interface PureResult {
  operation: string;
  packages: number;
  medianMs: number;
}

async function time(fn: () => unknown, reps: number): Promise<number> {
  await fn(); // warm-up: let the JIT compile it
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    await fn();
    ms.push(performance.now() - start);
  }
  return Math.round(median(ms) * 10) / 10;
}

/** Times every in-process operation at every size. */
export async function pureCases(sizes: readonly number[], reps: number): Promise<PureResult[]> {
  const out: PureResult[] = [];
  for (const n of sizes) {
    const pkgs = fakePackages(n);
    const nixText = printManifestNix(pkgs);
    const jsonText = printManifestJson(pkgs, 2, { withPriorityAndOutputs: false });
    const plan = (manifest: "nix" | "json") => () =>
      planGeneration({
        envPath: `${STORE}/${hashPart(n + 1)}-profile`,
        entries: ["bin", "manifest.nix"],
        packages: pkgs,
        manifest,
        jsonVersion: 2,
        jsonPriorityAndOutputs: false,
        storeDir: STORE,
      });
    const ops: [string, () => unknown][] = [
      ["write manifest.nix", () => printManifestNix(pkgs)],
      ["write manifest.json v2", () => printManifestJson(pkgs, 2)],
      ["write manifest.json v3", () => printManifestJson(pkgs, 3)],
      ["read manifest.nix", () => parseManifestNix(nixText)],
      ["read manifest.json", () => parseManifestJson(jsonText)],
      ["plan generation (manifest.nix, NARs, hashes)", plan("nix")],
      ["plan generation (manifest.json, NAR, hash)", plan("json")],
    ];
    for (const [operation, fn] of ops) {
      out.push({ operation, packages: n, medianMs: await time(fn, Math.max(reps, 5)) });
    }
  }
  return out;
}
