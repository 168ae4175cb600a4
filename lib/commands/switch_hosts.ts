/**
 * `fprof switch --target-host HOST…`: build here, copy the new generation's
 * closure to each host with Nix's own `nix copy --to ssh-ng://HOST`, and let
 * the host's Nix make it the next generation (`nix-env --set`). Several hosts
 * switch at once, each with one result line; one failing leaves the others
 * switched.
 *
 * @module
 */

import type { Context } from "../context.ts";
import { tmpRoot } from "../context.ts";
import { FprofError, UsageError } from "../errors.ts";
import type { ChosenFlake } from "../nix/flake_ref.ts";
import { type Installable, machineName } from "../nix/installable.ts";
import { overrideInputArgs } from "../flake/env_record.ts";
import { Nix } from "../nix/nix.ts";
import { RunRoots } from "../nix/gc_roots.ts";
import { removeStaleTemps, tempPlaces } from "../profile/leftovers.ts";
import { expandHosts } from "../remote/host_names.ts";
import { remotePlace } from "../remote/place.ts";
import { Logger, writeOut } from "../log/log.ts";
import {
  buildAndGather,
  type BuiltEnv,
  DEFAULT_JOBS,
  type EnvFacts,
  type Machine,
  sourceOf,
  switchAt,
  type SwitchOptions,
  type SwitchResult,
} from "./switch.ts";

/** Switches the profile of every host `--target-host` names. */
export async function switchHosts(
  chosen: ChosenFlake,
  installable: Installable,
  opts: SwitchOptions,
  ctx: Context,
): Promise<SwitchResult> {
  const hosts = expandHosts(opts.targetHost ?? [], ctx.config.hosts);
  if (opts.json && opts.dryRun && hosts.length > 1) {
    throw new UsageError("--dry-run --json prints the plan of one host; name one --target-host", {
      hint: "without --dry-run, --json reports each host's result",
    });
  }
  if (opts.pin) {
    throw new UsageError("--pin pins this machine's registry and NIX_PATH, not a target's", {
      hint: "run 'fprof pin' on the target itself",
    });
  }
  const flakeArgs = overrideInputArgs(opts.overrideInput);
  await removeStaleTemps(tempPlaces({ own: [tmpRoot(ctx)], env: ctx.env }));
  await using roots = await RunRoots.open(ctx.nix, tmpRoot(ctx));
  const signKeys = await signingKeys(opts, ctx);
  const source = await sourceOf(opts, ctx, roots);
  // One build per distinct attribute and system, however many hosts share it.
  const builds = new Map<string, Promise<{ built: BuiltEnv; env: EnvFacts }>>();
  const buildFor = (machine: Machine) => {
    const key = `${machine.system}#${installableAttr(installable) ?? machine.host ?? ""}`;
    let build = builds.get(key);
    if (!build) {
      build = buildAndGather(
        installable,
        flakeArgs,
        roots,
        { from: chosen.from, machine, source },
        ctx,
      );
      builds.set(key, build);
    }
    return build;
  };
  // With --target-host and no --dry-run, --json is the report of every host.
  const report = opts.json === true && !opts.dryRun;
  const hostOpts = { ...opts, json: report ? false : opts.json, noPrompt: hosts.length > 1 };
  const one = async (host: string, hctx: Context): Promise<SwitchResult> => {
    const place = await remotePlace(hctx, host, opts.profile);
    place.remote.requireStoreDir(ctx.nix.storeDir);
    const facts = place.remote.facts;
    const { built, env } = await buildFor({ system: facts.system, host: machineName(facts.host) });
    const result = await switchAt({
      opts: hostOpts,
      ctx: hctx,
      place,
      built,
      env,
      roots,
      source,
      signKeys,
    });
    if (result.action === "switched" && opts.profile === undefined) {
      await place.ensureProfileLink();
    }
    return result;
  };
  if (hosts.length === 1 && !report && opts.timeout === undefined) return await one(hosts[0], ctx);
  return await switchInParallel(hosts, hostOpts, { ctx, report }, one);
}

/** The attribute the installable names, if any. */
function installableAttr(installable: Installable): string | undefined {
  return installable.kind === "flake" ? installable.attr : "";
}

/** One host's result in a fleet switch's `--json` report. */
export interface HostResultJson {
  host: string;
  action: SwitchResult["action"] | "failed";
  generation: number | null;
  /** Why it failed, for `failed`. */
  error?: string;
  hint?: string;
  /** Wall time of this host's switch. */
  seconds: number;
}

/** The `--json` report of a fleet switch: one entry per host, then the counts. */
export interface FleetReportJson {
  hosts: HostResultJson[];
  summary: { switched: number; unchanged: number; failed: number; seconds: number };
}

/**
 * Runs `one` for every host, at most `--jobs` at once, each with its own
 * prefixed log and, with `--timeout`, its own deadline: a host past it has
 * its processes stopped and fails alone. Then it prints one line per host
 * and a summary (or, with `report`, the JSON of {@link FleetReportJson}).
 * Dry runs go one host at a time, so that their plans do not interleave on
 * stdout.
 */
