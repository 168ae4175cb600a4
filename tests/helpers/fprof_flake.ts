/**
 * A copy of fprof's own flake (flake.nix, flake.lock, nix/ and templates/) in a test
 * directory, to use as a `path:` flake input: the checkout itself would copy
 * the whole working tree into the store. Its nixpkgs input is never fetched
 * as long as tests override or follow it.
 *
 * @module
 */

import { join } from "node:path";

const ROOT = new URL("../../", import.meta.url).pathname;

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyTree(join(from, e.name), join(to, e.name));
    else if (e.isFile) await Deno.copyFile(join(from, e.name), join(to, e.name));
  }
}

/** Copies fprof's flake into `dir` and returns `path:<dir>`. */
export async function writeFprofFlake(dir: string): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.copyFile(join(ROOT, "flake.nix"), join(dir, "flake.nix"));
  await Deno.copyFile(join(ROOT, "flake.lock"), join(dir, "flake.lock"));
  await copyTree(join(ROOT, "nix"), join(dir, "nix"));
  await copyTree(join(ROOT, "templates"), join(dir, "templates"));
  return `path:${dir}`;
}
