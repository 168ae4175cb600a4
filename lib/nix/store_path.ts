/**
 * Store path arithmetic, without a store: Nix's base-32, SHA-256 hash
 * formats, store path computation for content-addressed paths, and
 * `.narinfo` text for a local `file://` binary cache.
 *
 * `nix profile` makes each generation a content-addressed path (the NAR of
 * the symlink tree plus `manifest.json`), and an untrusted user may add such a
 * path without signatures. fprof computes that path itself so that it can
 * hand Nix a ready-made NAR.
 *
 * @module
 */

/** Nix's base-32 alphabet: digits and lower-case letters without e, o, t, u. */
const NIX32_ALPHABET = "0123456789abcdfghijklmnpqrsvwxyz";
const NIX32_VALUE: ReadonlyMap<string, number> = new Map(
  [...NIX32_ALPHABET].map((c, i) => [c, i]),
);

/** SHA-256 digest size in bytes. */
const SHA256_SIZE = 32;
/** Store path hash parts are SHA-256 folded to 160 bits. */
const STORE_PATH_HASH_SIZE = 20;
/** Longest store path name Nix accepts. */
const MAX_NAME_LENGTH = 211;

/**
 * Encodes bytes in Nix's base-32. Nix reads the bytes from the *end*, five
 * bits at a time, so the result is not RFC 4648 base32 of any byte order.
 *
 * @example
 * ```ts
 * import { nix32Encode } from "./store_path.ts";
 * nix32Encode(new Uint8Array([0xff])); // => "7z"
 * ```
 */
export function nix32Encode(bytes: Uint8Array): string {
  const length = Math.ceil(bytes.length * 8 / 5);
  let out = "";
  for (let n = length - 1; n >= 0; n--) {
    const bit = n * 5;
    const i = bit >> 3;
    const j = bit & 7;
    const low = bytes[i] >> j;
    const high = i + 1 < bytes.length ? bytes[i + 1] << (8 - j) : 0;
    out += NIX32_ALPHABET[(low | high) & 0x1f];
  }
  return out;
}

/**
 * Decodes Nix's base-32 (the inverse of {@link nix32Encode}).
 *
 * @throws {TypeError} when the text has a character outside the alphabet, or
 * bits beyond the decoded length (Nix rejects those too).
 *
 * @example
 * ```ts
 * import { nix32Decode } from "./store_path.ts";
 * nix32Decode("7z"); // => Uint8Array [ 255 ]
 * ```
 */
export function nix32Decode(text: string): Uint8Array {
  const size = Math.floor(text.length * 5 / 8);
  const bytes = new Uint8Array(size);
  for (let n = 0; n < text.length; n++) {
    const char = text[text.length - n - 1];
    const digit = NIX32_VALUE.get(char);
    if (digit === undefined) {
      throw new TypeError(
        `Cannot decode base-32: invalid character '${char}' in '${text}'`,
      );
    }
    const bit = n * 5;
    const i = bit >> 3;
    const j = bit & 7;
    bytes[i] |= (digit << j) & 0xff;
    const carry = digit >> (8 - j);
    if (i + 1 < size) bytes[i + 1] |= carry;
    else if (carry !== 0) {
      throw new TypeError(`Cannot decode base-32: '${text}' has excess bits`);
    }
  }
  return bytes;
}

/**
 * SHA-256 of bytes or of a string's UTF-8 encoding, with WebCrypto (which,
 * unlike `node:crypto`, does not load Deno's Node compatibility layer).
 *
 * @example
 * ```ts
 * import { sha256 } from "./store_path.ts";
 * (await sha256("")).length; // => 32
 * ```
 */
export async function sha256(data: Uint8Array | string): Promise<Uint8Array> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
}

/**
 * Folds a hash to `size` bytes by XOR-ing byte `i` into `i % size`, as Nix does
 * to turn a SHA-256 into the 160-bit hash part of a store path.
 *
 * @example
 * ```ts
 * import { compressHash } from "./store_path.ts";
 * compressHash(new Uint8Array([1, 2, 4]), 2); // => Uint8Array [ 5, 2 ]
 * ```
 */
export function compressHash(hash: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < hash.length; i++) out[i % size] ^= hash[i];
  return out;
}

/** The textual forms of a SHA-256 that {@link formatSha256} writes. */
export type HashFormat = "sri" | "nix32" | "base16";

/**
 * Writes a SHA-256 digest the way Nix prints it: `"sri"` gives
 * `sha256-<base64>`, `"nix32"` gives `sha256:<base-32>` (the form of
 * `.narinfo` files and `ca` fields) and `"base16"` gives `sha256:<hex>`.
 *
 * @example
 * ```ts
 * import { formatSha256, sha256 } from "./store_path.ts";
 * formatSha256(await sha256(""), "nix32");
 * // => "sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73"
 * ```
 */
export function formatSha256(digest: Uint8Array, format: HashFormat): string {
  checkDigest(digest);
  switch (format) {
    case "sri":
      return `sha256-${toBase64(digest)}`;
    case "nix32":
      return `sha256:${nix32Encode(digest)}`;
    case "base16":
      return `sha256:${toHex(digest)}`;
  }
}

