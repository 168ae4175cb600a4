/**
 * Timing and peak memory of one command, and the statistics the benchmark
 * reports. Wall time is measured in Deno around the child process. Peak memory
 * is the largest resident set of any process in the command's tree, as
 * `wait4` reports it to GNU time (`/usr/bin/time -f %M`); without GNU time it
 * is not measured (null).
 *
 * @module
 */

/** One timed run. */
export interface Sample {
  ms: number;
  /** Peak resident set of the largest process of the run, in KiB. */
  maxRssKiB: number | null;
}

const GNU_TIME = "/usr/bin/time";

let hasGnuTime: boolean | undefined;

/** Whether GNU time is installed, asked once. */
export function gnuTimeAvailable(): boolean {
  if (hasGnuTime === undefined) {
    try {
      hasGnuTime = Deno.statSync(GNU_TIME).isFile;
    } catch {
      hasGnuTime = false;
    }
  }
  return hasGnuTime;
}

/** Runs argv (a failure throws with its stderr) and returns its wall time and peak memory. */
export async function measure(
  argv: string[],
  opts: { env: Record<string, string>; cwd?: string },
): Promise<Sample> {
  const rssFile = gnuTimeAvailable() ? await Deno.makeTempFile({ prefix: "fprof-bench-" }) : null;
  const full = rssFile ? [GNU_TIME, "-f", "%M", "-o", rssFile, ...argv] : argv;
  const start = performance.now();
  const out = await new Deno.Command(full[0], {
    args: full.slice(1),
    env: opts.env,
    clearEnv: true,
    cwd: opts.cwd,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - start;
  let maxRssKiB: number | null = null;
  if (rssFile) {
    const text = await Deno.readTextFile(rssFile);
    await Deno.remove(rssFile);
    const last = text.trim().split("\n").at(-1) ?? "";
    maxRssKiB = /^\d+$/.test(last) ? Number(last) : null;
  }
  if (!out.success) {
    throw new Error(
      `benchmark command failed (exit ${out.code}): ${argv.join(" ")}\n` +
        new TextDecoder().decode(out.stderr).slice(-2000),
    );
  }
  return { ms, maxRssKiB };
}

/** Runs the sides of a case interleaved, as bench/run.ts does, and summarises each. */
export type Interleave = (
  sides: { label: string; run: (i: number) => Promise<Sample> }[],
) => Promise<Summary[]>;

/** The median of a non-empty list. Pure. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Summary of the samples of one side of a case. */
export interface Summary {
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** The highest peak over the samples, in MiB; null when not measured. */
  peakMiB: number | null;
  samples: number[];
}

/** Summarises samples. Pure. */
export function summarise(samples: readonly Sample[]): Summary {
  const ms = samples.map((s) => s.ms);
  const rss = samples.map((s) => s.maxRssKiB).filter((r): r is number => r !== null);
  return {
    medianMs: round(median(ms)),
    minMs: round(Math.min(...ms)),
    maxMs: round(Math.max(...ms)),
    peakMiB: rss.length > 0 ? round(Math.max(...rss) / 1024) : null,
    samples: ms.map(round),
  };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

/** One row of the results. */
export interface CaseResult {
  case: string;
  packages: number;
  fprof: Summary;
  alternative: string;
  other: Summary;
  /** fprof's median over the alternative's. */
  ratio: number;
}
