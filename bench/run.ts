/**
 * `deno task bench`: fprof against the commands people would use instead, on
 * profiles of 10 to 10,000 packages, in one isolated Nix store. fprof runs as
 * it is shipped: the bundle (`scripts/build.ts`), with the permissions the
 * binaries get. Every case runs its sides interleaved (A, B, A, B, …) after
 * one discarded warm-up run each, and reports the median wall time, the ratio
 * fprof / alternative and the peak memory. Prints Markdown tables and keeps
 * the run in `bench/results.json`, one run per Nix version.
 *
 * Options: `--nix=2.8|2.26|newest` (that Nix first on PATH, from
 * `scripts/install-nix.sh`; default: the Nix on PATH),
 * `--sizes=10,100,1000,10000`, `--reps=5`, `--cases=all|read|eval` (`read`:
 * only list, generations and completion; `eval`: only the switches of a
 * flake that costs what nixpkgs costs to evaluate; `remote`: only the
 * loopback hosts of bench/remote.ts, `--hosts=1,4,16` of them; `overlap`:
 * only the overlap check of bench/overlap.ts), `--out=FILE`.
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { cpus, totalmem } from "node:os";
import { makeNixSandbox, type NixSandbox } from "../tests/helpers/sandbox.ts";
import { writeBenchFlake, writeBenchVariant } from "./fixtures.ts";
import {
  type CaseResult,
  gnuTimeAvailable,
  measure,
  type Sample,
  summarise,
  type Summary,
} from "./measure.ts";
import { pureCases } from "./pure.ts";
import { remoteCases, remoteMarkdown } from "./remote.ts";
import { overlapCases } from "./overlap.ts";
import { nixArgv } from "../lib/nix/nix.ts";
import { PERMISSION_FLAGS, writeBundle } from "../scripts/build.ts";

/** One side of a case: a run that may depend on how many runs came before. */
type Side = { label: string; run: (i: number) => Promise<Sample> };

const { values } = parseArgs({
  options: {
    sizes: { type: "string", default: "10,100,1000,10000" },
    reps: { type: "string", default: "5" },
    nix: { type: "string" },
    cases: { type: "string", default: "all" },
    hosts: { type: "string", default: "1,4,16" },
    out: { type: "string", default: new URL("./results.json", import.meta.url).pathname },
  },
});
const sizes = values.sizes.split(",").map(Number);
const reps = Number(values.reps);
if (!["all", "read", "eval", "remote", "overlap"].includes(values.cases)) {
  throw new Error(`--cases takes all, read, eval, remote or overlap, not '${values.cases}'`);
}
const onlyRemote = values.cases === "remote";
const onlyReads = values.cases === "read";
const onlyEval = values.cases === "eval";
const onlyOverlap = values.cases === "overlap";

/** The fold that gives a fixture nixpkgs' evaluation cost (about 1.5 s). */
const NIXPKGS_COST = 4_000_000;

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

/** Puts the Nix of `label` first on PATH, for this process and all it starts. */
async function useNix(label: string): Promise<void> {
  const script = new URL("../scripts/install-nix.sh", import.meta.url).pathname;
  const out = await new Deno.Command("bash", { args: [script, label], stdout: "piped" }).output();
  if (!out.success) throw new Error(`scripts/install-nix.sh ${label} failed`);
  const bin = new TextDecoder().decode(out.stdout).trim();
  Deno.env.set("PATH", `${bin}:${Deno.env.get("PATH") ?? ""}`);
}

