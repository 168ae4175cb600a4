/**
 * `fprof pin --status`: each pin against the lock file, the store, the
 * registry and the search path Nix reports; a stale pin exits 1.
 *
 * @module
 */

import type { Context } from "../../context.ts";
import { FprofError, NixError } from "../../errors.ts";
import { readTextOrNull as readOrNull } from "../../fs.ts";
import { writeOut } from "../../log/log.ts";
import { nixTraits } from "../../nix/versions.ts";
import { overrideSource } from "../../nix/nix_conf.ts";
import { loadPinState, type Pin, pinFiles, pinRootPath, type PinScope } from "../../nix/pins.ts";
import {
  findEntry,
  parseRegistry,
  pathTarget,
  type Registry,
  sameTarget,
} from "../../nix/registry.ts";
import { join } from "../../path.ts";
import { type PinOptions, readPins } from "./plan.ts";
import { shownPins } from "./unpin.ts";

/**
 * Nix's search path as Nix itself resolves it (settings, `NIX_CONFIG`,
 * `NIX_PATH`, includes and all), or null when it cannot be asked.
 */
async function effectiveNixPath(ctx: Context): Promise<{ prefix: string; path: string }[] | null> {
  try {
    const value = await ctx.nix.evalJson("builtins.nixPath", "cannot read Nix's search path");
    return Array.isArray(value) ? value : null;
  } catch (e) {
    if (!(e instanceof NixError)) throw e;
    ctx.log.warn(`cannot ask Nix for its search path: ${e.message}`);
    return null;
  }
}

/** One pin as `--status --json` shows it. */
export interface PinStatus extends Pin {
  /** The store path the lock file has now, or null when it no longer has the input. */
  lockStorePath: string | null;
  stale: boolean;
  inStore: boolean;
  rooted: boolean;
  inRegistry: boolean;
  /** Whether `<id>` resolves to the pin in Nix's effective search path (null: Nix was not asked). */
  inNixPath: boolean | null;
  /** What sets the search path instead, when something does. */
  nixPathOverride: string | null;
}

export async function status(scope: PinScope, opts: PinOptions, ctx: Context) {
  const { nix, env } = ctx;
  const state = await loadPinState(scope, env);
  const files = pinFiles(scope, env);
  if (!state) {
    if (opts.json) {
      await writeOut(
        JSON.stringify({ scope, flake: null, pending: false, pins: [] }, null, 2) + "\n",
      );
    } else await writeOut("nothing is pinned\n");
    return;
  }
  let lockPins: Pin[] | null = null;
  try {
    lockPins = (await readPins(state.flake, shownPins(state).map((p) => p.id), ctx)).pins;
  } catch (e) {
    if (!(e instanceof FprofError)) throw e;
    ctx.log.warn(`cannot compare with the lock file: ${e.message}`);
  }
  let registry: Registry | null = null;
  try {
    registry = parseRegistry((await readOrNull(files.registry)) ?? "", files.registry);
  } catch (e) {
    if (!(e instanceof FprofError)) throw e;
    ctx.log.warn(e.message);
  }
  const [nixPath, nixConf, version] = await Promise.all([
    effectiveNixPath(ctx),
    readOrNull(files.nixConf),
    nix.version(),
  ]);
  const override = overrideSource({
    name: "nix-path",
    nixConf: nixConf ?? "",
    env: { NIX_CONFIG: env.get("NIX_CONFIG"), NIX_PATH: env.get("NIX_PATH") },
    nixPathVariableWins: nixTraits(version).nixPathVariableWins,
  });
  const rows: PinStatus[] = await Promise.all(
    shownPins(state).map(async (p) => {
      const lock = lockPins?.find((l) => l.id === p.id) ?? null;
      const entry = registry ? findEntry(registry, p.id) : undefined;
      const inNixPath = nixPath === null ? null : [p.storePath, `flake:${p.id}`].includes(
        nixPath.find((e) => e.prefix === p.id)?.path ?? "",
      );
      return {
        inNixPath,
        nixPathOverride: inNixPath === false ? override : null,
        ...p,
        lockStorePath: lock?.storePath ?? null,
        stale: lock?.storePath !== p.storePath,
        inStore: await nix.isValid(p.storePath),
        rooted: (await Deno.readLink(pinRootPath(scope, p.id, env)).catch(() => null)) ===
          p.storePath,
        inRegistry: entry !== undefined && sameTarget(entry.to, pathTarget(p)),
      };
    }),
  );
  const pending = state.pending !== undefined;
  if (opts.json) {
    await writeOut(
      JSON.stringify({ scope, flake: state.flake, pending, pins: rows }, null, 2) + "\n",
    );
  } else await writeOut(statusText(state.flake, rows, pending));
  // A stale pin exits 1, so that a script or a login check can act on it.
  const stale = rows.filter((r) => r.stale).map((r) => r.id);
  if (stale.length > 0) {
    throw new FprofError(`stale pin: the lock file has moved on from ${stale.join(", ")}`, {
      hint: `run 'fprof pin ${state.flake}' to move it to the lock`,
    });
  }
}

/** The text of `pin --status`: one line per pin with what holds for it. */
function statusText(flake: string, rows: PinStatus[], pending: boolean): string {
  const lines = [
    ...pending
      ? [
        "a pin was stopped before it finished: run 'fprof pin' to finish it, " +
        "or 'fprof pin --unpin' to undo it",
      ]
      : [],
    `pins from ${join(flake, "flake.lock")}:`,
  ];
  for (const r of rows) {
    const notes = [
      r.stale
        ? `stale: the lock has ${r.lockStorePath ?? "no such input"}; run 'fprof pin' to move it`
        : "up to date with the lock",
      ...(r.inStore ? [] : ["missing from the store"]),
      ...(r.rooted ? [] : ["no GC root"]),
      ...(r.inRegistry
        ? []
        : [pending ? "not in the registry yet" : "registry entry changed outside fprof"]),
      ...(r.inNixPath === false
        ? [
          `<${r.id}> does not resolve to it: ${
            r.nixPathOverride
              ? `nix-path is overridden by ${r.nixPathOverride}`
              : "Nix's nix-path differs"
          }`,
        ]
        : []),
    ];
    lines.push(`  ${r.id}  ${r.storePath}  (${notes.join("; ")})`);
  }
  return lines.join("\n") + "\n";
}
