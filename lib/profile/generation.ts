/**
 * What a generation contains: reading its packages back, and making the store
 * path of a new one.
 *
 * ## How fprof makes a generation
 *
 * The flake builds an environment `E` (a buildEnv). With `--manifest=none`,
 * `E` itself becomes the generation, as flakey-profile does. Otherwise fprof
 * makes a generation `G` that holds a symlink to each top-level entry of `E`
 * plus a `manifest.nix` or `manifest.json` naming the packages, and lets Nix
 * make `G` the next generation with `nix-env --set`.
 *
 * `G` is made the way `nix profile` makes its own generations: a
 * content-addressed store path named `profile` (or `user-environment` for
 * manifest.nix) whose NAR fprof computes itself, with references to `E` and
 * every package, so its closure keeps everything alive through GC. It enters
 * the store through `nix copy --from file://<tmp cache>`: Nix checks the NAR
 * hash and recomputes the path from the content and references, so no
 * signature is needed and an untrusted user of a multi-user install can do it
 * too. A build with `builtin:buildenv` was the other option, but that builder
 * refuses to place a `manifest.json`, so it could serve only one of the two
 * manifest kinds.
 *
 * @module
 */

import { join } from "../path.ts";
import type { ManifestKind, ProfilePackage } from "../../manifest/types.ts";
import {
  comparePackages,
  ManifestError,
  manifestNixJsonExpr,
  outputOfPathName,
  packagesFromManifestValue,
  parseManifestJson,
  parseManifestNix,
  printManifestJson,
  printManifestNix,
  splitName,
  storePathName,
} from "../../manifest/mod.ts";
import { FprofError, NixError } from "../errors.ts";
import type { Nix, PathInfo } from "../nix/nix.ts";
import { type NarNode, serializeNar } from "../nix/nar.ts";
import {
  fixedOutputCa,
  formatSha256,
  makeFixedOutputPathRecursive,
  narinfoText,
  parseStorePath,
  sha256,
} from "../nix/store_path.ts";
import { crashPoint } from "../crash.ts";
import type { RunRoots } from "../nix/gc_roots.ts";

/** Names an environment may contain that fprof owns in the generation. */
const MANIFEST_NAMES = new Set(["manifest.nix", "manifest.json"]);

/**
 * The packages of an environment, from its references: what is left for a
 * plain buildEnv with no manifest. Outputs of one package (`foo-1.0` and
 * `foo-1.0-man`) are grouped. Pure.
 */
export function packagesFromReferences(
  envPath: string,
  references: readonly string[],
): ProfilePackage[] {
  const names = new Map<string, string>();
  for (const ref of references) {
    if (ref === envPath) continue;
    const base = storePathName(ref);
    if (
      base.endsWith(".drv") || /(^|-)(env-)?manifest(\.nix|\.json)?$/.test(base)
    ) continue;
    names.set(ref, base);
  }
  // Every path is a package of its own, unless it is `<name>-<output>` of
  // another path's `<name>`: then it is that package's output.
  const owners = new Map<string, ProfilePackage>();
  for (const [path, base] of names) {
    if (!owners.has(base)) {
      owners.set(base, { ...splitName(base), storePaths: [path], outputs: ["out"] });
    }
  }
  const packages: ProfilePackage[] = [];
  for (const [path, base] of names) {
    const own = owners.get(base)!;
    if (own.storePaths[0] !== path) {
      // A second path with the same name: a different build, kept apart.
      packages.push({ ...splitName(base), storePaths: [path], outputs: ["out"] });
      continue;
    }
    const dash = base.lastIndexOf("-");
    const owner = dash > 0 ? owners.get(base.slice(0, dash)) : undefined;
    const output = outputOfPathName(base, base.slice(0, dash));
    if (owner && owner !== own && output && output !== "out") {
      owner.storePaths.push(path);
      owner.outputs!.push(output);
    } else {
      packages.push(own);
    }
  }
  return packages.sort(comparePackages);
}

/** A generation's packages and which manifest they came from. */
export interface GenerationContents {
  manifest: ManifestKind;
  packages: ProfilePackage[];
}

async function isLink(path: string): Promise<boolean> {
  return (await Deno.lstat(path).catch(() => null))?.isSymlink ?? false;
}

/** Unreadable manifests already warned about in this run. */
const warnedManifests = new Set<string>();

/**
 * Reads the packages of a generation without evaluating anything in the
 * common case: `manifest.json` first (as `nix profile` does), then
 * `manifest.nix` with fprof's own parser, asking Nix only when the parser does
 * not understand the file; with neither, or an unreadable `manifest.json`
 * that a package provides (warned about once), the generation's references.
 */
