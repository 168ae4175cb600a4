/**
 * Test helper: writes a {@link NarNode} tree to disk, the inverse of what
 * `nix-store --dump` reads, so tests can compare fprof's NARs with Nix's.
 *
 * @module
 */

import type { NarNode } from "../nar.ts";

/** Writes `node` at `path`: directories, symlinks and files with their mode. */
export async function writeTree(path: string, node: NarNode): Promise<void> {
  switch (node.type) {
    case "directory":
      await Deno.mkdir(path);
      for (const [name, child] of Object.entries(node.entries)) {
        await writeTree(`${path}/${name}`, child);
      }
      break;
    case "symlink":
      await Deno.symlink(node.target, path);
      break;
    case "regular":
      await Deno.writeFile(path, node.contents, {
        mode: node.executable ? 0o755 : 0o644,
      });
      break;
  }
}
