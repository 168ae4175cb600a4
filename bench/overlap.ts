/**
 * The cost of the overlap check every switch runs (lib/profile/provided.ts):
 * the check alone, in a fresh process (bench/overlap_once.ts), as a switch
 * runs it, against a whole switch of the same profile, which includes it.
 * The changed switches go between two environments of `n` packages that
 * differ by one package, so each check meets an environment not checked
 * last time and reads that one package from the store; the no-op switch
 * meets the environment it checked last time. `PATH` puts the profile's
 * `bin/` last, after the machine's own directories, so that the check also
 * reads every earlier directory.
 *
 * @module
 */

import { join } from "node:path";
import type { NixSandbox } from "../tests/helpers/sandbox.ts";
import { nixArgv } from "../lib/nix/nix.ts";
import { packagesFromReferences } from "../lib/profile/generation.ts";
import { checkOverlapsCached, type OverlapQuestion } from "../lib/profile/provided.ts";
import { Logger } from "../lib/log/log.ts";
import { type CaseResult, type Interleave, measure, type Sample, type Summary } from "./measure.ts";
import { writeBenchFlake } from "./fixtures.ts";

const ONCE = new URL("./overlap_once.ts", import.meta.url).pathname;

/** Measures the check against a changed and a no-op switch of `n` packages. */
export async function overlapCases(
  sb: NixSandbox,
  n: number,
  how: {
    fprofArgv: (...args: string[]) => string[];
    interleave: Interleave;
  },
): Promise<CaseResult[]> {
  const dirs = [join(sb.work, `overlap-a${n}`), join(sb.work, `overlap-b${n}`)];
  const profile = join(sb.stateDir, "profiles", `bench-${n}-overlap`);
  const path = `${sb.env.PATH}:${profile}/bin`;
  const questions: OverlapQuestion[] = [];
  for (const [variant, dir] of dirs.entries()) {
    await writeBenchFlake(dir, n, sb.system, variant);
    const out = await sb.runOk(nixArgv(["build", "--json", "--no-link", `path:${dir}#profile`]));
    const envPath: string = JSON.parse(out.stdout)[0].outputs.out;
    const references = (await sb.runOk(["nix-store", "-q", "--references", envPath])).stdout
      .trim().split("\n");
    const packages = packagesFromReferences(envPath, references);
    questions.push({ envPath, packages, profile, path, storeDir: sb.storeDir });
  }
  const refs = dirs.map((d) => `path:${d}#profile`);
  const env = { ...sb.env, PATH: path, NO_COLOR: "1" };
  const fprof = (...args: string[]) => measure(how.fprofArgv(...args), { env, cwd: sb.work });
  const cache = {
    files: join(sb.work, `overlap-files-${n}.json`),
    env: join(sb.work, `overlap-env-${n}.json`),
    log: new Logger(),
  };
  const warnings = await checkOverlapsCached(questions[0], cache);
  if (warnings.length > 0) throw new Error(`the bench profile overlaps: ${warnings[0].kind}`);
  // The check runs between the switches, so that both meet the same load,
  // and in a process of its own, cold, as a switch runs it.
  const questionFiles = questions.map((_, i) => join(sb.work, `overlap-question-${n}-${i}.json`));
  for (const [i, q] of questions.entries()) {
    await Deno.writeTextFile(questionFiles[i], JSON.stringify(q));
  }
  const check = (i: number) => async (): Promise<Sample> => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", ONCE, questionFiles[i % 2], cache.files, cache.env],
      stdout: "piped",
    }).output();
    if (!out.success) throw new Error("bench/overlap_once.ts failed");
    return { ms: Number(new TextDecoder().decode(out.stdout)), maxRssKiB: null };
  };
  await fprof("switch", "--profile", profile, refs[0]);
  const [changed, inChanged] = await how.interleave([
    { label: "changed", run: (i) => fprof("switch", "--profile", profile, refs[(i + 1) % 2]) },
    { label: "check", run: (i) => check(i + 1)() },
  ]);
  await fprof("switch", "--profile", profile, refs[0]);
  const [noop, inNoop] = await how.interleave([
    { label: "no-op", run: () => fprof("switch", "--profile", profile, refs[0]) },
    { label: "check", run: () => check(0)() },
  ]);
  const row = (alternative: string, own: Summary, other: Summary): CaseResult => ({
    case: "overlap check (own process)",
    packages: n,
    fprof: own,
    alternative,
    other,
    ratio: Math.round((own.medianMs / other.medianMs) * 1000) / 1000,
  });
  return [
    row("changed switch (includes it)", inChanged, changed),
    row("no-op switch (includes it)", inNoop, noop),
  ];
}