export async function readGenerationContents(
  nix: Nix,
  storePath: string,
): Promise<GenerationContents> {
  const jsonFile = join(storePath, "manifest.json");
  const text = await readIfExists(jsonFile);
  if (text !== null) {
    try {
      return { manifest: "json", packages: parseManifestJson(text) };
    } catch (e) {
      if (!(e instanceof ManifestError)) throw e;
      // A manifest.json that is a link into a package came with the
      // environment (a generation made with --manifest=none), not from Nix
      // or fprof: it may hold anything, and the references still say what
      // the generation holds. A generation's own manifest that is damaged
      // stays an error, as it is for Nix.
      if (!(await isLink(jsonFile))) {
        throw new FprofError(`cannot read '${jsonFile}': ${(e as Error).message}`, {
          cause: e,
          hint: DAMAGED_HINT,
        });
      }
      if (!warnedManifests.has(jsonFile)) {
        warnedManifests.add(jsonFile);
        nix.log.warn(
          `ignoring '${jsonFile}', which a package provides (${
            (e as Error).message
          }); listing the generation from its references`,
        );
      }
      return {
        manifest: "none",
        packages: packagesFromReferences(storePath, await nix.references(storePath)),
      };
    }
  }
  const nixFile = join(storePath, "manifest.nix");
  const nixText = await readIfExists(nixFile);
  if (nixText !== null) {
    return {
      manifest: "nix",
      packages: await manifestNixPackages(nixText, nixFile, nixFile, nix),
    };
  }
  return {
    manifest: "none",
    packages: packagesFromReferences(
      storePath,
      await nix.references(storePath),
    ),
  };
}

/**
 * The packages of a manifest.nix: fprof's own parser, else the Nix of the
 * machine that holds the file (`nix.evalJson`), for what the parser does not
 * understand. `label` names the file in messages (`HOST:PATH` for another
 * machine's).
 */
export async function manifestNixPackages(
  text: string,
  file: string,
  label: string,
  nix: {
    evalJson(expr: string, context: string): Promise<unknown>;
    log: { debug(message: string): void };
  },
): Promise<ProfilePackage[]> {
  try {
    return parseManifestNix(text);
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
    nix.log.debug(`fprof's parser does not understand ${label} (${e.message}); asking Nix`);
  }
  try {
    return packagesFromManifestValue(
      await nix.evalJson(manifestNixJsonExpr(file), `cannot evaluate '${label}'`),
    );
  } catch (e) {
    // It reads "cannot evaluate '<file>': <Nix's reason>" already.
    if (e instanceof NixError) {
      throw new NixError(e.argv, e.code, e.stderr, {
        context: `cannot evaluate '${label}'`,
        fallbackHint: e.hint ?? DAMAGED_HINT,
        cause: e,
      });
    }
    throw new FprofError(`cannot read '${label}': ${(e as Error).message}`, {
      cause: e,
      hint: DAMAGED_HINT,
    });
  }
}

/** What to do about a generation whose manifest cannot be read. */
const DAMAGED_HINT =
  "this generation is damaged or was changed by hand (nix-env refuses it too): " +
  "switch to another one with 'fprof rollback --to N' or 'fprof switch'";

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    if (e instanceof Deno.errors.NotADirectory) return null;
    throw new FprofError(`cannot read '${path}': ${(e as Error).message}`, {
      cause: e,
      hint: DAMAGED_HINT,
    });
  }
}

/** A content-addressed store path fprof makes, before it exists. */
export interface NewStorePath {
  storePath: string;
  nar: Uint8Array;
  /** `sha256:<nix32>` of {@link nar}. */
  narHash: string;
  references: string[];
}

/** The new generation, before it exists in the store. */
export interface GenerationPlan {
  /** The store path the generation will have. */
  storePath: string;
  /**
   * The paths to add, dependencies first, the generation last; empty for
   * `--manifest=none`, where the environment itself is the generation.
   */
  paths: NewStorePath[];
  manifest: ManifestKind;
}

/** A NAR-hashed, content-addressed path with references, as `nix profile` makes them; pure. */
export async function contentAddressed(
  root: NarNode,
  name: string,
  references: readonly string[],
  storeDir: string,
): Promise<NewStorePath> {
  const nar = serializeNar(root);
  const hash = await sha256(nar);
  const refs = [...new Set(references)].sort();
  return {
    storePath: await makeFixedOutputPathRecursive(hash, name, refs, storeDir),
    nar,
    narHash: formatSha256(hash, "nix32"),
    references: refs,
  };
}

/**
 * Plans the generation for environment `envPath`, whose top-level entries are
 * `entries`, holding `packages`. Pure: it computes the store paths and NARs.
 *
 * A `manifest.json` is a file inside the generation, as `nix profile` writes
 * it. A `manifest.nix` is a symlink to a store path of its own
 * (`env-manifest.nix`, referring to the packages), as nix-env writes it:
 * `nix profile` follows that link to the store and refuses a plain file.
 */
