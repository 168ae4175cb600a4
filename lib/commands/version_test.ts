import { assertEquals } from "../../tests/helpers/testing.ts";
import { parseNixVersion } from "../nix/nix.ts";
import { manifestFormatsRead } from "./version.ts";

Deno.test("manifestFormatsRead() follows the Nix versions that read each manifest", () => {
  const cases: [string, string][] = [
    ["nix (Nix) 2.3.16", "manifest.nix only"],
    ["nix (Nix) 2.4", "manifest.nix and manifest.json version 1"],
    ["nix (Nix) 2.8.0", "manifest.nix and manifest.json versions 1–2"],
    ["nix (Nix) 2.19.3", "manifest.nix and manifest.json versions 1–2"],
    ["nix (Nix) 2.24.9", "manifest.nix and manifest.json versions 1–3"],
    ["nix (Lix, like Nix) 2.91.1", "manifest.nix and manifest.json versions 1–3"],
  ];
  for (const [raw, formats] of cases) {
    assertEquals(manifestFormatsRead(parseNixVersion(raw)), formats, raw);
  }
});
