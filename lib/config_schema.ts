/**
 * What the config file may hold, apart from how it is read: both the reader
 * (`config.ts`, which loads the parser only when there is a file) and the
 * parser (`parse_config.ts`) take it from here. Pure.
 *
 * @module
 */

/** Manifest kinds `switch --manifest` accepts. */
export const MANIFEST_CHOICES = ["auto", "nix", "json", "none"] as const;
/** One of {@link MANIFEST_CHOICES}. */
export type ManifestChoice = typeof MANIFEST_CHOICES[number];

/** The settings the config file may hold. */
export interface Config {
  /** Default flake (and optional `#attr`) for `fprof switch`. */
  flake?: string;
  /** Default profile path. */
  profile?: string;
  /** Default `--manifest` kind. */
  manifest?: ManifestChoice;
  /** Run `fprof pin` after every successful `fprof switch`, as `--pin` does. */
  pin?: boolean;
  /** Named sets of hosts, for `--target-host @NAME`. */
  hosts?: Record<string, string[]>;
}
