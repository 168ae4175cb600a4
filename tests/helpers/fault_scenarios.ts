/**
 * The fault suite's scenarios, sized by their caller: `tests/faults_test.ts`
 * runs them small within `deno task test`, `tests/soak.ts` runs them big.
 * Each counts its scenarios and faults in {@link totals}, and anything found
 * broken as lost.
 *
 * @module
 */

import { join } from "node:path";
import { assertEquals, assertOk } from "./testing.ts";
import { CRASH_POINTS } from "../../lib/crash.ts";
import { pinStatePath } from "../../lib/nix/pins.ts";
import { type FixturePackage, writePackageSet, writeProfileFlake } from "./fixtures.ts";
import { fprof, fprofOk } from "./fprof.ts";
import { writeLockedProfileFlake } from "./scenario.ts";
import type { NixSandbox } from "./sandbox.ts";
import {
  checkProfile,
  currentLink,
  generationLinks,
  leftovers,
  readRecords,
  spawnFprof,
  totals,
  waitForQuiet,
} from "./faults.ts";

/** The packages of request `k`: the same names, another version of `tool`. */
export function request(k: number): FixturePackage[] {
  return [
    { name: "hello", version: "2.12", bins: ["hello"] },
    { name: "tool", version: `1.${k}`, bins: ["tool"] },
  ];
}

/** Writes the flake of request `k` and returns its reference. */
export async function requestFlake(sb: NixSandbox, k: number): Promise<string> {
  const dir = join(sb.work, `req-${k}`);
  await writeProfileFlake(dir, request(k), { system: sb.system });
  return `path:${dir}`;
}

/** `name-version` of each package of the current generation, sorted. */
export async function listed(sb: NixSandbox, profile: string): Promise<string[]> {
  const r = await fprofOk(sb, ["list", "--json", "--profile", profile]);
  return JSON.parse(r.stdout).packages.map((p: { name: string; version: string }) =>
    `${p.name}-${p.version}`
  ).sort();
}

function labels(pkgs: FixturePackage[]): string[] {
  return pkgs.map((p) => `${p.name}-${p.version}`).sort();
}

function lostIf<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    totals.lost++;
    throw e;
  }
}

/**
 * After a fault: the profile is whole and holds `oldK`'s or `newK`'s
 * packages; the next switch to `newK` succeeds, records every generation
 * fprof made, and leaves no debris.
 */
async function recoverTo(
  sb: NixSandbox,
  profile: string,
  oldK: number,
  newK: number,
  flake: string,
  extra: string[] = [],
): Promise<void> {
  await waitForQuiet(sb);
  await checkProfile(sb, profile);
  const now = await listed(sb, profile);
  lostIf(() =>
    assertOk(
      JSON.stringify(now) === JSON.stringify(labels(request(oldK))) ||
        JSON.stringify(now) === JSON.stringify(labels(request(newK))),
      `after the fault the profile holds neither request ${oldK} nor ${newK}: ${now}`,
    )
  );
  await fprofOk(sb, ["switch", "--yes", "--profile", profile, ...extra, flake]);
  await checkProfile(sb, profile);
  const after = await listed(sb, profile);
  const records = await readRecords(sb, profile);
  const links = await generationLinks(profile);
  const debris = await leftovers(sb, profile);
  lostIf(() => {
    assertEquals(after, labels(request(newK)));
    for (const l of links) {
      assertOk(records[String(l.number)], `generation ${l.number} has no record`);
    }
    assertEquals(debris, [], "the next run left debris");
  });
}

/** Kills `fprof switch` at every crash point it passes, with each manifest kind. */
export async function crashEverySwitchPoint(sb: NixSandbox, profile: string): Promise<void> {
  let k = 0;
  await fprofOk(sb, ["switch", "--profile", profile, await requestFlake(sb, k)]);
  for (const point of CRASH_POINTS.filter((p) => !p.startsWith("pin:"))) {
    for (const manifest of ["nix", "json"]) {
      const flake = await requestFlake(sb, ++k);
      const args = ["switch", "--yes", "--profile", profile, `--manifest=${manifest}`, flake];
      const r = await fprof(sb, args, { env: { FPROF_TEST_CRASH: point } });
      totals.scenarios++;
      totals.faults++;
      assertEquals(r.code, 137, `fprof did not reach ${point}:\n${r.stderr}`);
      await recoverTo(sb, profile, k - 1, k, flake, [`--manifest=${manifest}`]);
    }
  }
}

/** Kills `fprof switch` after a random delay, `times` times. */
export async function killSwitchAtRandom(
  sb: NixSandbox,
  profile: string,
  times: number,
  seed = 7,
): Promise<void> {
  let k = 100;
  let x = seed;
  const random = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  await fprofOk(sb, ["switch", "--profile", profile, await requestFlake(sb, k)]);
  for (let i = 0; i < times; i++) {
    const flake = await requestFlake(sb, ++k);
    const child = spawnFprof(sb, ["switch", "--yes", "--profile", profile, flake]);
    const delay = 50 + Math.floor(random() * 900);
    await new Promise((r) => setTimeout(r, delay));
    try {
      child.kill("SIGKILL");
    } catch {
      // It finished first.
    }
    await Promise.all([child.output()]);
    totals.scenarios++;
    totals.faults++;
    await recoverTo(sb, profile, k - 1, k, flake);
  }
}

