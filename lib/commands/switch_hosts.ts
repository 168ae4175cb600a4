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
import { overrideInputArgs } from "../nix/env_record.ts";
import { Nix } from "../nix/nix.ts";
import { RunRoots } from "../nix/gc_roots.ts";
import { removeStaleTemps, tempPlaces } from "../profile/leftovers.ts";
import { expandHosts } from "../remote/host_spec.ts";
import { remotePlace } from "../remote/place.ts";
import { Logger } from "../term/log.ts";
import {
  buildAndGather,
  type BuiltEnv,
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
  if (opts.json && hosts.length > 1) {
    throw new UsageError("--json prints the plan of one host; name one --target-host");
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
  const one = async (host: string, hctx: Context): Promise<SwitchResult> => {
    const place = await remotePlace(hctx, host, opts.profile);
    place.remote.requireStoreDir(ctx.nix.storeDir);
    const facts = place.remote.facts;
    const { built, env } = await buildFor({ system: facts.system, host: machineName(facts.host) });
    const result = await switchAt({
      opts,
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
  if (hosts.length === 1) return await one(hosts[0], ctx);
  return await switchInParallel(hosts, { ...opts, noPrompt: true }, ctx, one);
}

/** The attribute the installable names, if any. */
function installableAttr(installable: Installable): string | undefined {
  return installable.kind === "flake" ? installable.attr : "";
}

/**
 * Runs `one` for every host at once, each with its own prefixed log, then
 * prints one line per host. Dry runs go one host at a time, so that their
 * plans do not interleave on stdout.
 */
async function switchInParallel(
  hosts: readonly string[],
  opts: SwitchOptions,
  ctx: Context,
  one: (host: string, hctx: Context) => Promise<SwitchResult>,
): Promise<SwitchResult> {
  const forHost = (host: string) => one(host, hostContext(ctx, host));
  let settled: PromiseSettledResult<SwitchResult>[];
  if (opts.dryRun) {
    settled = [];
    for (const host of hosts) settled.push(...await Promise.allSettled([forHost(host)]));
  } else {
    settled = await Promise.allSettled(hosts.map(forHost));
  }
  const failed: string[] = [];
  settled.forEach((r, i) => {
    if (r.status === "fulfilled") {
      ctx.log.step(`${hosts[i]}: ${describeResult(r.value)}`);
      return;
    }
    failed.push(hosts[i]);
    const e = r.reason as Error;
    ctx.log.error(`${hosts[i]}: ${e.message}`);
    if (e instanceof FprofError && e.hint) ctx.log.hint(`${hosts[i]}: ${e.hint}`);
    if (!(e instanceof FprofError)) ctx.log.debug(e.stack ?? String(e));
  });
  if (failed.length > 0) {
    const done = hosts.length - failed.length;
    throw new FprofError(`${failed.length} of ${hosts.length} hosts failed: ${failed.join(", ")}`, {
      hint: done > 0
        ? `the other ${done} finished; run the command again for the ones that failed`
        : undefined,
    });
  }
  return { action: opts.dryRun ? "dry-run" : "switched", generation: null };
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

/** A context whose messages name the host, for hosts that work at the same time. */
function hostContext(ctx: Context, host: string): Context {
  const log = new Logger({ verbose: ctx.log.verbose, terminal: false, prefix: `${host}: ` });
  return { ...ctx, log, nix: new Nix(log) };
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
