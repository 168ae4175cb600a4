/**
 * Whether attribute names exist in a flake's package set, asked of Nix in one
 * evaluation before `fprof add` writes anything: the names are looked up in
 * the input as the flake's lock pins it, the store path of each one found is
 * kept (to check the built profile against), and for each one missing, the
 * names beside it are listed for "did you mean". Pure: this module only
 * writes the expression and reads its answer.
 *
 * @module
 */

import { printString } from "../../manifest/nix_manifest.ts";

/** Where the names are looked up. */
export type PackageSource =
  /** An input of a local flake, as its lock file pins it. */
  | { flake: string; input: string }
  /** A flake of its own (`--override-input nixpkgs=REF` replaces the input). */
  | { ref: string };

/** The answer for one name. */
export type NameCheck =
  | { name: string; found: true; outPath: string | null }
  | { name: string; found: false; missing: string; near: string[] };

/**
 * The expression: `{ inputs = [names]; }` when the flake has no such input,
 * else `{ results = [ … ]; }` in the order of `names` (each `a.b` a path).
 * The set is the input's `legacyPackages.<system>`, else its
 * `packages.<system>`, as `nix build INPUT#name` would look.
 */
export function packageCheckExpr(source: PackageSource, names: readonly string[]): string {
  const flake = "flake" in source
    ? `(builtins.getFlake ${printString(source.flake)}).inputs`
    : `{ input = builtins.getFlake ${printString(source.ref)}; }`;
  const input = "flake" in source ? printString(source.input) : `"input"`;
  const paths = printString(JSON.stringify(names.map((n) => n.split("."))));
  return `let
  inputs = ${flake};
  name = ${input};
  system = builtins.currentSystem;
  top = inputs.\${name};
  set = top.legacyPackages.\${system} or top.packages.\${system} or { };
  look = s: path:
    if path == [ ] then { found = true; path = if s ? outPath then s.outPath else null; }
    else if builtins.isAttrs s && s ? \${builtins.head path}
    then look s.\${builtins.head path} (builtins.tail path)
    else { found = false; missing = builtins.head path;
           near = if builtins.isAttrs s then builtins.attrNames s else [ ]; };
in
if inputs ? \${name} then { results = map (look set) (builtins.fromJSON ${paths}); }
else { inputs = builtins.attrNames inputs; }`;
}

/**
 * Reads the expression's answer: the checks in the order of `names`, or the
 * input names the flake has when it lacks the one asked for. Pure.
 */
export function readPackageCheck(
  value: unknown,
  names: readonly string[],
): { checks: NameCheck[] } | { inputs: string[] } {
  const v = value as { results?: unknown[]; inputs?: unknown[] };
  if (Array.isArray(v?.inputs)) return { inputs: v.inputs.map(String) };
  if (!Array.isArray(v?.results) || v.results.length !== names.length) {
    throw new Error(`unexpected answer from the package check: ${JSON.stringify(value)}`);
  }
  return {
    checks: v.results.map((r, i) => {
      const x = r as { found?: boolean; path?: unknown; missing?: unknown; near?: unknown };
      return x.found
        ? { name: names[i], found: true, outPath: typeof x.path === "string" ? x.path : null }
        : {
          name: names[i],
          found: false,
          missing: String(x.missing),
          near: Array.isArray(x.near) ? x.near.map(String) : [],
        };
    }),
  };
}
