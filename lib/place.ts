/**
 * Which profile a command works on: the path (`--profile`, the config, or
 * Nix's default), and the choice between this machine's profile and a
 * host's, which sits above both `profile/` and `remote/`: a remote place is
 * loaded only when a command is given `--target-host`.
 *
 * @module
 */

import type { Context } from "./context.ts";
import { resolveProfilePath } from "./profile/profile.ts";
import { LocalPlace, type ProfilePlace } from "./profile/place.ts";

/** Options that choose a profile. */
export interface PlaceOptions {
  profile?: string;
  /** `[USER@]HOST` of a remote profile. */
  targetHost?: string;
}

/** The profile a command works on: here, or on `--target-host`. */
export async function placeOf(ctx: Context, opts: PlaceOptions): Promise<ProfilePlace> {
  if (opts.targetHost === undefined) return new LocalPlace(await profileOf(ctx, opts.profile), ctx);
  const { remotePlace } = await import("./remote/place.ts");
  return await remotePlace(ctx, opts.targetHost, opts.profile);
}

/** The profile a command works on (`--profile`, config, or Nix's default). */
export function profileOf(
  ctx: Context,
  explicit: string | undefined,
): Promise<string> {
  return resolveProfilePath(explicit, ctx.config.profile, {
    env: ctx.env,
    stateDir: ctx.nix.stateDir,
    uid: Deno.uid() ?? 0,
    user: ctx.env.get("USER") ?? ctx.env.get("LOGNAME") ?? "nobody",
    nixVersion: () => ctx.nix.version(),
  });
}
