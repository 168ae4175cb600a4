import { assertEquals } from "../../tests/helpers/testing.ts";
import { join } from "../path.ts";
import {
  checkOverlapsCached,
  isProfileBin,
  linkedProvider,
  readCollisions,
  readPathFacts,
  readProvided,
} from "./provided.ts";
import { providersOf } from "./overlaps.ts";
import { Logger } from "../log/log.ts";

/** readCollisions() on the packages' files as the store has them. */
function collisionsOf(env: string, packages: Parameters<typeof providersOf>[0], store: string) {
  const providers = providersOf(packages);
  return readCollisions(env, providers, readProvided(providers).provided, store);
}

/**
 * A fake store under a temporary directory: two packages with `bin/hello`,
 * an environment whose `bin/hello` links the second one's, and a profile
 * (`profile -> profile-1-link -> env`) with `~/.nix-profile` linked to it.
 */
async function fakeStore() {
  const root = await Deno.makeTempDir();
  const store = join(root, "store");
  const a = join(store, "aaa-hello-1.0");
  const b = join(store, "bbb-hello-alt-1.0");
  const env = join(store, "eee-profile");
  for (const p of [a, b]) {
    await Deno.mkdir(join(p, "bin"), { recursive: true });
    await Deno.writeTextFile(join(p, "bin", "hello"), "#!/bin/sh\n", { mode: 0o755 });
  }
  await Deno.mkdir(join(env, "bin"), { recursive: true });
  await Deno.symlink(join(b, "bin", "hello"), join(env, "bin", "hello"));
  const profiles = join(root, "profiles");
  await Deno.mkdir(profiles);
  await Deno.symlink(env, join(profiles, "profile-1-link"));
  await Deno.symlink("profile-1-link", join(profiles, "profile"));
  await Deno.symlink(join(profiles, "profile"), join(root, ".nix-profile"));
  const packages = [
    { name: "hello", version: "1.0", storePaths: [a] },
    { name: "hello-alt", version: "1.0", storePaths: [b] },
  ];
  return { root, store, a, b, env, profile: join(profiles, "profile"), packages };
}

Deno.test("linkedProvider() follows links until one leads into a package", async () => {
  const s = await fakeStore();
  try {
    const paths = new Set([s.a, s.b]);
    assertEquals(linkedProvider(s.env, "bin/hello", paths, s.store), s.b);
    assertEquals(linkedProvider(s.profile, "bin/hello", paths, s.store), s.b);
    assertEquals(linkedProvider(s.env, "bin/nope", paths, s.store), null);
  } finally {
    await Deno.remove(s.root, { recursive: true });
  }
});

Deno.test("readCollisions() names both packages and the one the environment links", async () => {
  const s = await fakeStore();
  try {
    const [w] = collisionsOf(s.env, s.packages, s.store);
    assertEquals(w.kind === "collision" && [w.file, w.winner?.name], ["bin/hello", "hello-alt"]);
  } finally {
    await Deno.remove(s.root, { recursive: true });
  }
});

Deno.test("readCollisions() skips a directory the environment links whole", async () => {
  const s = await fakeStore();
  try {
    await Deno.remove(join(s.env, "bin"), { recursive: true });
    await Deno.symlink(join(s.b, "bin"), join(s.env, "bin"));
    assertEquals(collisionsOf(s.env, s.packages, s.store), []);
  } finally {
    await Deno.remove(s.root, { recursive: true });
  }
});

Deno.test("isProfileBin() knows the profile's bin through a link, not another profile's", async () => {
  const s = await fakeStore();
  try {
    const own = isProfileBin(s.profile, s.store);
    assertEquals(own(join(s.root, ".nix-profile", "bin")), true);
    assertEquals(own(`${s.profile}/bin/`), true);
    assertEquals(own(join(s.root, ".nix-profile")), false);
    // Another profile at the very same generation is not this one.
    const other = join(s.root, "profiles", "other");
    await Deno.symlink(s.env, other);
    assertEquals(own(join(other, "bin")), false);
  } finally {
    await Deno.remove(s.root, { recursive: true });
  }
});

Deno.test("readPathFacts() lists the profile's commands that earlier directories have", async () => {
  const s = await fakeStore();
  try {
    const early = join(s.root, "early");
    await Deno.mkdir(early);
    await Deno.writeTextFile(join(early, "hello"), "#!/bin/sh\n", { mode: 0o755 });
    await Deno.writeTextFile(join(early, "jq"), "not a program\n", { mode: 0o644 });
    const path = [early, join(s.root, ".nix-profile", "bin"), "relative/bin"].join(":");
    assertEquals(readPathFacts(s.profile, path, (n) => ["hello", "jq"].includes(n), s.store), {
      bin: join(s.root, ".nix-profile", "bin"),
      onPath: true,
      earlier: [{ directory: early, commands: ["hello"] }],
    });
    assertEquals(readPathFacts(s.profile, early, (n) => n === "hello", s.store).onPath, false);
  } finally {
    await Deno.remove(s.root, { recursive: true });
  }
});

Deno.test("checkOverlapsCached() reads a package's files once, then from its caches", async () => {
  const s = await fakeStore();
  try {
    const q = {
      envPath: s.env,
      packages: s.packages,
      profile: s.profile,
      path: "",
      storeDir: s.store,
    };
    const dir = join(s.root, "cache");
    const cache = { files: join(dir, "files.json"), env: join(dir, "env.json"), log: new Logger() };
    const first = await checkOverlapsCached(q, cache);
    assertEquals(first.map((w) => w.kind), ["collision", "not-on-path"]);
    // Store paths are immutable: what the caches say of them is believed.
    await Deno.remove(join(s.a, "bin", "hello"));
    assertEquals(await checkOverlapsCached(q, cache), first);
    await Deno.remove(cache.env);
    assertEquals(await checkOverlapsCached(q, cache), first, "the files of the packages");
    // Without either cache, the store is read again.
    await Deno.remove(cache.env);
    await Deno.remove(cache.files);
    assertEquals((await checkOverlapsCached(q, cache)).map((w) => w.kind), ["not-on-path"]);
  } finally {
    await Deno.remove(s.root, { recursive: true });
  }
});
