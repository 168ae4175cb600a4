/**
 * Errors of the manifest readers and writers. A reader throws
 * {@link ManifestSyntaxError} for anything it does not understand, so that the
 * caller can fall back to asking Nix itself.
 *
 * @module
 */

/** A profile manifest could not be read or written. */
export class ManifestError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ManifestError";
  }
}

/** Where in a manifest's text a problem is; both numbers start at 1. */
export interface TextPosition {
  line: number;
  column: number;
}

/**
 * A manifest's text is malformed, or uses something the reader does not
 * understand. The position is known for manifest.nix, and for manifest.json
 * when the JSON itself is malformed and the runtime reports where.
 */
export class ManifestSyntaxError extends ManifestError {
  /** 1-based line of the problem, when known. */
  readonly line?: number;
  /** 1-based column (in UTF-16 code units) of the problem, when known. */
  readonly column?: number;

  constructor(
    message: string,
    position?: TextPosition,
    options?: ErrorOptions,
  ) {
    super(
      position ? `${message} at line ${position.line}, column ${position.column}` : message,
      options,
    );
    this.name = "ManifestSyntaxError";
    this.line = position?.line;
    this.column = position?.column;
  }
}

/**
 * A manifest.json has a `version` this reader does not know. The message is
 * Nix's own: `profile manifest has unsupported version 4`.
 */
export class UnsupportedManifestVersionError extends ManifestError {
  /** The version found in the manifest. */
  readonly version: number;

  constructor(version: number, options?: ErrorOptions) {
    super(`profile manifest has unsupported version ${version}`, options);
    this.name = "UnsupportedManifestVersionError";
    this.version = version;
  }
}
