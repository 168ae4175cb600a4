/**
 * Reading a flake's `flake.lock`: which node an input of the root is, after
 * `follows`, and what the lock says about its source. Pure.
 *
 * @module
 */

import { FprofError } from "../errors.ts";
import { makeFixedOutputPathRecursive } from "./store_path.ts";

/** One node of a lock file. */
export interface LockNode {
  /** Input name → node id, or a `follows` path of input names from the root. */
  inputs?: Record<string, string | string[]>;
  /** The exact source: `type`, `narHash`, and per type `path`, `rev`, `lastModified`, … */
  locked?: Record<string, unknown>;
  original?: Record<string, unknown>;
  flake?: boolean;
}

/** A parsed `flake.lock`. */
export interface FlakeLock {
  version: number;
  root: string;
  nodes: Record<string, LockNode>;
}

/** An input of the root node, resolved to its locked source. */
export interface LockedInput {
  /** The input name the root uses, such as `nixpkgs`. */
  name: string;
  /** The node it resolves to after `follows`. */
  node: string;
  /** The node's `locked` attributes, as the lock file has them. */
  locked: Record<string, unknown>;
  /** SRI or `sha256:` hash of the source's NAR. */
  narHash: string;
  lastModified?: number;
  rev?: string;
}

/**
 * Parses `flake.lock`. Versions 5 to 7 are the ones Nix 2.4 and later write.
 *
 * @example
 * ```ts
 * import { parseFlakeLock } from "./flake_lock.ts";
 * const lock = parseFlakeLock('{"nodes":{"root":{}},"root":"root","version":7}', "flake.lock");
 * lock.root; // => "root"
 * ```
 */
export function parseFlakeLock(text: string, file: string): FlakeLock {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new FprofError(`cannot parse lock file '${file}': ${(e as Error).message}`, {
      cause: e,
    });
  }
  const d = data as Partial<FlakeLock> | null;
  if (
    typeof d !== "object" || d === null || typeof d.nodes !== "object" || d.nodes === null ||
    typeof d.root !== "string" || typeof d.version !== "number"
  ) {
    throw new FprofError(`lock file '${file}' is not a flake lock file`);
  }
  if (d.version < 5 || d.version > 7) {
    throw new FprofError(`lock file '${file}' has unsupported version ${d.version}`);
  }
  if (!d.nodes[d.root]) {
    throw new FprofError(`lock file '${file}' has no root node '${d.root}'`);
  }
  return { version: d.version, root: d.root, nodes: d.nodes };
}

/**
 * The node an input reference names: a node id, or a `follows` path of input
 * names starting at the root, itself possibly following further.
 */
function resolveRef(
  lock: FlakeLock,
  ref: string | string[],
  file: string,
  depth = 0,
): string {
  if (typeof ref === "string") return ref;
  if (depth > 64) throw new FprofError(`lock file '${file}' has a cycle of follows`);
  let node = lock.root;
  for (const name of ref) {
    const next = lock.nodes[node]?.inputs?.[name];
    if (next === undefined) {
      throw new FprofError(
        `lock file '${file}': follows path '${ref.join("/")}' names a missing input '${name}'`,
      );
    }
    node = resolveRef(lock, next, file, depth + 1);
  }
  return node;
}

/**
 * The root's input `name`, followed through `follows`, with its locked source.
 *
 * @example
 * ```ts
 * import { lockedInput, parseFlakeLock } from "./flake_lock.ts";
 * const lock = parseFlakeLock(JSON.stringify({
 *   version: 7, root: "root",
 *   nodes: {
 *     root: { inputs: { nixpkgs: "nixpkgs_2" } },
 *     nixpkgs_2: { locked: { type: "path", path: "/p", narHash: "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=" } },
 *   },
 * }), "flake.lock");
 * lockedInput(lock, "nixpkgs", "flake.lock").node; // => "nixpkgs_2"
 * ```
 */
export function lockedInput(lock: FlakeLock, name: string, file: string): LockedInput {
  const ref = lock.nodes[lock.root].inputs?.[name];
  if (ref === undefined) {
    const known = Object.keys(lock.nodes[lock.root].inputs ?? {});
    throw new FprofError(`flake has no input '${name}' in lock file '${file}'`, {
      hint: known.length
        ? `its inputs are: ${known.join(", ")}; choose one with --input`
        : "the flake has no inputs",
    });
  }
  const node = resolveRef(lock, ref, file);
  const locked = lock.nodes[node]?.locked;
  if (!locked) {
    throw new FprofError(`input '${name}' (node '${node}') is not locked in '${file}'`);
  }
  if (typeof locked.narHash !== "string") {
    throw new FprofError(`input '${name}' has no narHash in lock file '${file}'`, {
      hint: "run 'nix flake lock' with a recent Nix to record it",
    });
  }
  return {
    name,
    node,
    locked,
    narHash: locked.narHash,
    ...(typeof locked.lastModified === "number" ? { lastModified: locked.lastModified } : {}),
    ...(typeof locked.rev === "string" ? { rev: locked.rev } : {}),
  };
}

/**
 * The store path Nix fetches a locked input to: every fetcher stores its
 * source NAR-hashed under the name `source`, so the path follows from
 * `narHash` alone.
 *
 * @example
 * ```ts
 * import { sourceStorePath } from "./flake_lock.ts";
 * (await sourceStorePath("sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "/nix/store"))
 *   .endsWith("-source"); // => true
 * ```
 */
export async function sourceStorePath(narHash: string, storeDir: string): Promise<string> {
  try {
    return await makeFixedOutputPathRecursive(narHash, "source", [], storeDir);
  } catch (e) {
    throw new FprofError(`cannot use narHash '${narHash}': ${(e as Error).message}`, {
      cause: e,
    });
  }
}