async function main() {
  const loadAtStart = Deno.loadavg()[0];
  if (values.nix) await useNix(values.nix);
  await using sb = await makeNixSandbox();
  const env = { ...sb.env, NO_COLOR: "1" };
  const run = (argv: string[]) => measure(argv, { env, cwd: sb.work });
  const bundle = join(sb.root, "fprof.js");
  await writeBundle(bundle);
  const fprofArgv = (...args: string[]) => [
    Deno.execPath(),
    "run",
    "--quiet",
    ...PERMISSION_FLAGS,
    bundle,
    ...args,
  ];
  const fprof = (...args: string[]) => run(fprofArgv(...args));
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

  /** Switches of a flake whose evaluation costs what importing nixpkgs does. */
  const costCases = async (n: number, profile: (name: string) => string) => {
    const dir = join(sb.work, `cost${n}`);
    await writeBenchFlake(dir, n, sb.system, 0, NIXPKGS_COST);
    const r = `path:${dir}#profile`;
    // Every changed run, fprof's or the floor's, gets a flake never seen
    // before, so neither Nix's eval cache nor fprof's can answer it.
    let variant = 0;
    const fresh = () => writeBenchVariant(dir, ++variant);
    const changed = profile("cost-changed");
    const floor = profile("cost-changed-floor");
    const link = join(sb.work, `cost${n}-result`);
    const buildAndSet = (p: string, ...flags: string[]) =>
      chain(
        () => run(nixArgv(["build", "--json", "--out-link", link, ...flags, r])),
        () => run(["nix-env", "-p", p, "--set", Deno.readLinkSync(link)]),
      );
    await fprof("switch", "--profile", changed, r);
    record(
      "changed switch, nixpkgs' cost",
      n,
      "nix build + nix-env --set",
      await interleave([
        { label: "fprof", run: () => fresh().then(() => fprof("switch", "--profile", changed, r)) },
        { label: "floor", run: () => fresh().then(() => buildAndSet(floor)) },
      ]),
    );
    // A switch that changes nothing: against a `nix build` that Nix's eval
    // cache answers (built three times first: the first two evaluate), and
    // against the uncached floor.
    const noop = profile("cost-noop");
    const noopFloor = profile("cost-noop-floor");
    await fprof("switch", "--profile", noop, r);
    for (let i = 0; i < 3; i++) await nixBuild(r);
    const [f, cached, uncached] = await interleave([
      { label: "fprof", run: () => fprof("switch", "--profile", noop, r) },
      { label: "cached nix build", run: () => nixBuild(r) },
      { label: "floor", run: () => buildAndSet(noopFloor, "--no-eval-cache") },
    ]);
    record("no-op switch, nixpkgs' cost", n, "nix build (eval cache)", [f, cached]);
    record("no-op switch, nixpkgs' cost", n, "nix build --no-eval-cache + nix-env --set", [
      f,
      uncached,
    ]);
  };

  if (onlyRemote || values.cases === "all") {
    const remote = await remoteCases(sb, {
      fprofArgv,
      interleave,
      reps,
      fleetSizes: values.hosts.split(",").map(Number),
    });
    console.log(remoteMarkdown(remote, (await machineInfo()).nix));
    if (onlyRemote) return;
  }
  const overlap = (n: number) => overlapCases(sb, n, { fprofArgv, interleave });
  for (const n of sizes) {
    if (onlyOverlap) {
      for (const row of await overlap(n)) {
        record(row.case, n, row.alternative, [row.fprof, row.other]);
      }
      await sb.runOk(["nix-store", "--gc"]).catch(() => {});
      continue;
    }
    if (onlyEval) {
      const profile = (name: string) => join(sb.stateDir, "profiles", `bench-${n}-${name}`);
      await costCases(n, profile);
      await sb.runOk(["nix-store", "--gc"]).catch(() => {});
      continue;
    }
    console.error(`bench: writing and building the fixtures of ${n} packages`);
    const dirA = join(sb.work, `a${n}`);
    const dirB = join(sb.work, `b${n}`);
    await writeBenchFlake(dirA, n, sb.system, 0);
    await writeBenchFlake(dirB, n, sb.system, 1);
    const ref = (dir: string, attr = "profile") => `path:${dir}#${attr}`;
    const flakes = [dirA, dirB];
    const envPaths: string[] = [];
    for (const dir of flakes) {
      const out = await sb.runOk(nixArgv(["build", "--json", "--no-link", ref(dir)]));
      envPaths.push(JSON.parse(out.stdout)[0].outputs.out);
    }
    const profile = (name: string) => join(sb.stateDir, "profiles", `bench-${n}-${name}`);
    const floorSet = (p: string, i: number) =>
      chain(
        () => nixBuild(ref(flakes[i % 2])),
        () => run(["nix-env", "-p", p, "--set", envPaths[i % 2]]),
      );

    // list: a generation with manifest.json against `nix profile list`, one
    // with manifest.nix against `nix-env -q`.
    const listedJson = profile("list-json");
    const listedNix = profile("list-nix");
    await fprof("switch", "--profile", listedJson, "--manifest=json", ref(dirA));
    await fprof("switch", "--profile", listedNix, "--manifest=nix", ref(dirA));
    record(
      "list (manifest.json)",
      n,
      "nix profile list",
      await interleave([
        { label: "fprof", run: () => fprof("list", "--profile", listedJson) },
        {
          label: "nix profile list",
          run: () => run(nixArgv(["profile", "list", "--profile", listedJson])),
        },
      ]),
    );
    record(
      "list (manifest.nix)",
      n,
      "nix-env -q",
      await interleave([
        { label: "fprof", run: () => fprof("list", "--profile", listedNix) },
        { label: "nix-env -q", run: () => run(["nix-env", "-q", "-p", listedNix]) },
      ]),
    );

    // generations and completion: a profile of 4 generations, A and B in
    // turn, against `nix-env --list-generations`.
    const history = profile("history");
    for (let i = 0; i < 4; i++) {
      await fprof("switch", "--profile", history, "--manifest=nix", ref(flakes[i % 2]));
    }
    const [fg, fc, nlg] = await interleave([
      { label: "fprof generations", run: () => fprof("generations", "--profile", history) },
      {
        label: "fprof __complete",
        run: () => fprof("__complete", "generations", "--profile", history),
      },
      {
        label: "nix-env --list-generations",
        run: () => run(["nix-env", "--list-generations", "-p", history]),
      },
    ]);
    record("generations", n, "nix-env --list-generations", [fg, nlg]);
    record("__complete generations", n, "nix-env --list-generations", [fc, nlg]);
    if (onlyReads) {
      await sb.runOk(["nix-store", "--gc"]).catch(() => {});
      continue;
    }

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
    if (await fprofHas(sb, fprofArgv, "diff")) {
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
    await costCases(n, profile);
    for (const row of await overlap(n)) {
      record(row.case, n, row.alternative, [row.fprof, row.other]);
    }
    // The fixtures of this size are no longer needed; free the tmpfs or disk.
    await sb.runOk(["nix-store", "--gc"]).catch(() => {});
  }

  const pure = await pureCases(sizes, reps);
  const machine = await machineInfo();
  const report: Report = {
    date: new Date().toISOString(),
    machine,
    reps,
    loadAverage: { start: loadAtStart, end: Deno.loadavg()[0] },
    peakMemory: gnuTimeAvailable()
      ? "largest resident set of any process of the run (GNU time %M, from wait4)"
      : "not measured (GNU time is not installed)",
    cases: results,
    pure,
  };
  const previous = await Deno.readTextFile(values.out).then(JSON.parse).catch(() => null);
  const runs = keepRuns(previous, report);
  await Deno.writeTextFile(values.out, JSON.stringify({ runs }, null, 2) + "\n");
  console.log(markdown(runs));
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

async function fprofHas(
  sb: NixSandbox,
  fprofArgv: (...args: string[]) => string[],
  command: string,
): Promise<boolean> {
  const r = await sb.run(fprofArgv(command, "--help"));
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

/** One run of the benchmark, on one Nix version. */
export interface Report {
  date: string;
  machine: { cores: number; cpu: string; memoryGiB: number; nix: string; deno: string };
  reps: number;
  /** The one-minute load average when the run started and ended: other work on the machine. */
  loadAverage?: { start: number; end: number };
  peakMemory?: string;
  cases: CaseResult[];
  pure: { operation: string; packages: number; medianMs: number }[];
}

/** The version numbers in `nix (Nix) 2.8.0`, for sorting. Pure. */
function versionKey(nix: string): number[] {
  return (/(\d+)\.(\d+)(?:\.(\d+))?/.exec(nix)?.slice(1) ?? []).map((x) => Number(x ?? 0));
}

/**
 * The runs to keep after `run`: the runs of `previous` (an older file held a
 * single run) on other Nix versions, and `run`, ordered by Nix version. Pure.
 */
export function keepRuns(previous: unknown, run: Report): Report[] {
  const old: Report[] = Array.isArray((previous as { runs?: Report[] })?.runs)
    ? (previous as { runs: Report[] }).runs
    : (previous as Report)?.machine
    ? [previous as Report]
    : [];
  const runs = [...old.filter((r) => r.machine.nix !== run.machine.nix), run];
  return runs.sort((a, b) => {
    const [x, y] = [versionKey(a.machine.nix), versionKey(b.machine.nix)];
    return (x[0] - y[0]) || (x[1] - y[1]) || (x[2] - y[2]);
  });
}

/** `2.8.0` from `nix (Nix) 2.8.0`. Pure. */
function shortNix(nix: string): string {
  return /\d+\.\d+(?:\.\d+)?/.exec(nix)?.[0] ?? nix;
}

/**
 * The runs as Markdown: one line per run saying where and when, then the
 * cases with each Nix version's figures side by side. Pure.
 */
export function markdown(runs: readonly Report[]): string {
  const mem = (s: Summary) => s.peakMiB === null ? "–" : `${s.peakMiB}`;
  const key = (c: { case: string; packages: number; alternative: string }) =>
    `${c.case}\u0000${c.packages}\u0000${c.alternative}`;
  const rows = new Map<string, CaseResult>();
  for (const r of runs) for (const c of r.cases) if (!rows.has(key(c))) rows.set(key(c), c);
  const versions = runs.map((r) => `Nix ${shortNix(r.machine.nix)}`);
  const cell = (r: Report, row: CaseResult) => {
    const c = r.cases.find((x) => key(x) === key(row));
    return c
      ? [
        `${c.fprof.medianMs}`,
        `${c.other.medianMs}`,
        c.ratio.toFixed(2),
        `${mem(c.fprof)}/${mem(c.other)}`,
      ]
      : ["–", "–", "–", "–"];
  };
  const pureRows = new Map<string, { operation: string; packages: number }>();
  for (const r of runs) {
    for (const p of r.pure) pureRows.set(`${p.operation}\u0000${p.packages}`, p);
  }
  const lines = [
    ...runs.map((r) => {
      const m = r.machine;
      const load = r.loadAverage
        ? ` Load average ${r.loadAverage.start.toFixed(1)} at the start, ` +
          `${r.loadAverage.end.toFixed(1)} at the end.`
        : "";
      return `- ${m.nix}: measured ${r.date.slice(0, 10)} on ${m.cores} cores (${m.cpu}), ` +
        `${m.memoryGiB} GiB, Deno ${m.deno}; median of ${r.reps} interleaved runs after a ` +
        `warm-up.${load}`;
    }),
    "",
    "| case | packages | alternative | " +
    versions.map((v) => `fprof (ms), ${v} | alternative (ms), ${v} | ratio, ${v} | peak MiB, ${v}`)
      .join(" | ") +
    " |",
    "|---|---:|---|" + versions.map(() => "---:|---:|---:|---:|").join(""),
    ...[...rows.values()].map((row) =>
      `| ${row.case} | ${row.packages} | ${row.alternative} | ` +
      runs.map((r) => cell(r, row).join(" | ")).join(" | ") + " |"
    ),
    "",
    "| in-process operation | packages | " + versions.map((v) => `median (ms), ${v}`).join(" | ") +
    " |",
    "|---|---:|" + versions.map(() => "---:|").join(""),
    ...[...pureRows.values()].map((p) =>
      `| ${p.operation} | ${p.packages} | ` +
      runs.map((r) =>
        `${
          r.pure.find((x) => x.operation === p.operation && x.packages === p.packages)?.medianMs ??
            "–"
        }`
      ).join(" | ") + " |"
    ),
  ];
  return lines.join("\n");
}

if (import.meta.main) await main();
