/**
 * Named points where the fault suite makes fprof die, to prove that a crash at
 * any of them leaves the profile, the records and the pinned files whole.
 * `FPROF_TEST_CRASH=<point>` makes fprof send itself SIGKILL on reaching that
 * point, as an OOM kill or a closed terminal would: no `finally` block, no
 * clean-up. Unset (always, outside the tests), a point costs one lookup.
 *
 * @module
 */

/** Every point, in the order a switch or a pin reaches them. */
export const CRASH_POINTS = [
  "switch:after-build",
  "switch:locked",
  "store:cache-written",
  "store:copied",
  "switch:before-set",
  "switch:after-set",
  "records:temp-written",
  "switch:after-records",
  "pin:temps-written",
  "pin:channels-set",
  "pin:between-files",
  "pin:files-written",
  "pin:state-temp-written",
] as const;

/** A point where fprof may be told to crash. */
export type CrashPoint = typeof CRASH_POINTS[number];

/**
 * Kills this process with SIGKILL when `FPROF_TEST_CRASH` names `point`.
 *
 * @example
 * ```ts
 * import { crashPoint } from "./crash.ts";
 * crashPoint("switch:before-set"); // returns: FPROF_TEST_CRASH is not set
 * ```
 */
export function crashPoint(point: CrashPoint): void {
  if (Deno.env.get("FPROF_TEST_CRASH") === point) Deno.kill(Deno.pid, "SIGKILL");
}
