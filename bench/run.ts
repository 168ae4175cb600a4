/**
 * `deno task bench`: fprof against the commands people would use instead, on
 * profiles of 10 to 10,000 packages, in one isolated Nix store. Every case
 * runs its sides interleaved (A, B, A, B, …) after one discarded warm-up run
 * each, and reports the median wall time, the ratio fprof / alternative and
 * the peak memory. Prints a Markdown table and writes `bench/results.json`.
 *
 * Options: `--sizes=10,100,1000,10000`, `--reps=5`, `--out=FILE`.
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { cpus, totalmem } from "node:os";
import { makeNixSandbox, type NixSandbox } from "../tests/helpers/sandbox.ts";
import { writeBenchFlake } from "./fixtures.ts";
import { gnuTimeAvailable, measure, type Sample, summarise, type Summary } from "./measure.ts";
import { pureCases } from "./pure.ts";
import { nixArgv } from "../lib/nix.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** One side of a case: a run that may depend on how many runs came before. */
type Side = { label: string; run: (i: number) => Promise<Sample> };

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

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "10,100,1000,10000" },
    reps: { type: "string", default: "5" },
    out: { type: "string", default: new URL("./results.json", import.meta.url).pathname },
  },
});
const sizes = values.sizes.split(",").map(Number);
const reps = Number(values.reps);

/** Runs the sides interleaved: one warm-up each, then `reps` rounds. */
async function interleave(sides: Side[]): Promise<Summary[]> {
  const samples: Sample[][] = sides.map(() => []);
  for (let round = 0; round <= reps; round++) {
    for (const [k, side] of sides.entries()) {
      const s = await side.run(round);
      if (round > 0) samples[k].push(s);
    }
  }
  return samples.map(summarise);
}

/** Runs several commands one after the other as one sample. */
async function chain(...steps: (() => Promise<Sample>)[]): Promise<Sample> {
  let ms = 0;
  let rss: number | null = null;
  for (const step of steps) {
    const s = await step();
    ms += s.ms;
    if (s.maxRssKiB !== null) rss = Math.max(rss ?? 0, s.maxRssKiB);
  }
  return { ms, maxRssKiB: rss };
}

async function main() {
  await using sb = await makeNixSandbox();
  const env = { ...sb.env, NO_COLOR: "1" };
  const run = (argv: string[]) => measure(argv, { env, cwd: sb.work });
  const fprof = (...args: string[]) =>
    run([Deno.execPath(), "run", "-A", "--quiet", MAIN, ...args]);
  const nixBuild = (ref: string) => run(nixArgv(["build", "--json", "--no-link", ref]));
  const results: CaseResult[] = [];
  const record = (name: string, n: number, alt: string, [f, o]: Summary[]) => {
    const row = {
      case: name,
      packages: n,
      fprof: f,
      alternative: alt,
      other: o,
      ratio: Math.round((f.medianMs / o.medianMs) * 100) / 100,
    };
    results.push(row);
    console.error(`bench: ${name} (${n}): fprof ${f.medianMs} ms, ${alt} ${o.medianMs} ms`);
  };

  for (const n of sizes) {
    console.error(`bench: writing and building the fixtures of ${n} packages`);
    const dirA = join(sb.work, `a${n}`);
    const dirB = join(sb.work, `b${n}`);
    await writeBenchFlake(dirA, n, sb.system, 0);
    await writeBenchFlake(dirB, n, sb.system, 1);
    const ref = (dir: string, attr = "profile") => `path:${dir}#${attr}`;
    const flakes = [dirA, dirB];
    const envPaths: string[] = [];
    for (const dir of flakes) {
      const out = await sb.runOk([
        "nix",
        "--extra-experimental-features",
        "nix-command flakes",
        "build",
        "--json",
        "--no-link",
        ref(dir),
      ]);
      envPaths.push(JSON.parse(out.stdout)[0].outputs.out);
    }
    const profile = (name: string) => join(sb.stateDir, "profiles", `bench-${n}-${name}`);
    const floorSet = (p: string, i: number) =>
      chain(
        () => nixBuild(ref(flakes[i % 2])),
        () => run(["nix-env", "-p", p, "--set", envPaths[i % 2]]),
      );

    // list: one generation made by fprof with manifest.nix, read three ways.
    const listed = profile("list");
    await fprof("switch", "--profile", listed, "--manifest=nix", ref(dirA));
    const [fl, npl, neq] = await interleave([
      { label: "fprof", run: () => fprof("list", "--profile", listed) },
      {
        label: "nix profile list",
        run: () =>
          run([
            "nix",
            "--extra-experimental-features",
            "nix-command flakes",
            "profile",
            "list",
            "--profile",
            listed,
          ]),
      },
      { label: "nix-env -q", run: () => run(["nix-env", "-q", "-p", listed]) },
    ]);
    record("list", n, "nix profile list", [fl, npl]);
    record("list", n, "nix-env -q", [fl, neq]);

    // A switch that changes nothing, against building and setting the same.
    const noop = profile("noop");
    const noopFloor = profile("noop-floor");
    await fprof("switch", "--profile", noop, ref(dirA));
    await run(["nix-env", "-p", noopFloor, "--set", envPaths[0]]);
    record(
      "no-op switch",
      n,
      "nix build + nix-env --set",
      await interleave([
        { label: "fprof", run: () => fprof("switch", "--profile", noop, ref(dirA)) },
        { label: "floor", run: () => floorSet(noopFloor, 0) },
      ]),
    );

    // Changed switches: every run switches to the other flake (B, A, B, …).
    for (const manifest of ["nix", "json"]) {
      const p = profile(`changed-${manifest}`);
      const floor = profile(`changed-${manifest}-floor`);
      await fprof("switch", "--profile", p, `--manifest=${manifest}`, ref(dirA));
      await run(["nix-env", "-p", floor, "--set", envPaths[0]]);
      record(
        `changed switch --manifest=${manifest}`,
        n,
        "nix build + nix-env --set",
        await interleave([
          {
            label: "fprof",
            run: (i) =>
              fprof("switch", "--profile", p, `--manifest=${manifest}`, ref(flakes[(i + 1) % 2])),
          },
          { label: "floor", run: (i) => floorSet(floor, i + 1) },
        ]),
      );
    }

    // flakey-profile's way: `nix run .#profile.switch`.
    const viaFprof = profile("vs-flakey");
    const viaFlakey = profile("flakey");
    await fprof("switch", "--profile", viaFprof, ref(dirA));
    await run(["nix-env", "-p", viaFlakey, "--set", envPaths[0]]);
    record(
      "changed switch",
      n,
      "nix run .#profile.switch",
      await interleave([
        {
          label: "fprof",
          run: (i) => fprof("switch", "--profile", viaFprof, ref(flakes[(i + 1) % 2])),
        },
        {
          label: "flakey",
          run: (i) =>
            run([
              "nix",
              "--extra-experimental-features",
              "nix-command flakes",
              "run",
              ref(flakes[(i + 1) % 2], "flakey.switch"),
              "--",
              "--profile",
              viaFlakey,
            ]),
        },
      ]),
    );

    // diff between two generations of n packages each (the A and B ones of
    // the changed-switch profile), against nix store diff-closures.
    const diffed = profile("changed-nix");
    const gens = await generationsOf(sb, diffed);
    const [g1, g2] = gens.slice(-2);
    if (await fprofHas(sb, "diff")) {
      record(
        "diff",
        n,
        "nix store diff-closures",
        await interleave([
          {
            label: "fprof",
            run: () => fprof("diff", "--profile", diffed, String(g1.number), String(g2.number)),
          },
          {
            label: "diff-closures",
            run: () =>
              run([
                "nix",
                "--extra-experimental-features",
                "nix-command flakes",
                "store",
                "diff-closures",
                g1.storePath,
                g2.storePath,
              ]),
          },
        ]),
      );
    } else {
      console.error("bench: fprof has no diff command; skipped the diff case");
    }
    // The fixtures of this size are no longer needed; free the tmpfs or disk.
    await sb.runOk(["nix-store", "--gc"]).catch(() => {});
  }

  const pure = await pureCases(sizes, reps);
  const machine = await machineInfo();
  const report = {
    date: new Date().toISOString(),
    machine,
    reps,
    peakMemory: gnuTimeAvailable()
      ? "largest resident set of any process of the run (GNU time %M, from wait4)"
      : "not measured (GNU time is not installed)",
    cases: results,
    pure,
  };
  await Deno.writeTextFile(values.out, JSON.stringify(report, null, 2) + "\n");
  console.log(markdown(report));
}

