/**
 * What to say when a flake lacks the attribute fprof was asked to build: the
 * attributes it does have, found with a cheap `nix eval` only after the
 * build failed, so that the error says what to type instead.
 *
 * @module
 */

import { FprofError } from "../errors.ts";
import type { Nix } from "./nix.ts";

/** How many names an error lists before it says "and N more". */
export const MAX_LISTED = 8;

/**
 * The error for a missing attribute, given what the flake offers under
 * `packages.<system>` and `legacyPackages.<system>`. Pure.
 *
 * @example
 * ```ts
 * import { missingAttrMessage } from "./attr_hint.ts";
 * missingAttrMessage("/home/u/profile", ["profile"], "x86_64-linux", {
 *   packages: ["default"],
 *   legacyPackages: [],
 * }).message;
 * // "flake '/home/u/profile' does not provide attribute 'profile'; available: packages.x86_64-linux.default"
 * ```
 */
export function missingAttrMessage(
  ref: string,
  wanted: readonly string[],
  system: string,
  available: { packages: readonly string[]; legacyPackages: readonly string[] },
): { message: string; hint: string } {
  const names = [
    ...available.packages.map((n) => `packages.${system}.${n}`),
    ...available.legacyPackages.map((n) => `legacyPackages.${system}.${n}`),
  ];
  const what = wanted.length === 1
    ? `attribute '${wanted[0]}'`
    : `any of the attributes ${wanted.map((w) => `'${w}'`).join(", ")}`;
  const listed = names.slice(0, MAX_LISTED).join(", ");
  const more = names.length > MAX_LISTED ? `, and ${names.length - MAX_LISTED} more` : "";
  const message = names.length > 0
    ? `flake '${ref}' does not provide ${what}; available: ${listed}${more}`
    : `flake '${ref}' does not provide ${what}, and has no packages.${system} or legacyPackages.${system}`;
  // A profile-looking name makes the best example; any name will do otherwise.
  const all = [...available.packages, ...available.legacyPackages];
  const example = ["profile", "default"].find((n) => all.includes(n)) ?? all[0];
  const hint = example !== undefined
    ? `name the attribute to build, as in 'fprof switch ${ref}#${example}'`
    : `make the flake output a buildEnv at packages.${system}.profile (see 'fprof init')`;
  return { message, hint };
}

/**
 * Builds the error for a missing attribute, asking Nix what the flake offers.
 * If that evaluation fails too, the list is simply empty.
 */
export async function missingAttrError(
  nix: Nix,
  ref: string,
  wanted: readonly string[],
  system: string,
  cause: unknown,
): Promise<FprofError> {
  const [packages, legacyPackages] = await Promise.all([
    nix.attrNames(`${ref}#packages.${system}`),
    nix.attrNames(`${ref}#legacyPackages.${system}`),
  ]);
  const { message, hint } = missingAttrMessage(ref, wanted, system, {
    packages,
    legacyPackages,
  });
  return new FprofError(message, { cause, hint });
}
