/**
 * Writing files so that nothing planted in fprof's way is followed: every
 * temporary file is created exclusively (`O_CREAT|O_EXCL`, which never
 * follows a link at the name), and a file fprof replaces keeps its mode.
 *
 * @module
 */

import { dirname } from "./path.ts";

/**
 * Creates `path` as a new file holding `text`. Anything already at that name
 * (a killed run's temporary file, or a link someone planted) is removed
 * first, never written through. With `mode`, the file gets exactly that mode;
 * without, the process's umask applies to 0666, as for any new file.
 *
 * @example
 * ```ts
 * import { writeNewFile } from "./safe_write.ts";
 * const dir = await Deno.makeTempDir();
 * await writeNewFile(`${dir}/a.tmp`, "text\n", 0o600);
 * (await Deno.stat(`${dir}/a.tmp`)).mode! & 0o777; // 0o600
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeNewFile(path: string, text: string, mode?: number): Promise<void> {
  await Deno.remove(path).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  const file = await Deno.open(path, {
    write: true,
    createNew: true,
    mode: mode ?? 0o666,
  });
  try {
    if (mode !== undefined) await Deno.chmod(path, mode);
    const bytes = new TextEncoder().encode(text);
    for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
  } finally {
    file.close();
  }
}

/** The permission bits of the file at `path` (links followed), or null when there is none. */
export async function fileMode(path: string): Promise<number | null> {
  try {
    return (await Deno.stat(path)).mode! & 0o7777;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

/**
 * Replaces `path` with `text` atomically: a temporary file `tmp` beside it,
 * created exclusively with the mode `path` has now (or `mode` for a new
 * file), then renamed over it. `beforeRename` runs between the two, for
 * crash tests.
 */
export async function replaceFile(
  path: string,
  text: string,
  opts: { tmp: string; mode?: number; beforeRename?: () => void },
): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const mode = (await fileMode(path)) ?? opts.mode;
  await writeNewFile(opts.tmp, text, mode);
  opts.beforeRename?.();
  await Deno.rename(opts.tmp, path);
}
