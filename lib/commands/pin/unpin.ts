/**
 * `fprof pin --unpin`: put back, byte for byte, every file pin changed, and
 * only the changes that are still pin's own.
 *
 * @module
 */

import type { Context } from "../../context.ts";
import { readBytesOrNull, sameBytes } from "../../fs.ts";
import { writeOut } from "../../log/log.ts";
import { confFromBytes, confToBytes, setSetting, settingValue } from "../../nix/nix_conf.ts";
import {
  type ChannelsChange,
  describePins,
  loadPinState,
  type Pin,
  pinRootPath,
  type PinScope,
  type PinState,
  pinStatePath,
} from "../../nix/pins.ts";
import { findEntry, parseRegistry, printRegistry, restoreEntry } from "../../nix/registry.ts";
import { readProfile, switchProfileLink } from "../../profile/profile.ts";
import { writeTemp } from "./apply.ts";
import { hex, type PinOptions } from "./plan.ts";

/** Puts back what was there before fprof's first pin. */
export async function unpin(scope: PinScope, opts: PinOptions, ctx: Context) {
  const { log, env } = ctx;
  const state = await loadPinState(scope, env);
  if (!state) {
    log.step("nothing changed: nothing is pinned");
    return;
  }
  const pinned = shownPins(state);
  if (opts.dryRun) {
    const lines = [`would unpin ${describePins(pinned)}`];
    for (const f of state.files) lines.push(`  restore ${f.path}`);
    if (state.channels) lines.push(`  restore channels profile ${state.channels.profile}`);
    await writeOut(lines.join("\n") + "\n");
    return;
  }
  // Work out every file's old bytes first, so a surprise stops before any write.
  const restores: Restore[] = [];
  for (const f of state.files) {
    const original = f.backup === null ? null : await Deno.readFile(f.backup);
    const now = await readBytesOrNull(f.path);
    // A pending pin may have left either text; both are fprof's.
    const own = [f.written, ...f.before !== undefined ? [f.before] : []];
    if (now === null || own.includes(await hex(now))) {
      restores.push({ path: f.path, bytes: original, mode: f.mode, whole: true });
      continue;
    }
    // Changed since fprof wrote it: take back only fprof's own changes.
    log.warn(`'${f.path}' changed since fprof wrote it; restoring only what fprof changed`);
    const bytes = undoOwnChanges(f.path, now, original ?? new Uint8Array(), state);
    restores.push({ path: f.path, bytes, mode: f.mode, whole: sameBytes(bytes, original) });
  }
  for (const r of restores) await restoreFile(r, ctx);
  if (state.channels) await restoreChannels(state.channels, ctx);
  for (const p of [...state.pins, ...state.pending ?? []]) {
    await Deno.remove(pinRootPath(scope, p.id, env)).catch(() => {});
  }
  await Promise.all(state.files.map((f) => f.backup && Deno.remove(f.backup).catch(() => {})));
  await Deno.remove(pinStatePath(scope, env));
  log.step(`unpinned ${describePins(pinned)}`);
}

/** A file as unpin puts it back; `whole` when that is byte for byte the file before fprof. */
interface Restore {
  path: string;
  bytes: Uint8Array | null;
  mode?: number;
  whole: boolean;
}

/** Writes a file back (through a link, as pin wrote it, with the mode it had before). */
async function restoreFile(r: Restore, ctx: Context) {
  if (r.bytes === null) await Deno.remove(r.path).catch(() => {});
  else {
    const t = await writeTemp(r.path, r.bytes, ctx.nix.storeDir, r.mode);
    await Deno.rename(t.tmp, t.target);
  }
  ctx.log.step(
    r.whole
      ? `restored ${r.path}`
      : `took fprof's entries out of ${r.path}; the rest is as you changed it`,
  );
}

/** The pins the files hold, or are being given by a pin that has not finished. */
export function shownPins(state: PinState): Pin[] {
  return state.pending ?? state.pins;
}

/** A file's bytes with fprof's entries replaced by what the original had. Pure. */
function undoOwnChanges(
  path: string,
  nowBytes: Uint8Array,
  originalBytes: Uint8Array,
  state: PinState,
): Uint8Array {
  if (path.endsWith("registry.json")) {
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    const before = parseRegistry(decode(originalBytes), path);
    let reg = parseRegistry(decode(nowBytes), path);
    for (const p of [...state.pins, ...state.pending ?? []]) {
      reg = restoreEntry(reg, p.id, findEntry(before, p.id));
    }
    return new TextEncoder().encode(printRegistry(reg));
  }
  const original = confFromBytes(originalBytes);
  let text = confFromBytes(nowBytes);
  for (const name of ["nix-path", "flake-registry"]) {
    const old = settingValue(original, name);
    if (old !== undefined) text = setSetting(text, name, old);
    else if (settingValue(text, name) !== undefined && settingValue(original, name) === undefined) {
      const lines = text.split("\n");
      const at = lines.findLastIndex((l) => new RegExp(`^\\s*${name}\\s*=`).test(l));
      lines.splice(at, 1);
      text = lines.join("\n");
    }
  }
  return confToBytes(text);
}

/**
 * Switches the channels profile back, when it still holds fprof's
 * generation (by store path: a pin killed after nix-env never noted the
 * number), or the one a pending pin had not replaced yet.
 */
async function restoreChannels(ch: ChannelsChange, ctx: Context) {
  const state = await readProfile(ch.profile).catch(() => null);
  const now = state?.current?.storePath ?? null;
  if (now !== ch.storePath && (ch.before === undefined || now !== ch.before)) {
    ctx.log.warn(`channels profile '${ch.profile}' changed since fprof set it; left it alone`);
    return;
  }
  if (state?.current && now === ch.storePath) {
    const prev = state.generations.find((g) => g.number === ch.previous);
    if (prev) {
      await switchProfileLink(ch.profile, prev);
      ctx.log.step(`switched channels profile '${ch.profile}' back to generation ${prev.number}`);
    } else {
      // It had no generation before: remove the profile fprof made.
      await Deno.remove(ch.profile);
      await Deno.remove(state.current.link).catch(() => {});
      ctx.log.step(`removed channels profile '${ch.profile}'`);
    }
  }
  const link = ch.createdLink;
  if (link && (await Deno.readLink(link).catch(() => null)) === ch.profile) await Deno.remove(link);
}
