/**
 * The Nix under test, when it is a tree that `scripts/install-nix.sh`
 * unpacked, stands alone: it loads no library from the host. A host with
 * `nix-bin` (or only Boost) installed would otherwise hide a tree that fails
 * on a clean Debian 12, so the proof does not trust the host: the loader's
 * own trace must name only files in the tree, and the tree must run in a
 * private mount namespace where the host's library directories (and
 * /usr/libexec, where Nix 2.8 looks for its build hook) are empty.
 */

import { dirname, join } from "node:path";
import { assertEquals, assertOk } from "./helpers/testing.ts";
import { treeBuildHookLines } from "../manifest/testdata/isolated_nix.ts";

const triple = Deno.build.arch === "aarch64" ? "aarch64-linux-gnu" : "x86_64-linux-gnu";

/** The unpacked tree's top (`…/root`) behind `nix` on PATH, if it is one. */
function unpackedTree(): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    let real: string;
    try {
      real = Deno.realPathSync(join(dir || ".", "nix"));
    } catch {
      continue;
    }
    const top = dirname(dirname(dirname(real)));
    return real.endsWith("/usr/bin/nix") && top.endsWith("/root") ? top : undefined;
  }
  return undefined;
}

const tree = unpackedTree();
const ignore = tree === undefined;
if (ignore) {
  console.error("skipped: the nix on PATH is not a tree unpacked by scripts/install-nix.sh");
}

/**
 * The host's library directories and /usr/libexec, each once (with a merged /usr, /lib is a
 * link), the one holding libc last: after it is hidden, `mount` cannot run.
 */
function hostLibraryDirs(): string[] {
  const dirs = new Set<string>();
  for (const dir of ["/usr/libexec", "/usr/lib/nix", `/usr/lib/${triple}`, `/lib/${triple}`]) {
    try {
      dirs.add(Deno.realPathSync(dir));
    } catch {
      // absent on this host
    }
  }
  const hasLibc = (d: string) => {
    try {
      return Deno.statSync(join(d, "libc.so.6")).isFile;
    } catch {
      return false;
    }
  };
  return [...dirs].sort((a, b) => Number(hasLibc(a)) - Number(hasLibc(b)));
}

/** An empty environment built by Nix's builtin builder. */
const EMPTY_ENV = 'derivation { name = "empty"; system = builtins.currentSystem; ' +
  'builder = "builtin:buildenv"; derivations = [ ]; manifest = builtins.toFile "m.nix" "[ ]"; }';

function run(argv: string[], env: Record<string, string> = {}) {
  const out = new Deno.Command(argv[0], {
    args: argv.slice(1),
    env,
    stdout: "piped",
    stderr: "piped",
  })
    .outputSync();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test({
  name: "the unpacked Nix loads every library from its own tree, by the loader's trace",
  ignore,
  fn() {
    const nix = join(tree!, "usr/bin/nix");
    const trace = run([nix], { LD_TRACE_LOADED_OBJECTS: "1" });
    assertEquals(trace.code, 0, trace.stderr);
    const resolved = trace.stdout.split("\n").map((l) => l.trim()).filter((l) => l.includes("/"));
    assertOk(resolved.length > 10, trace.stdout);
    const outside = resolved.filter((line) => {
      const path = line.includes("=>") ? line.split("=>")[1].trim() : line;
      return !path.startsWith(tree + "/");
    });
    assertEquals(outside, [], `libraries from outside ${tree}`);
  },
});

Deno.test({
  name: "the unpacked Nix evaluates and adds to a store with the host's libraries hidden",
  ignore,
  fn() {
    const tmp = Deno.makeTempDirSync({ prefix: "fprof-nix-tree-" });
    try {
      Deno.writeTextFileSync(join(tmp, "hello.txt"), "hello\n");
      const conf = ["build-users-group =", "sandbox = false", ...treeBuildHookLines(), ""];
      Deno.writeTextFileSync(join(tmp, "nix.conf"), conf.join("\n"));
      const bin = join(tree!, "usr/bin/nix");
      // nix dispatches on its name: links give nix-instantiate and nix-store.
      for (const name of ["nix-instantiate", "nix-store", "nix-build"]) {
        Deno.symlinkSync(bin, join(tmp, name));
      }
      const hidden = hostLibraryDirs();
      // After the tmpfs mounts no host program runs (their libc is gone):
      // only sh's builtins and the tree's own nix.
      const script = [
        ...hidden.map((d) => `mount -t tmpfs none ${d} || exit 90`),
        `export HOME=${tmp} NIX_STORE_DIR=${tmp}/store NIX_STATE_DIR=${tmp}/var`,
        `export NIX_LOG_DIR=${tmp}/log NIX_CONF_DIR=${tmp}`,
        `${bin} --version || exit 91`,
        `${tmp}/nix-instantiate --eval --expr 'let f = a: b: a + b; in f 1 (f 2 3)' || exit 92`,
        `${tmp}/nix-store --add ${tmp}/hello.txt || exit 93`,
        // A build needs no shell with the builtin builder, but it does start
        // the build hook, which a clean host does not have in /usr/libexec.
        `exec ${tmp}/nix-build --no-out-link --expr '${EMPTY_ENV}'`,
      ].join("\n");
      // As root a private mount namespace; otherwise a user namespace too.
      const unshare = Deno.uid() === 0 ? ["unshare", "-m"] : ["unshare", "-r", "-m"];
      const out = run([...unshare, "/bin/sh", "-c", script]);
      assertEquals(out.code, 0, `${out.stdout}\n${out.stderr}`);
      const lines = out.stdout.trim().split("\n");
      assertOk(/^nix \(Nix\) \d/.test(lines[0]), out.stdout);
      assertEquals(lines[1], "6");
      assertOk(lines[3]?.startsWith(`${tmp}/store/`) && lines[3].endsWith("-empty"), out.stdout);
      assertOk(!/hook|EOF/.test(out.stderr), out.stderr);
      assertOk(lines[2].startsWith(`${tmp}/store/`) && lines[2].endsWith("-hello.txt"), out.stdout);
    } finally {
      Deno.removeSync(tmp, { recursive: true });
    }
  },
});
