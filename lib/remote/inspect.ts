/**
 * What fprof reads on a remote host, without installing anything there: two
 * short POSIX shell scripts run over ssh, and pure parsers of what they
 * print. The first asks for the facts a profile's path depends on (user,
 * home, Nix's directories and version); the second lists the profile's
 * generations and reads the manifests of the ones asked for, in one round
 * trip each.
 *
 * @module
 */

import { FprofError } from "../errors.ts";
import { type NixVersion, parseNixVersion } from "../nix/nix.ts";
import type { Generation, ProfileState } from "../profile/profile.ts";
import { generationNumber } from "../profile/profile.ts";
import { basename, dirname, join, resolve } from "../path.ts";

/** Prints `key=value` lines: the facts {@link parseFacts} reads. */
export const FACTS_SCRIPT = `
say() { printf '%s=%s\\n' "$1" "$2"; }
say host "$(uname -n)"
say machine "$(uname -m)"
say kernel "$(uname -s)"
say uid "$(id -u)"
say user "$(id -un)"
say home "\${HOME-}"
say xdgStateHome "\${XDG_STATE_HOME-}"
say stateDir "\${NIX_STATE_DIR-}"
say storeDir "\${NIX_STORE_DIR-}"
if command -v nix-env >/dev/null 2>&1 && command -v nix >/dev/null 2>&1; then
  say nix "$(nix --version | head -n 1)"
fi
for l in "$HOME/.nix-profile" "\${XDG_STATE_HOME:-$HOME/.local/state}/nix/profile"; do
  if [ -L "$l" ]; then say link "$l"; fi
done
`;

/** What a host told about itself. */
export interface HostFacts {
  /** Its host name, as `uname -n` prints it. */
  host: string;
  /** Its Nix system, such as `x86_64-linux`. */
  system: string;
  uid: number;
  user: string;
  home: string;
  /** `XDG_STATE_HOME`, or `~/.local/state`. */
  stateHome: string;
  /** `NIX_STATE_DIR`, or `/nix/var/nix`. */
  stateDir: string;
  /** `NIX_STORE_DIR`, or `/nix/store`. */
  storeDir: string;
  nixVersion: NixVersion;
  /** The profile links that exist, in the order Nix follows them. */
  links: string[];
}

/**
 * The Nix system of a machine from `uname -m` and `uname -s`. Pure.
 *
 * @example
 * ```ts
 * import { nixSystem } from "./inspect.ts";
 * nixSystem("arm64", "Darwin"); // "aarch64-darwin"
 * ```
 */
export function nixSystem(machine: string, kernel: string): string {
  const cpu = ({ arm64: "aarch64", amd64: "x86_64" } as Record<string, string>)[machine] ??
    machine;
  return `${cpu}-${kernel.toLowerCase()}`;
}

/** Parses what {@link FACTS_SCRIPT} printed on `host`. Pure. */
export function parseFacts(text: string, host: string): HostFacts {
  const values = new Map<string, string>();
  const links: string[] = [];
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const [key, value] = [line.slice(0, eq), line.slice(eq + 1)];
    if (key === "link") links.push(value);
    else values.set(key, value);
  }
  const get = (k: string) => values.get(k) ?? "";
  if (!values.has("host") || !values.has("uid")) {
    throw new FprofError(`'${host}' answered in a way fprof does not understand`, {
      hint: `check that 'ssh ${host} uname -n' prints the host's name and nothing else`,
    });
  }
  if (!values.has("nix")) {
    throw new FprofError(`'${host}' has no nix or nix-env on the PATH ssh gives commands`, {
      hint: "install Nix there, or make it reachable from non-interactive ssh sessions",
    });
  }
  const home = get("home") || "/";
  return {
    host: get("host"),
    system: nixSystem(get("machine"), get("kernel")),
    uid: Number(get("uid")),
    user: get("user"),
    home,
    stateHome: get("xdgStateHome") || join(home, ".local", "state"),
    stateDir: (get("stateDir") || "/nix/var/nix").replace(/\/+$/, ""),
    storeDir: (get("storeDir") || "/nix/store").replace(/\/+$/, ""),
    nixVersion: parseNixVersion(get("nix")),
    links,
  };
}

/**
 * Given a path, follows links to the profile itself (as fprof does here),
 * lists its generation links, and prints the contents of the store paths
 * asked for (the current generation's with `current`): a manifest as
 * `file=PATH\tKIND\tBYTES` and then its bytes, else the references.
 */
