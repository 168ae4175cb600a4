/**
 * `fprof init`: write one of the project's templates into a directory,
 * optionally declaring the packages the current profile already has, and say
 * what to run next.
 *
 * @module
 */

import { exists } from "../fs.ts";
import { writeOut } from "../log/log.ts";
import { replaceFile } from "../safe_write.ts";
import { join, resolve } from "../path.ts";
import type { Context } from "../context.ts";
import { profileOf } from "../place.ts";
import { FprofError, UsageError } from "../errors.ts";
import { readGenerationContents } from "../profile/generation.ts";
import { readProfile } from "../profile/profile.ts";
import type { ProfilePackage } from "../../manifest/types.ts";
import { isBareAttrName, printString } from "../../manifest/nix_manifest.ts";
import { initFlakeDir } from "../nix/flake_ref.ts";
// Imported as text, so that bundles and compiled binaries carry them.
import defaultTemplate from "../../templates/default/flake.nix" with { type: "text" };
import noFlakeTemplate from "../../templates/no-flake/default.nix" with { type: "text" };
import library from "../../nix/lib.nix" with { type: "text" };

/**
 * Each template imports fprof's Nix library from this file beside it, so a
 * profile needs no input but nixpkgs.
 */
export const LIBRARY_FILE = "fprof.nix";

/** Options of `fprof init`. */
export interface InitOptions {
  profile?: string;
  template?: string;
  fromCurrent?: boolean;
  force?: boolean;
  /** The flake URL to write as the template's nixpkgs input. */
  nixpkgs?: string;
  /** Print what was written as JSON on stdout. */
  json?: boolean;
}

/** The document `fprof init --json` prints (schema in docs/commands.md). */
export interface InitJson {
  template: string;
  /** The files written: the template's, then the library beside it. */
  files: string[];
  /** The nixpkgs written into the flake, when not the template's own. */
  nixpkgs: string | null;
  /** The command that switches to it. */
  next: string;
}

/** The templates `init` can write, and the file each one consists of. */
export const TEMPLATES: Record<string, { file: string; text: string; paths: RegExp }> = {
  // `paths` matches the template's example package list, which
  // `--from-current` replaces.
  default: {
    file: "flake.nix",
    text: defaultTemplate,
    paths: /^( *)shared = \{ inherit \(pkgs\) [^}]*\};\n/m,
  },
  "no-flake": {
    file: "default.nix",
    text: noFlakeTemplate,
    paths: /^( *)paths = \{ inherit \(pkgs\) [^}]*\};\n/m,
  },
};

/** The default template's nixpkgs input line, which `--nixpkgs` replaces. */
const NIXPKGS_INPUT = /^( *)inputs\.nixpkgs\.url = "[^"]*";$/m;

/** The flake template text with `url` as its nixpkgs input; pure. */
export function withNixpkgs(text: string, url: string): string {
  if (!NIXPKGS_INPUT.test(text)) throw new Error("the template has no nixpkgs input to set");
  return text.replace(
    NIXPKGS_INPUT,
    (_, indent) => `${indent}inputs.nixpkgs.url = ${printString(url)};`,
  );
}

/**
 * The flake the current profile's packages came from, as manifest.json
 * records it, for the nixpkgs input of `init --from-current`; the one most
 * packages name, or undefined when none names one. Pure.
 *
 * Only packages a package set provides count (`legacyPackages.<system>.…`
 * or `packages.<system>.…`): one that fprof switched from a profile flake
 * (`….profile.packages.hello`) names that flake, which is no nixpkgs. The URL as installed
 * (`originalUrl`) is kept, so that `fprof upgrade` still moves it, unless it
 * is a registry name (`nixpkgs`, `flake:nixpkgs`), which means another
 * flake on another machine: then the locked URL it resolved to.
 */
export function nixpkgsFromManifest(packages: readonly ProfilePackage[]): string | undefined {
  const counts = new Map<string, number>();
  for (const p of packages) {
    const parts = p.attrPath?.split(".") ?? [];
    // fprof's own record of a profile's package is `<profile>.packages.<name>`.
    const fromSet = /^(legacyPackages|packages)$/.test(parts[0]) && parts.length > 2 &&
      parts.at(-2) !== "packages";
    const url = isRegistryName(p.originalSource) ? p.source : p.originalSource ?? p.source;
    if (fromSet && url) counts.set(url, (counts.get(url) ?? 0) + 1);
  }
  let best: string | undefined;
  for (const [url, n] of counts) if (best === undefined || n > counts.get(best)!) best = url;
  return best;
}

