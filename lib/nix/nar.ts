/**
 * Serialises an in-memory file tree to a NAR (Nix ARchive), byte for byte as
 * `nix-store --dump` would serialise the same tree on disk. fprof builds
 * `nix profile` generations this way, so it can compute their
 * content-addressed store path before handing them to Nix.
 *
 * @module
 */

/** A directory: its entries by name. Names are sorted bytewise on output. */
export interface NarDirectory {
  type: "directory";
  entries: Record<string, NarNode>;
}

/** A symbolic link and its target, stored verbatim. */
export interface NarSymlink {
  type: "symlink";
  target: string;
}

/** A regular file. Only the executable bit of its mode is kept in a NAR. */
export interface NarRegular {
  type: "regular";
  contents: Uint8Array;
  executable?: boolean;
}

/** One node of a tree that {@link serializeNar} serialises. */
export type NarNode = NarDirectory | NarSymlink | NarRegular;

const encoder = new TextEncoder();

/**
 * Every token of the format is a length-prefixed, zero-padded string; these
 * are the fixed ones, encoded once.
 */
const TOKEN = {
  magic: frame(encoder.encode("nix-archive-1")),
  open: frame(encoder.encode("(")),
  close: frame(encoder.encode(")")),
  type: frame(encoder.encode("type")),
  regular: frame(encoder.encode("regular")),
  executable: frame(encoder.encode("executable")),
  empty: frame(new Uint8Array(0)),
  contents: frame(encoder.encode("contents")),
  symlink: frame(encoder.encode("symlink")),
  target: frame(encoder.encode("target")),
  directory: frame(encoder.encode("directory")),
  entry: frame(encoder.encode("entry")),
  name: frame(encoder.encode("name")),
  node: frame(encoder.encode("node")),
};

/**
 * Serialises a file tree to NAR bytes. Directory entries are written in
 * bytewise order of their UTF-8 names, as Nix does; ownership, timestamps and
 * permissions other than the executable bit are not part of the format.
 *
 * The output is assembled from chunks and copied once, so trees with tens of
 * thousands of entries stay cheap.
 *
 * @throws {TypeError} for an entry name that is empty, `.`, `..`, or contains
 * `/` or NUL: no file system can hold it, and Nix refuses it.
 *
 * @example
 * ```ts
 * import { serializeNar } from "./nar.ts";
 * const nar = serializeNar({
 *   type: "directory",
 *   entries: { bin: { type: "symlink", target: "/nix/store/…-hello/bin" } },
 * });
 * new TextDecoder().decode(nar.subarray(8, 21)); // => "nix-archive-1"
 * ```
 */
export function serializeNar(root: NarNode): Uint8Array {
  const chunks: Uint8Array[] = [TOKEN.magic];
  writeNode(root, chunks);
  let size = 0;
  for (const chunk of chunks) size += chunk.length;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function writeNode(node: NarNode, chunks: Uint8Array[]): void {
  chunks.push(TOKEN.open, TOKEN.type);
  switch (node.type) {
    case "regular":
      chunks.push(TOKEN.regular);
      if (node.executable) chunks.push(TOKEN.executable, TOKEN.empty);
      chunks.push(TOKEN.contents);
      pushString(node.contents, chunks);
      break;
    case "symlink":
      chunks.push(TOKEN.symlink, TOKEN.target);
      pushString(encoder.encode(node.target), chunks);
      break;
    case "directory": {
      chunks.push(TOKEN.directory);
      const names = Object.keys(node.entries).map((name) => {
        checkEntryName(name);
        return { name, bytes: encoder.encode(name) };
      });
      names.sort((a, b) => compareBytes(a.bytes, b.bytes));
      for (const { name, bytes } of names) {
        chunks.push(TOKEN.entry, TOKEN.open, TOKEN.name);
        pushString(bytes, chunks);
        chunks.push(TOKEN.node);
        writeNode(node.entries[name], chunks);
        chunks.push(TOKEN.close);
      }
      break;
    }
    default:
      throw new TypeError(
        `Cannot serialize NAR: unknown node type '${(node as { type: unknown }).type}'`,
      );
  }
  chunks.push(TOKEN.close);
}

// A string is its length as a little-endian u64, the bytes, and zero padding
// to a multiple of 8. The payload is pushed as is, not copied.
function pushString(bytes: Uint8Array, chunks: Uint8Array[]): void {
  chunks.push(lengthPrefix(bytes.length), bytes);
  const pad = (8 - (bytes.length % 8)) % 8;
  if (pad > 0) chunks.push(new Uint8Array(pad));
}

function frame(bytes: Uint8Array): Uint8Array {
  const pad = (8 - (bytes.length % 8)) % 8;
  const out = new Uint8Array(8 + bytes.length + pad);
  out.set(lengthPrefix(bytes.length), 0);
  out.set(bytes, 8);
  return out;
}

function lengthPrefix(length: number): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, length % 0x1_0000_0000, true);
  view.setUint32(4, Math.floor(length / 0x1_0000_0000), true);
  return out;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

function checkEntryName(name: string): void {
  if (
    name === "" || name === "." || name === ".." || name.includes("/") ||
    name.includes("\0")
  ) {
    throw new TypeError(`Cannot serialize NAR: invalid entry name '${name}'`);
  }
}
