/**
 * Installables `fprof switch` accepts: a flake reference with an optional
 * `#attr`, or a store path (or a link into the store, such as `./result`).
 *
 * @module
 */

/** A parsed installable. */
export type Installable =
  | { kind: "flake"; ref: string; attr?: string }
  | { kind: "store"; path: string };

/** Nix's name for the platform fprof runs on. */
export function currentSystem(
  build: { arch: string; os: string } = Deno.build,
): string {
  const os = build.os === "darwin" ? "darwin" : build.os;
  return `${build.arch}-${os}`;
}

/**
 * Splits `ref#attr`; a path inside the store is a store path. Pure.
 *
 * @example
 * ```ts
 * import { parseInstallable } from "./installable.ts";
 * parseInstallable(".#profile", "/nix/store"); // { kind: "flake", ref: ".", attr: "profile" }
 * ```
 */
export function parseInstallable(text: string, storeDir: string): Installable {
  if (text.startsWith(storeDir + "/")) {
    // Only the top-level store path: `/nix/store/x-env/bin` means `/nix/store/x-env`.
    const rest = text.slice(storeDir.length + 1).split("/")[0];
    return { kind: "store", path: `${storeDir}/${rest}` };
  }
  const hash = text.indexOf("#");
  if (hash < 0) return { kind: "flake", ref: text };
  const ref = text.slice(0, hash) || ".";
  const attr = text.slice(hash + 1);
  return attr === "" ? { kind: "flake", ref } : { kind: "flake", ref, attr };
}

/**
 * The short host name (up to the first dot), as a profile flake names its
 * machines under `legacyPackages.<system>.profiles`; `undefined` when it
 * cannot be an attribute name. Pure.
 *
 * @example
 * ```ts
 * import { machineName } from "./installable.ts";
 * machineName("laptop.example.org"); // "laptop"
 * ```
 */
export function machineName(hostname: string): string | undefined {
  const short = hostname.split(".")[0];
  return /^[A-Za-z_][A-Za-z0-9_'-]*$/.test(short) ? short : undefined;
}

/**
 * The attributes tried, in order, when the installable names none: the
 * machine's own `legacyPackages.<system>.profiles.<host>` (when a host is
 * given), then `packages.<system>.profile`, `legacyPackages.<system>.profile`
 * and `packages.<system>.default`.
 */
export function defaultAttrs(system: string, host?: string): string[] {
  return [
    ...(host ? [`legacyPackages.${system}.profiles.${host}`] : []),
    `packages.${system}.profile`,
    `legacyPackages.${system}.profile`,
    `packages.${system}.default`,
  ];
}

/**
 * The attributes tried, in order, for an attribute the user named: the name
 * as Nix finds it (`packages.<system>.NAME`, `legacyPackages.<system>.NAME`,
 * `NAME`), then, for a bare name, the machine of that name,
 * `legacyPackages.<system>.profiles.NAME`, as `nixos-rebuild --flake .#NAME`
 * finds `nixosConfigurations.NAME`. Pure.
 *
 * @example
 * ```ts
 * import { namedAttrs } from "./installable.ts";
 * namedAttrs("laptop", "x86_64-linux"); // ["laptop", "legacyPackages.x86_64-linux.profiles.laptop"]
 * namedAttrs("packages.x86_64-linux.profile", "x86_64-linux"); // ["packages.x86_64-linux.profile"]
 * ```
 */
export function namedAttrs(attr: string, system: string): string[] {
  return machineName(attr) === attr && !attr.includes(".")
    ? [attr, `legacyPackages.${system}.profiles.${attr}`]
    : [attr];
}
