/**
 * `fprof --version`: fprof's version, the Nix it finds, and which manifest
 * formats that Nix reads.
 *
 * @module
 */

import { VERSION } from "../context.ts";
import { FprofError } from "../errors.ts";
import { type Logger, writeOut } from "../log/log.ts";
import { Nix, type NixVersion } from "../nix/nix.ts";
import { manifestJsonRead } from "../nix/versions.ts";

/**
 * The profile manifests a Nix reads: manifest.nix always; manifest.json
 * version 1 from Nix 2.4, 1–2 from 2.8, 1–3 from 2.20 and on Lix. Pure.
 *
 * @example
 * ```ts
 * import { manifestFormatsRead } from "./version.ts";
 * import { parseNixVersion } from "../nix/nix.ts";
 * manifestFormatsRead(parseNixVersion("nix (Nix) 2.8.0"));
 * // "manifest.nix and manifest.json versions 1–2"
 * ```
 */
export function manifestFormatsRead(v: NixVersion): string {
  const json = manifestJsonRead(v);
  if (json === 0) return "manifest.nix only";
  return `manifest.nix and manifest.json ${json === 1 ? "version 1" : `versions 1–${json}`}`;
}

/** Prints the version lines to stdout. */
export async function versionText(log: Logger): Promise<void> {
  const lines = [`fprof ${VERSION}`];
  try {
    const v = await new Nix(log).version();
    lines.push(`${v.raw} (reads ${manifestFormatsRead(v)})`);
  } catch (e) {
    if (!(e instanceof FprofError)) throw e;
    lines.push(`nix: not found (${e.message})`);
  }
  await writeOut(lines.join("\n") + "\n");
}
