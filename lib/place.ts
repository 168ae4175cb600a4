/**
 * The choice between this machine's profile and a host's, which sits above
 * both `profile/` and `remote/`: a remote place is loaded only when a
 * command is given `--target-host`.
 *
 * @module
 */

import { type Context, profileOf } from "./context.ts";
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
