/**
 * Runs fprof inside a {@link NixSandbox}, as its user would.
 *
 * As the test's own user the sources run directly. In a daemon or
 * single-user sandbox commands run as an unprivileged user who cannot read
 * the host's Deno cache or, often, the checkout, so fprof is bundled once (`deno bundle`, which inlines the npm
 * dependencies) and the bundle and the Deno binary are copied to a
 * world-readable place in the sandbox.
 *
 * @module
 */

import { userInfo } from "node:os";
import { join } from "node:path";
import type { NixSandbox, RunOptions, RunResult } from "./sandbox.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

const bundles = new WeakMap<NixSandbox, Promise<{ deno: string; bundle: string }>>();

async function bundleFor(sb: NixSandbox): Promise<{ deno: string; bundle: string }> {
  const dir = join(sb.root, "fprof-bin");
  await Deno.mkdir(dir, { recursive: true });
  const deno = join(dir, "deno");
  const bundle = join(dir, "fprof.js");
  await Deno.copyFile(Deno.execPath(), deno);
  await Deno.chmod(deno, 0o755);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform=deno", "-o", bundle, MAIN],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(`deno bundle failed: ${new TextDecoder().decode(out.stderr)}`);
  await Deno.chmod(bundle, 0o644);
  await Deno.chmod(dir, 0o755);
  return { deno, bundle };
}

/** Runs `fprof ARGS` in the sandbox with its environment (and user). */
export async function fprof(
  sb: NixSandbox,
  args: string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const env = { NO_COLOR: "1", ...opts.env };
  if (sb.user === userInfo().username) {
    return await sb.run([Deno.execPath(), "run", "-A", "--quiet", MAIN, ...args], { ...opts, env });
  }
  if (!bundles.has(sb)) bundles.set(sb, bundleFor(sb));
  const { deno, bundle } = await bundles.get(sb)!;
  return await sb.run([deno, "run", "-A", "--quiet", "--no-remote", "--no-npm", bundle, ...args], {
    ...opts,
    env: { DENO_DIR: join(sb.home, ".cache", "deno"), ...env },
  });
}

/** Like {@link fprof}, but throws with the output when fprof fails. */
export async function fprofOk(
  sb: NixSandbox,
  args: string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const r = await fprof(sb, args, opts);
  if (r.code !== 0) {
    throw new Error(
      `fprof ${args.join(" ")} exited ${r.code}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`,
    );
  }
  return r;
}

/** A snapshot of everything fprof may change: profile links and records. */
export async function snapshot(sb: NixSandbox): Promise<string> {
  const lines: string[] = [];
  const walk = async (dir: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isSymlink) lines.push(`${p} -> ${await Deno.readLink(p)}`);
      else if (e.isDirectory) await walk(p);
      else if (!e.name.endsWith(".lock")) {
        lines.push(`${p}: ${await Deno.readTextFile(p).catch(() => "?")}`);
      }
    }
  };
  await walk(join(sb.stateDir, "profiles"));
  await walk(join(sb.xdgState, "fprof"));
  return lines.join("\n");
}
