import { assertEquals } from "../tests/helpers/testing.ts";
import { sha256HexSync } from "./hash.ts";

const hex = (b: ArrayBuffer) =>
  Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");

Deno.test("sha256HexSync() agrees with crypto.subtle at every padding boundary", async () => {
  for (const n of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 200, 1000]) {
    const bytes = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
    assertEquals(sha256HexSync(bytes), hex(await crypto.subtle.digest("SHA-256", bytes)), `${n}`);
  }
  assertEquals(
    sha256HexSync("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});
