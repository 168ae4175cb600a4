import { assertEquals, assertOk, assertThrows } from "../../tests/helpers/testing.ts";
import { FprofError } from "../errors.ts";
import { join } from "../path.ts";
import { readProfile } from "../profile/profile.ts";
import { FACTS_SCRIPT, nixSystem, parseFacts, parseState, STATE_SCRIPT } from "./inspect.ts";

/** Runs a script as ssh would on the host: `sh -s -- ARGS`, the script on stdin. */
async function sh(script: string, args: string[], env: Record<string, string> = {}) {
  const child = new Deno.Command("sh", {
    args: ["-s", "--", ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env,
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(script));
  await w.close();
  const out = await child.output();
  assertOk(out.success, new TextDecoder().decode(out.stderr));
  return out.stdout;
}

Deno.test("nixSystem names the machine as Nix does", () => {
  assertEquals(nixSystem("x86_64", "Linux"), "x86_64-linux");
  assertEquals(nixSystem("arm64", "Darwin"), "aarch64-darwin");
  assertEquals(nixSystem("aarch64", "Linux"), "aarch64-linux");
});

Deno.test("the facts script, run by sh, tells what the profile's path depends on", async () => {
  const home = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(home, ".local", "state", "nix"), { recursive: true });
    await Deno.symlink("/elsewhere/profile", join(home, ".local", "state", "nix", "profile"));
    const text = new TextDecoder().decode(
      await sh(FACTS_SCRIPT, [], {
        HOME: home,
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        NIX_STATE_DIR: "/state/",
      }),
    );
    // Nix may be missing where the unit tests run: then the facts say so.
    const hasNix = text.includes("\nnix=");
    if (!hasNix) {
      assertThrows(() => parseFacts(text, "h"), FprofError, "has no nix or nix-env");
      return;
    }
    const f = parseFacts(text, "h");
    assertEquals(f.host, Deno.hostname());
    assertEquals(f.uid, Deno.uid());
    assertEquals(f.home, home);
    assertEquals(f.stateDir, "/state");
    assertEquals(f.storeDir, "/nix/store");
    assertEquals(f.stateHome, join(home, ".local", "state"));
    assertEquals(f.links, [join(home, ".local", "state", "nix", "profile")]);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("parseFacts refuses an answer that is not the script's", () => {
  assertThrows(() => parseFacts("Welcome to lab-a!\n", "lab-a"), FprofError, "does not understand");
});

Deno.test("the state script reads a profile as readProfile does, with its manifests", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const store = join(dir, "store");
    const gens = join(dir, "profiles");
    await Deno.mkdir(gens);
    const json = '{"version":2,"elements":[]}';
    const nix = "[ ]";
    for (const [n, kind, text] of [[1, "nix", nix], [2, "json", json], [3, "json", "é\n"]]) {
      const path = join(store, `g${n}`);
      await Deno.mkdir(join(path, "bin"), { recursive: true });
      await Deno.writeTextFile(join(path, `manifest.${kind}`), String(text));
      if (n === 2) await Deno.writeTextFile(join(path, "bin", "nix"), "");
      await Deno.symlink(path, join(gens, `profile-${n}-link`));
    }
    await Deno.symlink("profile-2-link", join(gens, "profile"));
    // The path given is a link to the profile, as ~/.nix-profile is.
    await Deno.symlink(join(gens, "profile"), join(dir, "nix-profile"));
    const out = await sh(STATE_SCRIPT, [
      join(dir, "nix-profile"),
      "current",
      join(store, "g3"),
      join(store, "gone"),
    ]);
    const { state, paths } = parseState(out, "h");
    const local = await readProfile(join(gens, "profile"));
    assertEquals(state.profile, local.profile);
    assertEquals(state.current?.number, 2);
    assertEquals(
      state.generations.map((g) => [g.number, g.link, g.storePath, Math.floor(+g.date / 1000)]),
      local.generations.map((g) => [g.number, g.link, g.storePath, Math.floor(+g.date / 1000)]),
    );
    assertEquals(paths.get(join(store, "g2"))?.manifest, { kind: "json", text: json });
    assertEquals(paths.get(join(store, "g2"))?.hasNix, true);
    // Bytes, not characters: a manifest with a multi-byte character and a
    // final newline is read whole.
    assertEquals(paths.get(join(store, "g3"))?.manifest, { kind: "json", text: "é\n" });
    assertEquals(paths.get(join(store, "g3"))?.hasNix, false);
    assertEquals(paths.get(join(store, "gone"))?.missing, true);
    assertEquals(paths.has(join(store, "g1")), false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseState: a new profile, a deleted current link, and paths without a manifest", () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const fresh = parseState(enc("profile=/p/profile\n"), "h");
  assertEquals(fresh.state, { profile: "/p/profile", generations: [], current: null });
  const deleted = parseState(
    enc("profile=/p/profile\ntarget=profile-3-link\ngen=2\t10\t/s/a\n"),
    "h",
  );
  assertEquals(deleted.state.missing, 3);
  assertEquals(deleted.state.current, null);
  const refs = parseState(
    enc("profile=/p/x\nrefs=/s/e\nref=/s/e\t/s/a-1\nref=/s/e\t/s/b-2\n"),
    "h",
  );
  assertEquals(refs.paths.get("/s/e")?.references, ["/s/a-1", "/s/b-2"]);
  assertEquals(refs.paths.get("/s/e")?.manifest, null);
  assertThrows(
    () => parseState(enc("profile=/p/profile\nnotlink=1\n"), "h"),
    FprofError,
    "'h:/p/profile' is not a profile",
  );
  assertThrows(
    () => parseState(enc("profile=/p/profile\ntarget=/etc\n"), "h"),
    FprofError,
    "not to a generation link",
  );
});