/**
 * Reads a SHA-256 in any form Nix prints or accepts: SRI (`sha256-<base64>`),
 * or `sha256:` followed by hex, base-32 or base64, or bare hex or base-32.
 *
 * @throws {TypeError} when the text is not a SHA-256 in one of those forms.
 *
 * @example
 * ```ts
 * import { formatSha256, parseSha256 } from "./store_path.ts";
 * const digest = parseSha256("sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
 * formatSha256(digest, "nix32");
 * // => "sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73"
 * ```
 */
export function parseSha256(text: string): Uint8Array {
  const fail = () => new TypeError(`Cannot parse hash: '${text}' is not a SHA-256 hash`);
  let rest: string;
  if (text.startsWith("sha256-")) {
    const digest = fromBase64(text.slice("sha256-".length));
    if (digest?.length !== SHA256_SIZE) throw fail();
    return digest;
  } else if (text.startsWith("sha256:")) {
    rest = text.slice("sha256:".length);
  } else {
    rest = text;
  }
  let digest: Uint8Array | undefined;
  if (rest.length === 64 && /^[0-9a-fA-F]+$/.test(rest)) {
    digest = fromHex(rest);
  } else if (rest.length === 52) {
    try {
      digest = nix32Decode(rest);
    } catch {
      digest = undefined;
    }
  } else if (rest.length === 44 && rest !== text) {
    digest = fromBase64(rest);
  }
  if (digest?.length !== SHA256_SIZE) throw fail();
  return digest;
}

/** The parts of a store path. */
export interface StorePathParts {
  /** The store directory, e.g. `/nix/store`. */
  storeDir: string;
  /** The 32-character base-32 hash part. */
  hashPart: string;
  /** The name after the hash, e.g. `hello-2.12`. */
  name: string;
}

// The hash part is exactly 32 base-32 characters; the alphabet has no e, o, t, u.
const STORE_PATH_RE = /^(\/.*)\/([0-9a-df-np-sv-z]{32})-([^/]+)$/;

/**
 * Splits a store path into store directory, hash part and name. The store
 * directory may be non-standard (`/tmp/x/store`).
 *
 * @throws {TypeError} when the path is not of the form `<dir>/<hash>-<name>`.
 *
 * @example
 * ```ts
 * import { parseStorePath } from "./store_path.ts";
 * parseStorePath("/nix/store/ry3wji0qjghzb55bgp6babkivblpiyim-hello-2.12").name;
 * // => "hello-2.12"
 * ```
 */
export function parseStorePath(path: string): StorePathParts {
  const m = STORE_PATH_RE.exec(path);
  if (!m) throw new TypeError(`'${path}' is not a store path`);
  return { storeDir: m[1], hashPart: m[2], name: m[3] };
}

/**
 * Whether `path` has the form of a store path (see {@link parseStorePath}).
 *
 * @example
 * ```ts
 * import { isStorePath } from "./store_path.ts";
 * isStorePath("/nix/store/ry3wji0qjghzb55bgp6babkivblpiyim-hello-2.12"); // => true
 * isStorePath("/usr/bin/hello"); // => false
 * ```
 */
export function isStorePath(path: string): boolean {
  return STORE_PATH_RE.test(path);
}

/**
 * Computes a store path from its fingerprint
 * `<type>:sha256:<hashHex>:<storeDir>:<name>`, as Nix's `makeStorePath` does.
 *
 * @param type `source`, `text`, `output:out`, … followed by `:`-joined
 * references where the type has them (see {@link makeFixedOutputPathRecursive}).
 * @param hashHex The inner SHA-256 in lower-case hex.
 * @throws {TypeError} when the name or store directory is not valid for Nix.
 *
 * @example
 * ```ts
 * import { makeStorePath, sha256 } from "./store_path.ts";
 * const hex = Array.from(await sha256(""), (b) => b.toString(16).padStart(2, "0")).join("");
 * (await makeStorePath("source", hex, "empty", "/nix/store")).startsWith("/nix/store/");
 * // => true
 * ```
 */
export async function makeStorePath(
  type: string,
  hashHex: string,
  name: string,
  storeDir: string,
): Promise<string> {
  checkName(name);
  if (!storeDir.startsWith("/") || storeDir.endsWith("/")) {
    throw new TypeError(
      `Invalid store directory '${storeDir}': it must be absolute, without a trailing '/'`,
    );
  }
  const fingerprint = `${type}:sha256:${hashHex}:${storeDir}:${name}`;
  const hashPart = compressHash(await sha256(fingerprint), STORE_PATH_HASH_SIZE);
  return `${storeDir}/${nix32Encode(hashPart)}-${name}`;
}