export async function planGeneration(args: {
  envPath: string;
  entries: readonly string[];
  packages: readonly ProfilePackage[];
  manifest: ManifestKind;
  jsonVersion: 2 | 3;
  jsonPriorityAndOutputs: boolean;
  storeDir: string;
}): Promise<GenerationPlan> {
  const { envPath, manifest, storeDir } = args;
  if (manifest === "none") return { storePath: envPath, paths: [], manifest };
  const entries: Record<string, NarNode> = {};
  for (const name of args.entries) {
    if (MANIFEST_NAMES.has(name)) continue;
    entries[name] = { type: "symlink", target: `${envPath}/${name}` };
  }
  const packagePaths = args.packages.flatMap((p) => p.storePaths);
  const encode = (text: string) => new TextEncoder().encode(text);
  if (manifest === "json") {
    entries["manifest.json"] = {
      type: "regular",
      contents: encode(printManifestJson([...args.packages], args.jsonVersion, {
        withPriorityAndOutputs: args.jsonPriorityAndOutputs,
      })),
    };
    const gen = await contentAddressed(
      { type: "directory", entries },
      "profile",
      [envPath, ...packagePaths],
      storeDir,
    );
    return { storePath: gen.storePath, paths: [gen], manifest };
  }
  const file = await contentAddressed(
    { type: "regular", contents: encode(printManifestNix([...args.packages])) },
    "env-manifest.nix",
    packagePaths,
    storeDir,
  );
  entries["manifest.nix"] = { type: "symlink", target: file.storePath };
  const gen = await contentAddressed(
    { type: "directory", entries },
    "user-environment",
    [envPath, file.storePath],
    storeDir,
  );
  return { storePath: gen.storePath, paths: [file, gen], manifest };
}

/**
 * Adds a planned generation to the store through a temporary local binary
 * cache, and roots it in `roots`. `closure` is `nix path-info -r --json` of everything the new paths
 * refer to that is already in the store: `nix copy` walks the closure in the
 * source cache, so every path needs a `.narinfo` there, although only the
 * new paths' NARs are ever read.
 */
export async function addGenerationToStore(
  nix: Nix,
  plan: GenerationPlan,
  closure: readonly PathInfo[],
  tmpRoot: string,
  /** The store it goes to, rooting it there where it can (see gc_roots.ts). */
  roots: Pick<RunRoots, "addFromCache">,
): Promise<void> {
  await Deno.mkdir(tmpRoot, { recursive: true });
  // Named after this process, so a later run can tell a dead one's directory.
  const dir = await Deno.makeTempDir({ dir: tmpRoot, prefix: `cache-${Deno.pid}-` });
  try {
    await Deno.mkdir(join(dir, "nar"));
    const hashPart = (p: string) => parseStorePath(p).hashPart;
    const writes = [Deno.writeTextFile(
      join(dir, "nix-cache-info"),
      `StoreDir: ${nix.storeDir}\nWantMassQuery: 1\nPriority: 30\n`,
    )];
    for (const path of plan.paths) {
      const narFile = `nar/${hashPart(path.storePath)}.nar`;
      writes.push(Deno.writeFile(join(dir, narFile), path.nar));
      writes.push(Deno.writeTextFile(
        join(dir, `${hashPart(path.storePath)}.narinfo`),
        narinfoText({
          storePath: path.storePath,
          url: narFile,
          narHash: path.narHash,
          narSize: path.nar.length,
          references: path.references,
          ca: fixedOutputCa(path.narHash),
        }),
      ));
    }
    for (const info of closure) {
      writes.push(Deno.writeTextFile(
        join(dir, `${hashPart(info.path)}.narinfo`),
        narinfoText({
          storePath: info.path,
          url: `nar/${hashPart(info.path)}.nar`,
          narHash: info.narHash,
          narSize: info.narSize,
          references: info.references,
        }),
      ));
    }
    await Promise.all(writes);
    crashPoint("store:cache-written");
    // Any path the new ones refer to will do to register the root with:
    // it is valid, and rooted already.
    await roots.addFromCache(plan.storePath, dir, closure[0]?.path ?? plan.paths[0].references[0]);
    crashPoint("store:copied");
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Store paths the plan's new paths refer to that must already exist. */
export function existingReferences(plan: GenerationPlan): string[] {
  const made = new Set(plan.paths.map((p) => p.storePath));
  return [...new Set(plan.paths.flatMap((p) => p.references))].filter((r) => !made.has(r)).sort();
}

/**
 * Whether a generation or environment provides `bin/nix`: switching away from
 * one that does to one that doesn't can take the user's nix off their PATH.
 * A `root` that is itself missing (collected, say) is an error, not a "no".
 */
export async function providesNix(root: string): Promise<boolean> {
  try {
    await Deno.stat(join(root, "bin", "nix"));
    return true;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) return false;
    try {
      await Deno.stat(root);
    } catch (cause) {
      throw new FprofError(`'${root}' is missing from the store`, { cause });
    }
    return false;
  }
}
