/**
 * Writing files so that nothing planted in fprof's way is followed: every
 * temporary file is created exclusively (`O_CREAT|O_EXCL`, which never
 * follows a link at the name), and a file fprof replaces keeps its mode.
 *
 * @module
 */

import { dirname } from "./path.ts";
import { sameBytes } from "./fs.ts";
import { diskFullPoint } from "./crash.ts";

/**
 * Creates `path` as a new file holding `text` (a string, as UTF-8, or bytes). Anything already at that name
 * (a killed run's temporary file, or a link someone planted) is removed
 * first, never written through. A write that fails (a full disk) removes
 * the file, so no empty or partial file is left. With `mode`, the file gets exactly that mode;
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
export async function writeNewFile(
  path: string,
  text: string | Uint8Array,
  mode?: number,
): Promise<void> {
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
    diskFullPoint(path);
    const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
    for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
  } catch (e) {
    // A file cut short (a full disk) must not pass for a whole one.
    file.close();
    await Deno.remove(path).catch(() => {});
    throw e;
  }
  file.close();
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
  text: string | Uint8Array,
  opts: { tmp: string; mode?: number; beforeRename?: () => void },
): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const mode = (await fileMode(path)) ?? opts.mode;
  await writeNewFile(opts.tmp, text, mode);
  opts.beforeRename?.();
  await Deno.rename(opts.tmp, path);
}

/**
 * Opens `path` for reading and writing, creating it when missing, without
 * ever following a link: a new file is created exclusively, and an existing
 * one is opened only when it is a regular file, checked again on the open
 * file (so a name swapped for a link in between is caught). A lock file
 * someone replaced by a link to another file must not make fprof open, and
 * Nix's protocol then write into, that file.
 */
export async function openNoFollow(path: string, mode = 0o666): Promise<Deno.FsFile> {
  for (;;) {
    try {
      return await Deno.open(path, { read: true, write: true, createNew: true, mode });
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    const before = await Deno.lstat(path).catch((e) => {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    });
    if (before === null) continue;
    if (!before.isFile) throw new Deno.errors.PermissionDenied(`'${path}' is not a regular file`);
    const file = await Deno.open(path, { read: true, write: true });
    const now = await file.stat();
    if (now.ino === before.ino && now.dev === before.dev) return file;
    file.close();
  }
}

/**
 * Puts the file at `path` back to `saved`, its bytes from before (`null`: it
 * did not exist, so it is removed), written aside and renamed as
 * {@link replaceFile} does. Returns whether anything had to change.
 */
export async function restoreBytes(path: string, saved: Uint8Array | null): Promise<boolean> {
  const now = await Deno.readFile(path).catch(() => null);
  if (sameBytes(now, saved)) return false;
  if (saved === null) await Deno.remove(path);
  else await replaceFile(path, saved, { tmp: `${path}.fprof-${Deno.pid}.tmp` });
  return true;
}
