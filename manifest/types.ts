/**
 * The shape every manifest reader produces and every writer consumes.
 *
 * @module
 */

/** Which manifest a profile generation carries. */
export type ManifestKind = "nix" | "json" | "none";

/** One package (one manifest element) of a profile generation. */
export interface ProfilePackage {
  /** The package name without version, split as Nix splits `pname-version`. */
  name: string;
  /** The version, or `""` when the name has none. */
  version: string;
  /** Store paths of the package's installed outputs, `out` first. */
  storePaths: string[];
  /** Output names, parallel to {@link storePaths} when known. */
  outputs?: string[];
  /** nix-env / buildEnv priority; lower wins. */
  priority?: number;
  /** Attribute path inside the flake it came from, when known. */
  attrPath?: string;
  /** Locked flake URL it came from (`url` in manifest.json), when known. */
  source?: string;
  /** Unlocked flake URL (`originalUrl` in manifest.json), when known. */
  originalSource?: string;
  /** `meta.description`, when known. */
  description?: string;
  /** `system` from manifest.nix, when known. */
  system?: string;
  /** manifest.json's `active`; inactive elements are not linked. */
  active?: boolean;
  /**
   * manifest.json's `outputs` (Nix 2.9+, flake elements only): the outputs
   * that were asked for, such as `["out", "man"]`, or `["*"]` for all. Unset
   * means the derivation's default outputs (`null` in the file). Unlike
   * {@link outputs}, it need not line up with {@link storePaths}.
   */
  outputsSpec?: string[];
  /**
   * The element's key in a version 3 manifest.json (Nix 2.20+), which
   * `nix profile remove <name>` matches. Unset for other manifests; writers
   * then derive one as Nix does.
   */
  elementName?: string;
}