async function switchInParallel(
  hosts: readonly string[],
  opts: SwitchOptions,
  how: { ctx: Context; report: boolean },
  one: (host: string, hctx: Context) => Promise<SwitchResult>,
): Promise<SwitchResult> {
  const { ctx } = how;
  const started = performance.now();
  const jobs = opts.dryRun ? 1 : opts.jobs ?? DEFAULT_JOBS;
  const prefixed = hosts.length > 1;
  const results = await pool(hosts, jobs, async (host) => {
    const t0 = performance.now();
    const settled = await withDeadline(
      opts.timeout,
      (signal) => one(host, hostContext(ctx, host, signal, prefixed)),
    ).then(
      (value) => ({ status: "fulfilled" as const, value }),
      (reason: unknown) => ({ status: "rejected" as const, reason }),
    );
    return { host, settled, seconds: (performance.now() - t0) / 1000 };
  });
  const entries = results.map(({ host, settled, seconds }) => hostEntry(host, settled, seconds));
  const failed = entries.filter((e) => e.action === "failed");
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  if (how.report) {
    const summary = {
      switched: entries.filter((e) => e.action === "switched").length,
      unchanged: entries.filter((e) => e.action === "none").length,
      failed: failed.length,
      seconds,
    };
    await writeOut(
      JSON.stringify({ hosts: entries, summary } satisfies FleetReportJson, null, 2) + "\n",
    );
  } else {
    for (const e of entries) logEntry(ctx, e, results.find((r) => r.host === e.host)!.settled);
    ctx.log.step(summaryLine(entries, seconds));
  }
  if (failed.length > 0) {
    const done = hosts.length - failed.length;
    throw new FprofError(
      `${failed.length} of ${hosts.length} hosts failed: ${failed.map((e) => e.host).join(", ")}`,
      {
        hint: done > 0
          ? `the other ${done} finished; run the command again for the ones that failed`
          : undefined,
      },
    );
  }
  return { action: opts.dryRun ? "dry-run" : "switched", generation: null };
}

/** One host's entry of the report. Pure. */
function hostEntry(
  host: string,
  settled: PromiseSettledResult<SwitchResult>,
  seconds: number,
): HostResultJson {
  const time = Math.round(seconds * 10) / 10;
  if (settled.status === "fulfilled") {
    return { host, ...settled.value, seconds: time };
  }
  const e = settled.reason as Error;
  const entry: HostResultJson = {
    host,
    action: "failed",
    generation: null,
    error: e.message,
    seconds: time,
  };
  if (e instanceof FprofError && e.hint) entry.hint = e.hint;
  return entry;
}

/** Prints one host's line, with its hint when it failed. */
function logEntry(
  ctx: Context,
  e: HostResultJson,
  settled: PromiseSettledResult<SwitchResult>,
): void {
  if (settled.status === "fulfilled") {
    ctx.log.step(`${e.host}: ${describeResult(settled.value)}`);
    return;
  }
  ctx.log.error(`${e.host}: ${e.error}`);
  if (e.hint) ctx.log.hint(`${e.host}: ${e.hint}`);
  const reason = settled.reason as Error;
  if (!(reason instanceof FprofError)) ctx.log.debug(reason.stack ?? String(reason));
}

/**
 * The summary line after the hosts' lines. Pure.
 *
 * @example
 * ```ts
 * import { summaryLine } from "./switch_hosts.ts";
 * summaryLine([{ host: "a", action: "switched", generation: 2, seconds: 1 }], 1.5);
 * // "1 host: 1 switched, 0 unchanged, 0 failed, in 1.5 s"
 * ```
 */
export function summaryLine(entries: readonly HostResultJson[], seconds: number): string {
  const count = (a: HostResultJson["action"]) => entries.filter((e) => e.action === a).length;
  const n = entries.length;
  return `${n} host${n === 1 ? "" : "s"}: ${count("switched")} switched, ` +
    `${count("none")} unchanged, ${count("failed")} failed, in ${seconds} s`;
}

/**
 * Runs `task` on each item, at most `limit` at once; the results keep the
 * items' order.
 *
 * @example
 * ```ts
 * import { pool } from "./switch_hosts.ts";
 * await pool([3, 1, 2], 2, (n) => Promise.resolve(n * 2)); // [6, 2, 4]
 * ```
 */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await task(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/**
 * Runs `task` with a signal that aborts after `seconds` (none without); past
 * the deadline it fails at once with one line, and the
 * processes started under the signal are stopped.
 */
async function withDeadline<R>(
  seconds: number | undefined,
  task: (signal?: AbortSignal) => Promise<R>,
): Promise<R> {
  if (seconds === undefined) return await task();
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(
        new FprofError(`did not finish within ${seconds} s (--timeout)`, {
          hint: "the host keeps its old generation or has the new one; run the command " +
            "again, or give it more time with --timeout",
        }),
      );
    }, seconds * 1000);
  });
  const work = task(controller.signal);
  // The work goes on failing once its processes are stopped: that is expected.
  work.catch(() => {});
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** The one result line of a host. Pure. */
export function describeResult(r: SwitchResult): string {
  switch (r.action) {
    case "switched":
      return `switched to generation ${r.generation}`;
    case "none":
      return `no changes (generation ${r.generation})`;
    case "dry-run":
      return "dry run, nothing changed";
  }
}

/**
 * A context for one host of several: its messages name the host, and its
 * Nix processes stop when `signal` aborts.
 */
function hostContext(
  ctx: Context,
  host: string,
  signal: AbortSignal | undefined,
  prefixed: boolean,
): Context {
  const log = prefixed
    ? new Logger({ verbose: ctx.log.verbose, terminal: false, prefix: `${host}: ` })
    : ctx.log;
  return { ...ctx, log, nix: new Nix(log, { signal }) };
}

/**
 * The secret keys that sign what is copied: `--sign-key`, else the
 * `secret-key-files` of the user's Nix configuration, else none (a target
 * that trusts the user needs no signature).
 */
async function signingKeys(opts: SwitchOptions, ctx: Context): Promise<string[]> {
  if (opts.signKey !== undefined) return [opts.signKey];
  const value = (await ctx.nix.settings())["secret-key-files"]?.value;
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return typeof value === "string" ? value.split(/\s+/).filter((v) => v !== "") : [];
}
