/**
 * Every `.nix` file of the repository (hidden directories such as `.tools/`
 * and `.git/` left out), for tests that must hold on all the Nix source the
 * project has: the lexer's and the locator's round trips.
 *
 * @module
 */

/** The paths of the repository's `.nix` files, in directory order. */
export async function repositoryNixFiles(): Promise<string[]> {
  const root = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
  const files: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      if (e.name.startsWith(".")) continue;
      const path = `${dir}/${e.name}`;
      if (e.isDirectory) await walk(path);
      else if (e.name.endsWith(".nix")) files.push(path);
    }
  };
  await walk(root);
  return files;
}
