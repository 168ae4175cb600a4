/**
 * What names a host on the command line: `[USER@]HOST`, as ssh and Nix's
 * `ssh-ng://` store take it, or `@GROUP` from the config's `hosts`. Small and
 * free of other imports, so that `main.ts` can check the options with the
 * same pattern the commands use.
 *
 * @module
 */

import { UsageError } from "../errors.ts";

/** `[USER@]HOST`: nothing ssh would read as an option, no blanks or shell characters. */
export const HOST_SPEC = /^([A-Za-z0-9._][A-Za-z0-9._-]*@)?[A-Za-z0-9_][A-Za-z0-9._:-]*$/;

/** `@GROUP`, a name of the config's `hosts`. */
export const HOST_GROUP = /^@[A-Za-z0-9_.][A-Za-z0-9._@:-]*$/;

/**
 * Checks a `--target-host` or `--build-host` value: `[USER@]HOST`, as ssh
 * and Nix's `ssh-ng://` store take it. Anything else, such as a value that
 * ssh would read as an option, is a usage error. Pure.
 *
 * @example
 * ```ts
 * import { checkHostSpec } from "./host_names.ts";
 * checkHostSpec("deploy@lab-a.example.org"); // "deploy@lab-a.example.org"
 * ```
 */
export function checkHostSpec(text: string): string {
  if (!HOST_SPEC.test(text)) {
    throw new UsageError(`'${text}' is not a host: expected [USER@]HOST`, {
      hint: "name it as you would to ssh, such as lab-a or deploy@lab-a.example.org",
    });
  }
  return text;
}

/**
 * The hosts a repeated `--target-host` names, with each `@GROUP` replaced by
 * the hosts the config's `hosts` gives it, in order and without repeats.
 * Pure.
 *
 * @example
 * ```ts
 * import { expandHosts } from "./host_names.ts";
 * expandHosts(["@lab", "b", "c"], { lab: ["a", "b"] }); // ["a", "b", "c"]
 * ```
 */
export function expandHosts(
  given: readonly string[],
  groups: Readonly<Record<string, readonly string[]>> = {},
): string[] {
  const out: string[] = [];
  for (const item of given) {
    if (!item.startsWith("@")) {
      out.push(checkHostSpec(item));
      continue;
    }
    const members = Object.hasOwn(groups, item.slice(1)) ? groups[item.slice(1)] : undefined;
    if (!members) {
      const known = Object.keys(groups);
      throw new UsageError(`no host group '${item.slice(1)}' in the config`, {
        hint: known.length
          ? `known groups: ${known.map((k) => `@${k}`).join(", ")}`
          : `name the hosts in the config file, as "hosts": { "${item.slice(1)}": ["a", "b"] }`,
      });
    }
    out.push(...members.map(checkHostSpec));
  }
  return [...new Set(out)];
}

/**
 * Checks a `--profile` given for a remote host: the host's shell reads it one
 * line at a time, so a newline (or any control character) would cut it
 * short without a word. Such a value is a usage error. Pure.
 *
 * @example
 * ```ts
 * import { checkRemoteProfile } from "./host_names.ts";
 * checkRemoteProfile("~/.local/state/nix/profiles/work"); // "~/.local/state/nix/profiles/work"
 * ```
 */
export function checkRemoteProfile(profile: string): string {
  // deno-lint-ignore no-control-regex
  const bad = /[\x00-\x1f\x7f]/.exec(profile);
  if (bad) {
    throw new UsageError(
      `--profile ${JSON.stringify(profile)} holds a control character ` +
        `(${JSON.stringify(bad[0])}), which a remote host cannot be given`,
      { hint: "give the profile's path on one line, without control characters" },
    );
  }
  return profile;
}
