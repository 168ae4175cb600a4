/**
 * Small file-system questions that every layer asks.
 *
 * @module
 */

import { FprofError } from "./errors.ts";

/** Whether anything, even a dangling link, is at `path`; other errors are thrown. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Reads a file that may not exist; `null` when it does not. */
export async function readTextOrNull(path: string): Promise<string | null> {
  const bytes = await readBytesOrNull(path);
  return bytes && new TextDecoder().decode(bytes);
}

/** Whether two files' contents (`null`: no file) are the same bytes. Pure. */
export function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Reads a file's bytes, for a file whose bytes must be kept as they are; `null` when it does not exist. */
export async function readBytesOrNull(path: string): Promise<Uint8Array | null> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new FprofError(`cannot read '${path}': ${(e as Error).message}`, { cause: e });
  }
}

/** The names in a directory, in no particular order. */
export async function readDirNames(path: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(path)) names.push(e.name);
  return names;
}
