/**
 * `fprof --version`: fprof's version and the Nix it finds.
 *
 * @module
 */

import { VERSION } from "../context.ts";
import { FprofError } from "../errors.ts";
import { type Logger, writeOut } from "../log.ts";
import { manifestJsonVersionFor, Nix } from "../nix.ts";

/** Prints the version lines to stdout. */
export async function versionText(log: Logger): Promise<void> {
  const lines = [`fprof ${VERSION}`];
  try {
    const v = await new Nix(log).version();
    const json = manifestJsonVersionFor(v);
    lines.push(
      `${v.raw} (reads manifest.nix and manifest.json versions 1–${json})`,
    );
  } catch (e) {
    if (!(e instanceof FprofError)) throw e;
    lines.push(`nix: not found (${e.message})`);
  }
  await writeOut(lines.join("\n") + "\n");
}
