/**
 * Named points where the fault suite makes fprof die, to prove that a crash at
 * any of them leaves the profile, the records and the pinned files whole.
 * `FPROF_TEST_CRASH=<point>` makes fprof send itself SIGKILL on reaching that
 * point, as an OOM kill or a closed terminal would: no `finally` block, no
 * clean-up. Unset (always, outside the tests), a point costs one lookup.
 * `FPROF_TEST_FULL_DISK=<dir>` makes the writes under a directory fail as on
 * a full disk (see {@link diskFullPoint}).
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
  if (Deno.env.get("FPROF_TEST_FULL_FROM") === point) diskFilled = true;
}

let diskFilled = false;

/**
 * Throws the error a full disk gives when `FPROF_TEST_FULL_DISK` names a
 * directory that `path` is in, from the start or, with
 * `FPROF_TEST_FULL_FROM=<point>`, once that point is reached. It is called
 * after a new file is created and before its bytes are written, where a real
 * full disk stops a write: the file is there, empty.
 *
 * @example
 * ```ts
 * import { diskFullPoint } from "./crash.ts";
 * diskFullPoint("/tmp/x"); // returns: FPROF_TEST_FULL_DISK is not set
 * ```
 */
export function diskFullPoint(path: string): void {
  const dir = Deno.env.get("FPROF_TEST_FULL_DISK");
  if (dir === undefined || !path.startsWith(dir.replace(/\/*$/, "/"))) return;
  if (Deno.env.get("FPROF_TEST_FULL_FROM") !== undefined && !diskFilled) return;
  throw new Error(`No space left on device (os error 28): '${path}'`);
}
