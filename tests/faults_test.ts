/**
 * The fault suite, sized to run within `deno task test`: fprof killed with
 * SIGKILL at every named crash point of `switch` and `pin` and at random
 * moments, concurrent switches with a `nix-env --set` among them, and
 * `nix-store --gc` between the steps of a long scenario. `deno task soak`
 * runs the same scenarios bigger (tests/soak.ts). Malformed input is
 * covered by tests/bad_input_test.ts and tests/bad_input_more_test.ts, the
 * daemon case by tests/multiuser_test.ts.
 *
 * @module
 */

import { daemonUnavailable, makeNixSandbox } from "./helpers/sandbox.ts";
import { totals, totalsLine } from "./helpers/faults.ts";
import {
  concurrentSwitches,
  crashEveryPinPoint,
  crashEverySwitchPoint,
  gcBetweenSteps,
  killSwitchAtRandom,
  switchesDuringGc,
} from "./helpers/fault_scenarios.ts";
import { assertEquals } from "./helpers/testing.ts";

Deno.test("a switch killed at any crash point leaves the old or the new generation, and the next switch tidies up", async () => {
  await using sb = await makeNixSandbox();
  await crashEverySwitchPoint(sb, sb.profile);
});

Deno.test("a switch killed at random moments never breaks the profile", async () => {
  await using sb = await makeNixSandbox();
  await killSwitchAtRandom(sb, sb.profile, 4);
});

Deno.test("a pin killed at any crash point leaves registry.json and nix.conf old or new", async () => {
  await using sb = await makeNixSandbox();
  await crashEveryPinPoint(sb, sb.profile);
});

Deno.test("5 concurrent switches and a nix-env --set leave whole, recorded generations", async () => {
  await using sb = await makeNixSandbox();
  await concurrentSwitches(sb, sb.profile, 5);
});

Deno.test("nix-store --gc between the steps of a long scenario collects nothing in use", async () => {
  await using sb = await makeNixSandbox();
  await gcBetweenSteps(sb, sb.profile, 2);
});

Deno.test("switches succeed while nix-store --gc runs in a loop, and never refuse falsely for bin/nix", async () => {
  await using sb = await makeNixSandbox();
  await switchesDuringGc(sb, sb.profile, 6);
});

Deno.test({
  name: "a daemon user's switches succeed while nix-store --gc runs in a loop",
  ignore: daemonUnavailable() !== undefined,
  fn: async () => {
    await using sb = await makeNixSandbox({ daemon: true });
    await switchesDuringGc(sb, sb.profile, 4);
  },
});

Deno.test("fault suite totals: nothing lost", () => {
  console.error(totalsLine());
  assertEquals(totals.lost, 0);
});