/** The numbered generations of a profile, oldest first. */
async function generationsOf(sb: NixSandbox, profile: string) {
  const dir = join(profile, "..");
  const base = profile.slice(dir.length + 1);
  const gens: { number: number; storePath: string }[] = [];
  for await (const e of Deno.readDir(dir)) {
    const m = new RegExp(`^${base}-(\\d+)-link$`).exec(e.name);
    if (m) gens.push({ number: Number(m[1]), storePath: await Deno.readLink(join(dir, e.name)) });
  }
  void sb;
  return gens.sort((a, b) => a.number - b.number);
}

async function fprofHas(sb: NixSandbox, command: string): Promise<boolean> {
  const r = await sb.run([Deno.execPath(), "run", "-A", "--quiet", MAIN, command, "--help"]);
  return r.code === 0;
}

async function machineInfo() {
  const nix = await new Deno.Command("nix", { args: ["--version"], stdout: "piped" }).output();
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    nix: new TextDecoder().decode(nix.stdout).trim(),
    deno: Deno.version.deno,
  };
}

/** The report as Markdown tables. Pure. */
export function markdown(report: {
  date: string;
  machine: { cores: number; cpu: string; memoryGiB: number; nix: string; deno: string };
  reps: number;
  cases: CaseResult[];
  pure: { operation: string; packages: number; medianMs: number }[];
}): string {
  const m = report.machine;
  const mem = (s: Summary) => s.peakMiB === null ? "–" : `${s.peakMiB}`;
  const lines = [
    `Measured ${report.date.slice(0, 10)} on ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, ` +
    `${m.nix}, Deno ${m.deno}; median of ${report.reps} interleaved runs after a warm-up.`,
    "",
    "| case | packages | fprof (ms) | alternative | alternative (ms) | ratio | fprof peak (MiB) | alternative peak (MiB) |",
    "|---|---:|---:|---|---:|---:|---:|---:|",
    ...report.cases.map((c) =>
      `| ${c.case} | ${c.packages} | ${c.fprof.medianMs} | ${c.alternative} | ${c.other.medianMs} | ` +
      `${c.ratio.toFixed(2)} | ${mem(c.fprof)} | ${mem(c.other)} |`
    ),
    "",
    "| in-process operation | packages | median (ms) |",
    "|---|---:|---:|",
    ...report.pure.map((p) => `| ${p.operation} | ${p.packages} | ${p.medianMs} |`),
  ];
  return lines.join("\n");
}

if (import.meta.main) await main();