/**
 * The store path of a NAR-hashed (`FileIngestionMethod::Recursive`, sha256)
 * content-addressed path with references, such as a `nix profile`
 * generation: `makeStorePath("source:" + refs, narHash, name)`, where refs
 * are the reference paths sorted and each preceded by `:`.
 *
 * @param narSha256 The SHA-256 of the path's NAR, as bytes or any form
 * {@link parseSha256} reads.
 * @param references Full store paths the content refers to (no self reference).
 *
 * @example
 * ```ts
 * import { makeFixedOutputPathRecursive, sha256 } from "./store_path.ts";
 * (await makeFixedOutputPathRecursive(await sha256("nar"), "profile", [], "/nix/store"))
 *   .endsWith("-profile"); // => true
 * ```
 */
export async function makeFixedOutputPathRecursive(
  narSha256: Uint8Array | string,
  name: string,
  references: readonly string[],
  storeDir: string,
): Promise<string> {
  const digest = typeof narSha256 === "string" ? parseSha256(narSha256) : narSha256;
  checkDigest(digest);
  // A reference set: Nix keeps them in a sorted set, so duplicates vanish.
  // Sorting full paths equals sorting base names, since one store dir is shared.
  const refs = [...new Set(references)].sort();
  for (const ref of refs) parseStorePath(ref);
  const type = ["source", ...refs].join(":");
  return await makeStorePath(type, toHex(digest), name, storeDir);
}

/**
 * The `ca` field of a NAR-hashed content-addressed path:
 * `fixed:r:sha256:<base-32>`.
 *
 * @example
 * ```ts
 * import { fixedOutputCa, sha256 } from "./store_path.ts";
 * fixedOutputCa(await sha256("")); // => "fixed:r:sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73"
 * ```
 */
export function fixedOutputCa(narSha256: Uint8Array | string): string {
  const digest = typeof narSha256 === "string" ? parseSha256(narSha256) : narSha256;
  return `fixed:r:${formatSha256(digest, "nix32")}`;
}

/** What {@link narinfoText} needs to describe one path of a binary cache. */
export interface NarInfoFields {
  /** The full store path. */
  storePath: string;
  /** Where the NAR is, relative to the cache root, e.g. `nar/<hash>.nar`. */
  url: string;
  /** SHA-256 of the NAR, as bytes or any form {@link parseSha256} reads. */
  narHash: Uint8Array | string;
  /** Size of the NAR in bytes. */
  narSize: number;
  /** Referenced store paths, as full paths or base names. */
  references: readonly string[];
  /** The content address, e.g. from {@link fixedOutputCa}. */
  ca?: string;
}

/**
 * The text of a `.narinfo` file for an uncompressed NAR in a `file://` binary
 * cache, with fields in the order Nix writes them. References are written as
 * sorted base names, NarHash as `sha256:<base-32>`.
 *
 * @example
 * ```ts
 * import { narinfoText } from "./store_path.ts";
 * narinfoText({
 *   storePath: "/nix/store/ry3wji0qjghzb55bgp6babkivblpiyim-hello-2.12",
 *   url: "nar/hello.nar",
 *   narHash: "sha256:0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73",
 *   narSize: 120,
 *   references: [],
 * }).split("\n")[2]; // => "Compression: none"
 * ```
 */
export function narinfoText(info: NarInfoFields): string {
  parseStorePath(info.storePath);
  if (!Number.isSafeInteger(info.narSize) || info.narSize <= 0) {
    throw new TypeError(`Invalid NAR size ${info.narSize}`);
  }
  const digest = typeof info.narHash === "string" ? parseSha256(info.narHash) : info.narHash;
  const refs = [...new Set(info.references.map(baseName))].sort();
  const lines = [
    `StorePath: ${info.storePath}`,
    `URL: ${info.url}`,
    "Compression: none",
    `NarHash: ${formatSha256(digest, "nix32")}`,
    `NarSize: ${info.narSize}`,
    `References: ${refs.join(" ")}`,
  ];
  if (info.ca !== undefined) lines.push(`CA: ${info.ca}`);
  return lines.join("\n") + "\n";
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

// Nix's checkName: limited characters, no leading dot, at most 211 bytes.
function checkName(name: string): void {
  if (name === "" || name.length > MAX_NAME_LENGTH) {
    throw new TypeError(
      `Invalid store path name '${name}': it must have 1 to ${MAX_NAME_LENGTH} characters`,
    );
  }
  if (name.startsWith(".")) {
    throw new TypeError(
      `Invalid store path name '${name}': it must not start with '.'`,
    );
  }
  const bad = /[^A-Za-z0-9+\-._?=]/.exec(name);
  if (bad) {
    throw new TypeError(
      `Invalid store path name '${name}': character '${bad[0]}' is not allowed`,
    );
  }
}

function checkDigest(digest: Uint8Array): void {
  if (digest.length !== SHA256_SIZE) {
    throw new TypeError(
      `Invalid SHA-256 digest: expected ${SHA256_SIZE} bytes, got ${digest.length}`,
    );
  }
}

function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }
  return out;
}

function toBase64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

function fromBase64(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
    return undefined;
  }
  const raw = atob(text);
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}