/**
 * `n` switches at once on one profile, each to its own flake, with a
 * `nix-env --set` to another build of the same names in the middle.
 */
export async function concurrentSwitches(
  sb: NixSandbox,
  profile: string,
  n: number,
): Promise<void> {
  const base = 200;
  const flakes = await Promise.all(
    Array.from({ length: n + 1 }, (_, i) => requestFlake(sb, base + i)),
  );
  // The nix-env side's environment, built beforehand.
  const built = await sb.runOk(["nix", "build", "--json", "--no-link", `${flakes[n]}#profile`]);
  const outside = JSON.parse(built.stdout)[0].outputs.out as string;
  await fprofOk(sb, ["switch", "--profile", profile, flakes[0]]);
  const children = flakes.slice(0, n).map((f) =>
    spawnFprof(sb, ["switch", "--yes", "--profile", profile, f])
  );
  await new Promise((r) => setTimeout(r, 300));
  await sb.runOk(["nix-env", "-p", profile, "--set", outside]);
  const results = await Promise.all(children.map((c) => c.output()));
  totals.scenarios++;
  for (const [i, r] of results.entries()) {
    lostIf(() =>
      assertEquals(r.code, 0, `switch ${i} failed:\n${new TextDecoder().decode(r.stderr)}`)
    );
  }
  await checkProfile(sb, profile);
  const now = await listed(sb, profile);
  const allowed = Array.from(
    { length: n + 1 },
    (_, i) => JSON.stringify(labels(request(base + i))),
  );
  lostIf(() => assertOk(allowed.includes(JSON.stringify(now)), `the profile holds ${now}`));
  // Every generation but nix-env's has a record; none is left pending.
  const records = await readRecords(sb, profile);
  const links = await generationLinks(profile);
  const unrecorded = links.filter((l) => !records[String(l.number)]);
  lostIf(() => {
    assertOk(
      unrecorded.every((l) => l.storePath === outside),
      `generations without a record: ${unrecorded.map((l) => l.number)}`,
    );
  });
  assertEquals(await leftovers(sb, profile), []);
}

/** A package set standing in for nixpkgs, and a profile flake locked to it. */
export async function pinnedFlake(sb: NixSandbox, k: number): Promise<string> {
  const pkgs = join(sb.work, `nixpkgs-${k}`);
  await writePackageSet(pkgs, [{ name: "hello", version: `2.${k}`, bins: ["hello"] }], {
    system: sb.system,
  });
  return await writeLockedProfileFlake(sb, join(sb.work, `pinned-${k}`), pkgs);
}

/**
 * Kills `fprof pin` at every crash point it passes: `registry.json` and
 * `nix.conf` are always the old or the new text, never cut short, and the
 * next pin completes and leaves no debris.
 */
export async function crashEveryPinPoint(sb: NixSandbox, profile: string): Promise<void> {
  const nixDir = join(sb.xdgConfig, "nix");
  await Deno.mkdir(nixDir, { recursive: true });
  const registry = join(nixDir, "registry.json");
  const conf = join(nixDir, "nix.conf");
  await Deno.writeTextFile(conf, "# the user's own settings\nwarn-dirty = false\n");
  await sb.runOk(["nix-env", "-q"]); // makes ~/.nix-defexpr/channels, as a first nix-env run does
  let k = 0;
  await fprofOk(sb, ["pin", await pinnedFlake(sb, k)]);
  const points = [
    ...CRASH_POINTS.filter((p) => p.startsWith("pin:")),
    "store:cache-written",
    "store:copied",
  ];
  for (const point of points) {
    const flake = await pinnedFlake(sb, ++k);
    // From Nix 2.13 nix.conf says `nixpkgs=flake:nixpkgs`, which a re-pin
    // leaves as it is: only a first pin writes both files.
    if (point === "pin:between-files") await fprofOk(sb, ["pin", "--unpin"]);
    // A missing file (after --unpin) is an old state too.
    const read = () =>
      Promise.all([registry, conf].map((f) => Deno.readTextFile(f).catch(() => null)));
    const before = await read();
    const r = await fprof(sb, ["pin", flake], { env: { FPROF_TEST_CRASH: point } });
    totals.scenarios++;
    totals.faults++;
    assertEquals(r.code, 137, `fprof pin did not reach ${point}:\n${r.stderr}`);
    await waitForQuiet(sb);
    const crashed = await read();
    if (crashed[0] !== null) JSON.parse(crashed[0]); // never cut short
    if (crashed[0] !== before[0]) {
      // The new entry is in place: --status reports it, as a pin not finished.
      const st = JSON.parse((await fprofOk(sb, ["pin", "--status", "--json"])).stdout);
      lostIf(() =>
        assertOk(
          st.pending && st.pins.some((p: { inRegistry: boolean }) => p.inRegistry),
          `after a crash at ${point}, --status does not report the pin in place:\n${
            JSON.stringify(st)
          }`,
        )
      );
    }
    await fprofOk(sb, ["pin", flake]);
    const after = await read();
    lostIf(() => {
      for (const i of [0, 1]) {
        assertOk(
          crashed[i] === before[i] || crashed[i] === after[i],
          `after a crash at ${point}, ${
            i ? "nix.conf" : "registry.json"
          } is neither old nor new:\n${crashed[i]}`,
        );
      }
      assertOk(after[0] !== before[0], "the pin changed nothing");
    });
    const state = JSON.parse(
      await Deno.readTextFile(pinStatePath("user", { get: (v) => sb.env[v] })),
    );
    for (const p of state.pins) await sb.runOk(["nix-store", "--check-validity", p.storePath]);
    assertEquals(await leftovers(sb, profile), []);
  }
}

