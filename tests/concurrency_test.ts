/**
 * Concurrent use of one profile: several `fprof switch` runs at once, and
 * fprof next to `nix-env -i`, which takes the same `<profile>.lock`. Runs as
 * the test's own user against a local store (no daemon), for speed.
 *
 * @module
 */

import { join } from "node:path";
import { assertEquals, assertOk, assertStringIncludes } from "./helpers/testing.ts";
import { type FixturePackage, writeProfileFlake } from "./helpers/fixtures.ts";
import { fprof, fprofOk } from "./helpers/fprof.ts";
import { makeNixSandbox, type NixSandbox, type RunResult } from "./helpers/sandbox.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const PROFILE_TS = new URL("../lib/profile/profile.ts", import.meta.url).href;

const EXTRA: FixturePackage = { name: "extra", version: "1.0", bins: ["extra"] };

/**
 * The packages of request `i`. Every request has the same names, and only
 * `tool`'s version differs, so that no switch drops a package another
 * request declared: fprof refuses to drop packages from a generation it did
 * not make (nix-env's) without `--yes`. With `declareExtra`, the flakes also
 * declare nix-env's package, so nothing is ever dropped.
 */
function request(i: number, declareExtra: boolean): FixturePackage[] {
  return [
    { name: "common", version: "1.0", bins: ["common"] },
    { name: "tool", version: `1.${i}`, bins: ["tool"] },
    ...(declareExtra ? [EXTRA] : []),
  ];
}

/** `pkgs` after `nix-env -i` of {@link EXTRA}. */
function withExtra(pkgs: FixturePackage[]): FixturePackage[] {
  return pkgs.some((p) => p.name === EXTRA.name) ? pkgs : [...pkgs, EXTRA];
}

function labels(pkgs: FixturePackage[]): string[] {
  return pkgs.map((p) => `${p.name}-${p.version}`).sort();
}

/**
 * A Nix file for `nix-env -i -f`: one package made by the fixture library
 * that the flake in `flakeDir` carries.
 */
async function writeExtraNix(sb: NixSandbox, flakeDir: string): Promise<string> {
  const file = join(sb.work, "extra.nix");
  // A JSON string is a valid Nix string literal as long as it has no "${".
  const spec = JSON.stringify(JSON.stringify(EXTRA));
  const system = JSON.stringify(sb.system);
  await Deno.writeTextFile(
    file,
    `(import ${flakeDir}/fixture.nix { system = ${system}; }).mkPackage (builtins.fromJSON ${spec})\n`,
  );
  return file;
}

interface GenerationLink {
  number: number;
  target: string;
}

/** The profile's generation links, by number. */
async function generationLinks(profile: string): Promise<GenerationLink[]> {
  const dir = join(profile, "..");
  const name = profile.slice(dir.length + 1);
  const out: GenerationLink[] = [];
  for await (const e of Deno.readDir(dir)) {
    const m = new RegExp(`^${name}-(\\d+)-link$`).exec(e.name);
    if (m) out.push({ number: Number(m[1]), target: await Deno.readLink(join(dir, e.name)) });
  }
  return out.sort((a, b) => a.number - b.number);
}

interface RecordJson {
  generation: number;
  storePath: string;
  parent: number | null;
  parentStorePath: string | null;
  flake?: string;
}

/** fprof's records of `profile`, the only file in their directory (no temporary file is left). */
async function readRecords(sb: NixSandbox, profile: string): Promise<Record<string, RecordJson>> {
  const dir = join(sb.xdgState, "fprof", "profiles");
  const names = (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name);
  assertEquals(names, [`${encodeURIComponent(profile)}.json`]);
  return JSON.parse(await Deno.readTextFile(join(dir, names[0]))).generations;
}

function describe(r: RunResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
}

for (const declareExtra of [true, false]) {
  const what = declareExtra ? "declare nix-env's package" : "do not declare nix-env's package";
  Deno.test(`6 concurrent switches and a nix-env -i leave whole generations (flakes ${what})`, () =>
    concurrentScenario(declareExtra));
}

/**
 * Six `fprof switch` runs start at once on one profile, each with its own
 * flake, and a `nix-env -i` joins once the first generation exists.
 *
 * When the flakes declare nix-env's package, every run must succeed with a
 * generation of its own. When they do not, a run that finds nix-env's
 * generation current must refuse, since it would drop that package and
 * nobody can be asked: exit 1, one error line saying so, nothing changed.
 * Runs before nix-env's generation succeed, and nothing can switch away
 * from it afterwards, so it stays current.
 */