/** Whether a flake URL is an indirect one, resolved through the registry. */
function isRegistryName(url: string | undefined): boolean {
  return url !== undefined && (url.startsWith("flake:") || /^[\w-]+(\/[^:]*)?$/.test(url));
}

/** One line of a generated package list. */
export interface DeclaredPackage {
  /** The attribute under `pkgs`, such as `hello` or `python3Packages.requests`. */
  attr?: string;
  /** Why the attribute is a guess, or why there is none. */
  note?: string;
  /** `pname-version`, for the comment. */
  fullName: string;
  storePath: string;
}

/**
 * The attribute each package of the current profile is declared with. A
 * `nix profile` element names its attribute (`legacyPackages.<system>.hello`,
 * or fprof's own `….packages.hello`); for a nix-env element the package name
 * is the best guess there is, and it is marked as one. A name that cannot be
 * an attribute becomes a comment. Pure.
 */
export function declarePackages(packages: readonly ProfilePackage[]): DeclaredPackage[] {
  return packages.map((p) => {
    const fullName = p.version === "" ? p.name : `${p.name}-${p.version}`;
    const base = { fullName, storePath: p.storePaths[0] ?? "" };
    if (p.attrPath) {
      const attr = attrUnderPkgs(p.attrPath);
      if (attr) return { ...base, attr };
    }
    if (isBareAttrName(p.name)) {
      return { ...base, attr: p.name, note: "attribute guessed from the package name" };
    }
    return { ...base, note: "no attribute name is known" };
  });
}

/** `pkgs.<result>` for a flake attribute path, or undefined. */
function attrUnderPkgs(attrPath: string): string | undefined {
  const parts = attrPath.split(".");
  const at = parts.lastIndexOf("packages");
  // legacyPackages.<system>.x.y, packages.<system>.x, or fprof's <attr>.packages.x
  let rest: string[];
  if (/^(legacyPackages|packages)$/.test(parts[0]) && parts.length > 2) rest = parts.slice(2);
  else if (at >= 0 && at < parts.length - 1) rest = parts.slice(at + 1);
  else return undefined;
  if (rest.at(-2) === "packages") rest = rest.slice(-1);
  return rest.every(isBareAttrName) ? rest.join(".") : undefined;
}

/**
 * The Nix text of an attrset of `declared`, indented by `indent`, assigned to
 * `key`: `hello = pkgs.hello;` per package, comments for the rest. Pure.
 */
export function packageListNix(
  key: string,
  declared: readonly DeclaredPackage[],
  indent: string,
  origin: string,
): string {
  const inner = indent + "  ";
  const lines = [`${indent}${key} = {`, `${inner}# ${origin}`];
  const seen = new Set<string>();
  for (const d of declared) {
    const name = d.attr?.split(".").at(-1);
    if (d.attr && name && !seen.has(name)) {
      seen.add(name);
      const note = d.note ? ` # ${d.note} (${d.fullName})` : "";
      lines.push(`${inner}${name} = pkgs.${d.attr};${note}`);
    } else {
      lines.push(`${inner}# ${d.fullName}: ${d.note ?? "listed twice"}; was ${d.storePath}`);
    }
  }
  lines.push(`${indent}};`);
  return lines.join("\n") + "\n";
}

/** The template text with its example packages replaced by `declared`; pure. */
export function fillTemplate(
  name: string,
  text: string,
  declared: readonly DeclaredPackage[],
  origin: string,
): string {
  const t = TEMPLATES[name];
  const m = t.paths.exec(text);
  if (!m) throw new Error(`template '${name}' has no package list to fill`);
  const key = m[0].trim().split(" ")[0];
  let out = text.replace(t.paths, packageListNix(key, declared, m[1], origin));
  // The example machines add packages of their own; a profile made from the
  // current one starts with the same packages on every machine.
  out = out.replace(/^( *)cli = \{ inherit \(pkgs\) [^}]*\};\n/gm, "")
    .replace(/^( *)gui = \{ inherit \(pkgs\) [^}]*\};\n/gm, "");
  return out;
}

/**
 * The directory `init` writes to: the argument, else
 * `$XDG_CONFIG_HOME/fprof/profile`, else (no `HOME` either) `.`.
 */
export function initDir(arg: string | undefined, env: Context["env"]): string {
  if (arg !== undefined) return resolve(arg);
  try {
    return initFlakeDir(env);
  } catch {
    return resolve(".");
  }
}

