/**
 * Profile manifests, pure: strings in, objects out, for every format Nix has
 * written. `manifest.nix` is nix-env's ({@link parseManifestNix},
 * {@link printManifestNix}); `manifest.json` is `nix profile`'s, versions 1 to
 * 3 ({@link parseManifestJson}, {@link printManifestJson}). Both read into and
 * write from {@link ProfilePackage}.
 *
 * @example
 * ```ts
 * import { parseManifestNix, printManifestJson } from "./mod.ts";
 * const pkgs = parseManifestNix(
 *   '[ { name = "hello-2.12"; outPath = ' +
 *     '"/nix/store/ry3wji0qjghzb55bgp6babkivblpiyim-hello-2.12"; ' +
 *     'type = "derivation"; } ]',
 * );
 * printManifestJson(pkgs, 2, { withPriorityAndOutputs: false });
 * // => '{"elements":[{"active":true,"storePaths":["/nix/store/ry3wji0qjghzb55bgp6babkivblpiyim-hello-2.12"]}],"version":2}'
 * ```
 *
 * @module
 */

export * from "./errors.ts";
export * from "./json_manifest.ts";
export * from "./names.ts";
export * from "./nix_manifest.ts";
export type * from "./types.ts";