export const STATE_SCRIPT = `
p=$1; shift; want=$1; shift
n=0
while [ "$n" -lt 40 ] && t=$(readlink "$p" 2>/dev/null); do
  case $t in /*) next=$t ;; *) next=\${p%/*}/$t ;; esac
  if [ "\${next%/*}" = "\${p%/*}" ]; then
    num=\${next##*/}; num=\${num#"\${p##*/}"-}
    case $num in *-link) num=\${num%-link}; case $num in ''|*[!0-9]*) ;; *) break ;; esac ;; esac
  fi
  p=$next; n=$((n + 1))
done
printf 'profile=%s\\n' "$p"
d=\${p%/*}; b=\${p##*/}
if [ -L "$p" ]; then printf 'target=%s\\n' "$(readlink "$p")"; elif [ -e "$p" ]; then echo notlink=1; fi
for f in "$d/$b"-*-link; do
  [ -L "$f" ] || continue
  num=\${f##*/}; num=\${num#"$b"-}; num=\${num%-link}
  case $num in ''|*[!0-9]*) continue ;; esac
  t=$(readlink "$f") || continue
  m=$(stat -c %Y "$f" 2>/dev/null || stat -f %m "$f" 2>/dev/null || echo 0)
  printf 'gen=%s\\t%s\\t%s\\n' "$num" "$m" "$t"
done
emit() {
  s=$1
  if [ ! -e "$s" ]; then printf 'missing=%s\\n' "$s"; return; fi
  if [ -e "$s/bin/nix" ]; then printf 'hasnix=%s\\n' "$s"; fi
  for k in json nix; do
    if [ -f "$s/manifest.$k" ]; then
      printf 'file=%s\\t%s\\t%s\\n' "$s" "$k" "$(wc -c < "$s/manifest.$k" | tr -d ' ')"
      cat "$s/manifest.$k"
      return
    fi
  done
  printf 'refs=%s\\n' "$s"
  nix-store -q --references "$s" | while IFS= read -r r; do printf 'ref=%s\\t%s\\n' "$s" "$r"; done
}
if [ "$want" = current ] && [ -L "$p" ]; then
  t=$(readlink "$p"); case $t in /*) ;; *) t=$d/$t ;; esac
  if c=$(readlink "$t"); then case $c in /*) ;; *) c=\${t%/*}/$c ;; esac; emit "$c"; fi
fi
for s in "$@"; do emit "$s"; done
`;

/** What a store path on the host holds, as far as a listing needs. */
export interface RemotePathInfo {
  /** A manifest and its kind, or `null` with the references instead. */
  manifest: { kind: "json" | "nix"; text: string } | null;
  references: string[];
  hasNix: boolean;
  missing: boolean;
}

/** What {@link STATE_SCRIPT} found. */
export interface RemoteState {
  state: ProfileState;
  paths: Map<string, RemotePathInfo>;
}

/**
 * Parses what {@link STATE_SCRIPT} printed into the same profile state that
 * reading a local profile gives, and the contents of the paths asked for.
 * Pure.
 */
export function parseState(bytes: Uint8Array, host: string): RemoteState {
  const decoder = new TextDecoder();
  let profile = "";
  let target: string | null = null;
  let notLink = false;
  const generations: Generation[] = [];
  const paths = new Map<string, RemotePathInfo>();
  const info = (p: string) => {
    let i = paths.get(p);
    if (!i) paths.set(p, i = { manifest: null, references: [], hasNix: false, missing: false });
    return i;
  };
  let at = 0;
  while (at < bytes.length) {
    let end = bytes.indexOf(10, at);
    if (end < 0) end = bytes.length;
    const line = decoder.decode(bytes.subarray(at, end));
    at = end + 1;
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(0, eq);
    const fields = line.slice(eq + 1).split("\t");
    switch (key) {
      case "profile":
        profile = fields[0];
        break;
      case "target":
        target = fields[0];
        break;
      case "notlink":
        notLink = true;
        break;
      case "gen": {
        const [n, mtime, link] = fields;
        const dir = dirname(profile);
        generations.push({
          number: Number(n),
          link: join(dir, `${basename(profile)}-${n}-link`),
          storePath: resolve(dir, link),
          date: new Date(Number(mtime) * 1000),
        });
        break;
      }
      case "file": {
        const [path, kind, size] = fields;
        const length = Number(size);
        info(path).manifest = {
          kind: kind === "json" ? "json" : "nix",
          text: decoder.decode(bytes.subarray(at, at + length)),
        };
        // The next line starts right after the file, final newline or not.
        at += length;
        break;
      }
      case "ref":
        info(fields[0]).references.push(fields[1]);
        break;
      case "refs":
        info(fields[0]);
        break;
      case "hasnix":
        info(fields[0]).hasNix = true;
        break;
      case "missing":
        info(fields[0]).missing = true;
        break;
    }
  }
  return { state: stateOf(profile, target, notLink, generations, host), paths };
}

function stateOf(
  profile: string,
  target: string | null,
  notLink: boolean,
  unsorted: Generation[],
  host: string,
): ProfileState {
  const generations = unsorted.sort((a, b) => a.number - b.number);
  const where = `${host}:${profile}`;
  if (notLink) {
    throw new FprofError(`'${where}' is not a profile: it is not a symlink`, {
      hint: "pass the path of a Nix profile on that host with --profile",
    });
  }
  if (target === null) return { profile, generations, current: null };
  const n = generationNumber(basename(profile), basename(target));
  const sameDir = dirname(resolve(dirname(profile), target)) === dirname(profile);
  const current = n !== null && sameDir ? generations.find((g) => g.number === n) ?? null : null;
  if (n !== null && sameDir && current === null) {
    return { profile, generations, current: null, missing: n };
  }
  if (current === null) {
    throw new FprofError(
      `'${where}' is not a profile: it points to '${target}', not to a generation link`,
      { hint: "pass the path of a Nix profile on that host with --profile" },
    );
  }
  return { profile, generations, current };
}