/** The command that switches to what `init` wrote; pure. */
export function nextCommand(template: string, dir: string): string {
  const q = /^[\w@%+=:,./-]+$/.test(dir) ? dir : `'${dir.replaceAll("'", `'\\''`)}'`;
  return template === "no-flake"
    ? `fprof switch "$(nix-build --no-out-link ${q} -A profile)"`
    : `fprof switch ${q}`;
}

/** Runs `fprof init`. */
export async function init(
  dirArg: string | undefined,
  opts: InitOptions,
  ctx: Context,
): Promise<void> {
  const name = opts.template ?? "default";
  const template = Object.hasOwn(TEMPLATES, name) ? TEMPLATES[name] : undefined;
  if (!template) {
    throw new UsageError(`unknown template '${name}'`, {
      hint: `templates: ${Object.keys(TEMPLATES).join(", ")}`,
    });
  }
  checkNixpkgsOption(name, opts.nixpkgs);
  const dir = initDir(dirArg, ctx.env);
  if ((await Deno.stat(dir).catch(() => null))?.isDirectory === false) {
    throw new FprofError(`'${dir}' is a file, not a directory`, {
      hint: "name the directory to write the profile flake in",
    });
  }
  const target = join(dir, template.file);
  const libraryTarget = join(dir, LIBRARY_FILE);
  for (const file of [target, libraryTarget]) {
    if (!opts.force && await exists(file)) {
      throw new FprofError(`'${file}' exists already`, {
        hint: "pass --force to overwrite it, or name another directory",
      });
    }
  }
  const current = opts.fromCurrent ? await fromCurrent(name, opts, ctx) : undefined;
  let text = current?.text ?? template.text;
  const nixpkgs = opts.nixpkgs ?? current?.nixpkgs;
  if (nixpkgs !== undefined && name === "default") {
    text = withNixpkgs(text, nixpkgs);
    if (opts.nixpkgs === undefined) {
      ctx.log.step(`nixpkgs: ${nixpkgs}, the flake the packages came from`);
    }
  }
  // Written aside and renamed: a link at either name is replaced, never
  // written through.
  for (const [file, content] of [[target, text], [libraryTarget, library]]) {
    await replaceFile(file, content, { tmp: `${file}.${Deno.pid}.tmp` });
  }
  ctx.log.step(`wrote '${target}' and '${LIBRARY_FILE}' beside it (fprof's Nix library)`);
  ctx.log.step(`next: list your packages in it, then run: ${nextCommand(name, dir)}`);
  if (opts.json) {
    const doc: InitJson = {
      template: name,
      files: [target, libraryTarget],
      nixpkgs: name === "default" ? nixpkgs ?? null : null,
      next: nextCommand(name, dir),
    };
    await writeOut(JSON.stringify(doc, null, 2) + "\n");
  }
}

/** Refuses a `--nixpkgs` the template cannot take. */
function checkNixpkgsOption(template: string, url: string | undefined): void {
  if (url === undefined) return;
  if (template !== "default") {
    throw new UsageError(`--nixpkgs sets the flake template's input; '${template}' has none`, {
      hint: "the no-flake template pins nixpkgs by hash: edit rev and sha256 in its default.nix",
    });
  }
  if (url.trim() === "") {
    throw new UsageError("--nixpkgs needs a flake URL", {
      hint: "give one such as path:/src/nixpkgs or github:NixOS/nixpkgs/nixos-24.05",
    });
  }
}

/**
 * The template filled with the packages of the current generation, and the
 * flake they came from when its manifest records one.
 */
async function fromCurrent(
  name: string,
  opts: InitOptions,
  ctx: Context,
): Promise<{ text: string; nixpkgs?: string }> {
  const profile = await profileOf(ctx, opts.profile);
  const state = await readProfile(profile);
  if (!state.current) {
    throw new FprofError(`profile '${profile}' has no generations to start from`, {
      hint: "run 'fprof init' without --from-current",
    });
  }
  const contents = await readGenerationContents(ctx.nix, state.current.storePath);
  const declared = declarePackages(contents.packages);
  const text = fillTemplate(
    name,
    TEMPLATES[name].text,
    declared,
    `The packages of generation ${state.current.number} of ${profile}.`,
  );
  const guessed = declared.filter((d) => d.attr && d.note).length;
  const unknown = declared.filter((d) => !d.attr).length;
  ctx.log.step(
    `declared ${declared.length - unknown} package(s) of generation ${state.current.number}` +
      (guessed ? `, ${guessed} by a name guessed from the package name` : "") +
      (unknown ? `; ${unknown} left as comments (no attribute name known)` : ""),
  );
  return { text, nixpkgs: nixpkgsFromManifest(contents.packages) };
}