/**
 * A long scenario with `nix-store --gc` after every step: nothing a
 * generation or a pin needs is ever collected.
 */
export async function gcBetweenSteps(
  sb: NixSandbox,
  profile: string,
  rounds: number,
): Promise<void> {
  const statePath = pinStatePath("user", { get: (v) => sb.env[v] });
  const gcAndCheck = async () => {
    await sb.runOk(["nix-store", "--gc"]);
    totals.scenarios++;
    await checkProfile(sb, profile);
    for (const l of await generationLinks(profile)) {
      await fprofOk(sb, ["list", "--profile", profile, "--generation", String(l.number)]);
    }
    const state = await Deno.readTextFile(statePath).catch(() => null);
    for (const p of state ? JSON.parse(state).pins : []) {
      const r = await sb.run(["nix-store", "--check-validity", p.storePath]);
      lostIf(() => assertEquals(r.code, 0, `the pinned source ${p.storePath} was collected`));
    }
  };
  for (let i = 0; i < rounds; i++) {
    const k = 300 + i;
    await fprofOk(sb, ["switch", "--profile", profile, await requestFlake(sb, k)]);
    await gcAndCheck();
    await fprofOk(sb, [
      "switch",
      "--profile",
      profile,
      "--manifest=json",
      await requestFlake(sb, k + 50),
    ]);
    await gcAndCheck();
    await fprofOk(sb, ["rollback", "--profile", profile]);
    await gcAndCheck();
    await fprofOk(sb, ["pin", await pinnedFlake(sb, 100 + i)]);
    await gcAndCheck();
    const cur = await currentLink(profile);
    lostIf(() => assertOk(cur, "no current generation"));
  }
}

/**
 * Runs `nix-store --gc` over and over, at most `limit` times, until the
 * returned `stop` is called; `stop` waits for the collection under way, so
 * that no collector outlives the test. Returns how many collections ran.
 */
export function gcLoop(sb: NixSandbox, limit = 500): { stop: () => Promise<number> } {
  let stopping = false;
  let runs = 0;
  const loop = (async () => {
    while (!stopping && runs < limit) {
      await sb.run(["nix-store", "--gc"]);
      runs++;
    }
  })();
  return {
    stop: async () => {
      stopping = true;
      await loop;
      return runs;
    },
  };
}

/**
 * `switches` switches, each to a newly built request and some with
 * `--manifest=json` or by store path, while `nix-store --gc` runs in a loop:
 * every switch succeeds, and none refuses for a `bin/nix` that the new
 * generation does have. Every request provides `bin/nix`.
 */
export async function switchesDuringGc(
  sb: NixSandbox,
  profile: string,
  switches: number,
): Promise<number> {
  const withNix = (k: number): FixturePackage[] => [
    ...request(k),
    { name: "nix", version: "2.0", bins: ["nix"] },
  ];
  const flakeOf = async (k: number) => {
    const dir = join(sb.work, `gc-req-${k}`);
    await writeProfileFlake(dir, withNix(k), { system: sb.system });
    return `path:${dir}`;
  };
  await fprofOk(sb, ["switch", "--profile", profile, await flakeOf(400)]);
  const gc = gcLoop(sb);
  const failures: string[] = [];
  try {
    for (let i = 1; i <= switches; i++) {
      const k = 400 + i;
      const manifest = i % 3 === 0 ? ["--manifest=json"] : [];
      const r = await fprof(sb, ["switch", "--profile", profile, ...manifest, await flakeOf(k)]);
      totals.scenarios++;
      totals.faults++;
      if (r.code !== 0) failures.push(`switch ${i} (exit ${r.code}): ${r.stderr.trim()}`);
    }
  } finally {
    const runs = await gc.stop();
    assertOk(runs > 0, "the collector never ran");
  }
  lostIf(() => assertEquals(failures, [], "switches failed during garbage collection"));
  await checkProfile(sb, profile);
  lostIf(() => assertEquals(failures.length, 0));
  return switches;
}