async function concurrentScenario(declareExtra: boolean): Promise<void> {
  const N = 6;
  await using sb = await makeNixSandbox();
  const profile = sb.profile;
  const requests = Array.from({ length: N }, (_, i) => request(i, declareExtra));
  const flakes = requests.map((_, i) => join(sb.work, `flake${i}`));
  await Promise.all(
    flakes.map((dir, i) => writeProfileFlake(dir, requests[i], { system: sb.system })),
  );
  const extraNix = await writeExtraNix(sb, flakes[0]);
  // Built up front: `nix-env -i` then spends its time on the profile, and
  // the runs do not all build `common` at once, which Nix settles by
  // polling its build lock every 5 s. Each run still builds its own `tool`
  // and environment.
  await sb.runOk(["nix-build", "--no-out-link", extraNix]);
  await sb.runOk(["nix", "build", "--no-link", `path:${flakes[0]}#common`]);

  const switches = flakes.map((dir) => fprof(sb, ["switch", "--profile", profile, `path:${dir}`]));
  // nix-env joins once the first generation exists, while other switches
  // are still building or waiting for the lock.
  const deadline = Date.now() + 30_000;
  while ((await generationLinks(profile)).length === 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const nixEnv = sb.run(["nix-env", "-p", profile, "-i", "-f", extraNix]);
  const results = await Promise.all(switches);
  const nixEnvResult = await nixEnv;
  assertEquals(nixEnvResult.code, 0, describe(nixEnvResult));

  // Each run made a generation, or refused with one error line.
  const made = new Map<number, number>(); // generation → run
  const refusals: number[] = []; // the generation each refusing run found
  for (const [i, r] of results.entries()) {
    if (r.code === 0) {
      const m = /switched '.*' to generation (\d+)/.exec(r.stderr);
      assertOk(m, describe(r));
      assertOk(!made.has(Number(m[1])), `generation ${m[1]} made twice`);
      made.set(Number(m[1]), i);
      continue;
    }
    assertOk(!declareExtra, `run ${i} fails although nothing is dropped: ${describe(r)}`);
    assertEquals(r.code, 1, describe(r));
    const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
    assertEquals(errors.length, 1, describe(r));
    const m = /^error: refusing to switch: generation (\d+) was not made by fprof\b.*\bextra 1\.0\b/
      .exec(errors[0]);
    assertOk(m, describe(r));
    refusals.push(Number(m[1]));
  }
  if (declareExtra) assertEquals(made.size, N);

  // Generations 1..top: one per successful run, and nix-env's; each a valid
  // store path.
  const top = made.size + 1;
  const links = await generationLinks(profile);
  assertEquals(links.map((l) => l.number), Array.from({ length: top }, (_, i) => i + 1));
  await sb.runOk(["nix-store", "--check-validity", ...links.map((l) => l.target)]);
  const byNumber = new Map(links.map((l) => [l.number, l.target]));
  const nixEnvGen = links.find((l) => !made.has(l.number))!.number;
  // What fprof refused to leave was nix-env's generation, and no switch
  // left it (dropping its package without asking).
  for (const k of refusals) assertEquals(k, nixEnvGen);
  if (!declareExtra) assertEquals(nixEnvGen, top);

  // Each record matches its link, and its parent is the generation that was
  // current when it was made: with no rollback, always the one before.
  const records = await readRecords(sb, profile);
  const numbers = (xs: Iterable<number | string>) => [...xs].map(Number).sort((a, b) => a - b);
  assertEquals(numbers(Object.keys(records)), numbers(made.keys()));
  for (const [n, i] of made) {
    const rec = records[String(n)];
    assertEquals(rec.storePath, byNumber.get(n), `record of generation ${n}`);
    assertEquals(rec.flake, `path:${flakes[i]}`, `generation ${n} comes from run ${i}`);
    assertEquals(rec.parent, n === 1 ? null : n - 1, `parent of generation ${n}`);
    assertEquals(rec.parentStorePath, rec.parent === null ? null : byNumber.get(rec.parent));
  }

  // The current generation is the last one made, and it is complete: the
  // packages of one request, plus nix-env's package if nix-env made it.
  assertEquals(await Deno.readLink(profile), `${profile.split("/").at(-1)}-${top}-link`);
  const list = JSON.parse((await fprofOk(sb, ["list", "--json", "--profile", profile])).stdout);
  const listed: string[] = list.packages.map((p: { name: string; version: string }) =>
    `${p.name}-${p.version}`
  ).sort();
  let expected: FixturePackage[];
  if (made.has(top)) {
    expected = requests[made.get(top)!];
  } else {
    // nix-env made it, from the manifest of the generation it read first.
    // That is the one before, unless it had to restart because a switch
    // came in while it was busy: Nix 2.8 then re-reads
    // `<profile>/manifest.nix` from its evaluation cache, keyed by that
    // unresolved path, and so installs on top of the generation it first
    // read, undoing the switches in between (between two nix-env runs too).
    const restarted = nixEnvResult.stderr.includes("changed while we were busy; restarting");
    const bases = restarted ? [...made.values()] : [made.get(top - 1)!];
    const base = bases.find((i) =>
      JSON.stringify(labels(withExtra(requests[i]))) === JSON.stringify(listed)
    );
    assertOk(base !== undefined, `generation ${top} (nix-env's): ${listed}`);
    expected = withExtra(requests[base]);
  }
  assertEquals(listed, labels(expected), `generation ${top}`);
  const q = await sb.runOk(["nix-env", "-p", profile, "-q"]);
  assertEquals(q.stdout.trim().split("\n").sort(), labels(expected));
  for (const p of expected) {
    const r = await sb.runOk([join(profile, "bin", p.bins![0])]);
    assertEquals(r.stdout, `${p.name} ${p.version}\n`);
  }

  // Nothing temporary is left behind.
  const profileDir = await Array.fromAsync(Deno.readDir(join(profile, "..")));
  assertEquals(profileDir.filter((e) => e.name.endsWith(".tmp")), []);
  const cache = join(sb.xdgCache, "fprof", "tmp");
  assertEquals(await Array.fromAsync(Deno.readDir(cache)), []);
}

/**
 * A process whose output can be awaited while it runs. Disposing of it
 * kills it if it still runs, so that a failed test leaves nothing behind.
 */
class Running implements AsyncDisposable {
  readonly status: Promise<Deno.CommandStatus>;
  readonly child: Deno.ChildProcess;
  stdout = "";
  stderr = "";
  exited = false;

  constructor(argv: string[], env: Record<string, string>, stdin: "piped" | "null" = "null") {
    this.child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      env,
      clearEnv: true,
      stdin,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const collect = async (s: ReadableStream<Uint8Array>, key: "stdout" | "stderr") => {
      for await (const text of s.pipeThrough(new TextDecoderStream())) this[key] += text;
    };
    const done = Promise.all([
      collect(this.child.stdout, "stdout"),
      collect(this.child.stderr, "stderr"),
    ]);
    this.status = this.child.status.then(async (s) => {
      await done;
      this.exited = true;
      return s;
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.exited) {
      try {
        this.child.kill("SIGKILL");
      } catch {
        // It exited meanwhile.
      }
    }
    await this.status;
  }

  /** Waits until `stream` contains `text`; fails if the process exits first or time runs out. */
  /** Waits until `stream` shows `text`, or a match of it when it is a pattern. */
  async waitFor(stream: "stdout" | "stderr", text: string | RegExp, ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms;
    const seen = () =>
      typeof text === "string" ? this[stream].includes(text) : text.test(this[stream]);
    while (!seen()) {
      if (this.exited || Date.now() > deadline) {
        throw new Error(
          `expected ${JSON.stringify(text)} on ${stream}; got:\n${this.stdout}${this.stderr}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

const LOCK_CASES = [
  { first: "nix-env", declareExtra: true },
  { first: "fprof", declareExtra: true },
  { first: "nix-env", declareExtra: false },
] as const;

for (const { first, declareExtra } of LOCK_CASES) {
  const flake = declareExtra ? "" : ", and the flake lacks nix-env's package";
  Deno.test(
    `fprof and nix-env -i wait while the profile lock is held (${first} queued first${flake})`,
    () => lockWaitScenario(first, declareExtra),
  );
}

/**
 * While fprof's lock is held, `nix-env -i` and `fprof switch` both wait, and
 * both finish once it is released. The one queued first gets the lock first
 * (as far as we have seen; the assertions follow whichever did), so the
 * variants cover both orders:
 * - nix-env first deletes the lock file when done (marking it stale), and
 *   fprof must retry on a fresh one; then fprof must judge nix-env's new
 *   generation, read under the lock: if the flake lacks nix-env's package,
 *   it refuses to drop it.
 * - fprof first changes the profile under nix-env, which must restart and
 *   install on top of fprof's generation.
 */
async function lockWaitScenario(
  first: "nix-env" | "fprof",
  declareExtra: boolean,
): Promise<void> {
  await using sb = await makeNixSandbox();
  const profile = sb.profile;
  const flake = join(sb.work, "profile");
  const hello: FixturePackage = { name: "hello", version: "2.12", bins: ["hello"] };
  const declared = declareExtra ? [hello, EXTRA] : [hello];
  await writeProfileFlake(flake, declared, { system: sb.system });
  const extraNix = await writeExtraNix(sb, flake);
  await sb.runOk(["nix-build", "--no-out-link", extraNix]);

  // fprof's own lock, held until our stdin closes.
  const holder = join(sb.work, "hold_lock.ts");
  await Deno.writeTextFile(
    holder,
    `import { withProfileLock } from ${JSON.stringify(PROFILE_TS)};
await withProfileLock(Deno.args[0], () => {}, async () => {
  console.log("locked");
  for await (const _ of Deno.stdin.readable) { /* until EOF */ }
});
`,
  );
  const env = { ...sb.env, NO_COLOR: "1" };
  // Every process started here is killed at the end if it still runs.
  await using procs = new AsyncDisposableStack();
  const lock = procs.use(
    new Running(
      [Deno.execPath(), "run", "-A", "--quiet", holder, profile],
      env,
      "piped",
    ),
  );
  await lock.waitFor("stdout", "locked");

  const startNixEnv = async () => {
    const r = procs.use(new Running(["nix-env", "-p", profile, "-i", "-f", extraNix], env));
    // Quoted '…' up to 2.2x, "…" since.
    await r.waitFor(
      "stderr",
      new RegExp(`waiting for lock on profile ['"]${escapeRegExp(profile)}['"]`),
    );
    return r;
  };
  const startFprof = async () => {
    const argv = ["switch", "--profile", profile, `path:${flake}`];
    const r = procs.use(new Running([Deno.execPath(), "run", "-A", "--quiet", MAIN, ...argv], env));
    await r.waitFor("stderr", `waiting for the lock on '${profile}'`);
    return r;
  };
  let nixEnv: Running, sw: Running;
  if (first === "nix-env") {
    nixEnv = await startNixEnv();
    sw = await startFprof();
  } else {
    sw = await startFprof();
    nixEnv = await startNixEnv();
  }
  // Still waiting a moment later, and nothing has changed.
  await new Promise((r) => setTimeout(r, 300));
  assertOk(!nixEnv.exited && !sw.exited, `both still wait:\n${nixEnv.stderr}\n${sw.stderr}`);
  assertEquals(await generationLinks(profile), []);

  await lock.child.stdin.close();
  assertEquals((await lock.status).code, 0, lock.stderr);
  const [n, s] = await Promise.all([nixEnv.status, sw.status]);
  assertEquals(n.code, 0, nixEnv.stderr);

  const links = await generationLinks(profile);
  let expected: FixturePackage[];
  const refused = /^error: refusing to switch: generation 1 was not made by fprof\b.*\bextra 1\.0$/m
    .test(sw.stderr);
  if (refused) {
    // nix-env went first, and fprof will not drop its package unasked.
    assertOk(!declareExtra, sw.stderr);
    assertEquals(s.code, 1, sw.stderr);
    assertEquals(sw.stderr.split("\n").filter((l) => l.startsWith("error:")).length, 1);
    assertEquals(links.map((l) => l.number), [1]);
    expected = [EXTRA];
  } else {
    // One generation each, in the order the lock was granted.
    assertEquals(s.code, 0, sw.stderr);
    assertEquals(links.map((l) => l.number), [1, 2]);
    const fprofGen = Number(/switched '.*' to generation (\d+)/.exec(sw.stderr)?.[1]);
    assertOk(fprofGen === 1 || fprofGen === 2, sw.stderr);
    if (fprofGen === 1) {
      // nix-env sees the profile changed, and installs on top of it.
      assertStringIncludes(nixEnv.stderr, "changed while we were busy; restarting");
      expected = withExtra(declared);
    } else {
      assertOk(declareExtra, `fprof dropped nix-env's package: ${sw.stderr}`);
      expected = declared;
    }
  }
  const q = await sb.runOk(["nix-env", "-p", profile, "-q"]);
  assertEquals(q.stdout.trim().split("\n").sort(), labels(expected));
  for (const p of expected) {
    const r = await sb.runOk([join(profile, "bin", p.bins![0])]);
    assertEquals(r.stdout, `${p.name} ${p.version}\n`);
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
