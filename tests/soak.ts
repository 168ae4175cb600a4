/**
 * `deno task soak`: the fault suite's scenarios at full size, outside
 * `deno task test`: 20 concurrent switches, 30 random kills, every crash
 * point, and 6 rounds of GC between steps. Prints the totals and exits
 * non-zero if anything was lost or any scenario failed.
 *
 * @module
 */

import { makeNixSandbox } from "./helpers/sandbox.ts";
import { totals, totalsLine } from "./helpers/faults.ts";
import {
  concurrentSwitches,
  crashEveryPinPoint,
  crashEverySwitchPoint,
  gcBetweenSteps,
  killSwitchAtRandom,
} from "./helpers/fault_scenarios.ts";

const scenarios: [string, (sb: Awaited<ReturnType<typeof makeNixSandbox>>) => Promise<void>][] = [
  ["20 concurrent switches and a nix-env --set", (sb) => concurrentSwitches(sb, sb.profile, 20)],
  ["every crash point of switch", (sb) => crashEverySwitchPoint(sb, sb.profile)],
  ["every crash point of pin", (sb) => crashEveryPinPoint(sb, sb.profile)],
  ["30 random kills of switch", (sb) => killSwitchAtRandom(sb, sb.profile, 30, Date.now() % 1000)],
  ["GC between every step, 6 rounds", (sb) => gcBetweenSteps(sb, sb.profile, 6)],
];

let failed = 0;
for (const [name, run] of scenarios) {
  const start = performance.now();
  try {
    await using sb = await makeNixSandbox();
    await run(sb);
    console.error(`soak: ok   ${name} (${Math.round(performance.now() - start)} ms)`);
  } catch (e) {
    failed++;
    console.error(`soak: FAIL ${name}: ${(e as Error).stack ?? e}`);
  }
}
console.error(totalsLine());
if (failed > 0 || totals.lost > 0) Deno.exit(1);
