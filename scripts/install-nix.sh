#!/usr/bin/env bash
# Installs one Nix version from Debian's archive into .tools/nix/<label>/,
# without installing anything on the machine, and prints its bin directory.
#
#   scripts/install-nix.sh 2.8|2.26|newest [--copy-to DIR]
#
# Each label is a Debian suite's nix-bin: 2.8 is Debian 12's (bookworm), 2.26
# is Debian 13's (trixie), newest is Debian unstable's (sid, which moves).
# The .deb files of nix-bin and the libraries it needs are fetched with a
# private apt configuration (the machine's own sources stay untouched) and
# unpacked with dpkg -x. Nix from a newer suite needs a newer glibc and
# libstdc++ than the host has, so the binary is patched to load its own:
# the unpacked loader as interpreter, and the unpacked library directory as
# DT_RPATH (not RUNPATH, so that the libraries' own dependencies are found
# there too). nix-env, nix-store, nix-daemon… are links to `nix`, which
# dispatches on its name, so the bin directory selects this version for all.
#
# The result is cached: a second run prints the same directory at once. Set
# FPROF_NIX_REFRESH=1 to fetch again (the newest Nix moves).
#
# With --copy-to DIR, the cached tree is also copied to DIR (made readable by
# every user) and patched to run from there, and DIR/bin is printed. The
# tests use such a copy: an unprivileged user cannot run a Nix whose loader
# lies inside a checkout under a 0700 directory, and the binary names its
# loader by absolute path.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

die() {
  echo "install-nix: error: $*" >&2
  exit 1
}

label=${1:-}
case "$label" in
  2.8) suite=bookworm ;;
  2.26) suite=trixie ;;
  newest) suite=sid ;;
  *) die "usage: install-nix.sh 2.8|2.26|newest (got '${label}')" ;;
esac

copy_to=""
if [ "${2:-}" = --copy-to ]; then
  copy_to=${3:?install-nix: --copy-to needs a directory}
fi

case "$(uname -m)" in
  x86_64) arch=amd64 triple=x86_64-linux-gnu loader=ld-linux-x86-64.so.2 ;;
  aarch64) arch=arm64 triple=aarch64-linux-gnu loader=ld-linux-aarch64.so.1 ;;
  *) die "no Debian Nix for this machine's architecture '$(uname -m)'" ;;
esac
# Before Debian 13 (merged /usr), libc6 puts its files under /lib, and
# nix-bin its own libraries under /usr/lib/nix.
tree_rpath() {
  local top=$1 rpath="" dir
  for dir in "$top/usr/lib/$triple" "$top/lib/$triple" "$top/usr/lib/nix"; do
    [ -d "$dir" ] && rpath="$rpath${rpath:+:}$dir"
  done
  echo "$rpath"
}

# The ELF objects of a tree that name a search path of their own: the nix
# binary, and every shared library with a DT_RUNPATH or DT_RPATH (2.8's
# libnixstore.so and friends carry a RUNPATH of Debian's).
objects_with_paths() {
  local top=$1 file
  echo "$top/usr/bin/nix"
  while IFS= read -r -d '' file; do
    [ -n "$(patchelf --print-rpath "$file" 2>/dev/null)" ] && echo "$file"
  done < <(find "$top/usr/lib" "$top/lib" -type f -name '*.so*' -print0 2>/dev/null)
}

# A library's DT_RUNPATH makes the loader ignore the executable's DT_RPATH
# for that library's own dependencies and fall back to the host's
# /etc/ld.so.cache. So every object that names a path gets the tree's
# directories as DT_RPATH (--force-rpath: RPATH, not RUNPATH), and the nix
# binary gets the tree's loader as its interpreter.
patch_nix() {
  local top=$1 rpath file
  rpath=$(tree_rpath "$top")
  [ -e "$top/lib/$triple/$loader" ] || [ -e "$top/usr/lib/$triple/$loader" ] ||
    die "Debian $suite's libc6 has no $loader in $top"
  local interp="$top/usr/lib/$triple/$loader"
  [ -e "$interp" ] || interp="$top/lib/$triple/$loader"
  patchelf --set-interpreter "$interp" "$top/usr/bin/nix"
  while IFS= read -r file; do
    patchelf --force-rpath --set-rpath "$rpath" "$file"
  done < <(objects_with_paths "$top")
}

# Proves that the tree stands alone: the loader's own trace of what the
# nix binary loads (the patched interpreter honours LD_TRACE_LOADED_OBJECTS)
# must name only files inside the tree. A host that has the same libraries
# (any machine where nix-bin was ever installed) would otherwise hide a
# library the tree lacks, and a clean Debian 12 would then fail.
check_alone() {
  local top=$1 trace outside
  trace=$(LD_TRACE_LOADED_OBJECTS=1 "$top/usr/bin/nix" 2>&1) ||
    die "Nix $label's loader cannot trace '$top/usr/bin/nix': $(tail -n 2 <<<"$trace" | tr '\n' ' ')"
  outside=$(awk -v top="$top/" '
    /not found/ { print $1 " (not found)"; next }
    $2 == "=>" && index($3, top) != 1 { print $1 " => " $3 }
    $2 != "=>" && $1 ~ /^\// && index($1, top) != 1 { print $1 }' <<<"$trace")
  [ -z "$outside" ] ||
    die "Nix $label loads libraries from outside its tree '$top': $(tr '\n' ' ' <<<"$outside")"
}

# Links named nix-env, nix-store, nix-daemon… to the patched binary.
link_bin() {
  local top=$1 bin=$2 name
  mkdir -p "$bin"
  for name in "$top"/usr/bin/nix*; do ln -sfn "$top/usr/bin/nix" "$bin/$(basename "$name")"; done
}

# Prints the bin directory to use: the cache's, or a copy's.
finish() {
  local dest=$1
  if [ -z "$copy_to" ]; then
    echo "$dest/bin"
    return
  fi
  mkdir -p "$copy_to"
  rm -rf "$copy_to/root" "$copy_to/bin"
  cp -a "$dest/root" "$copy_to/root"
  patch_nix "$copy_to/root"
  check_alone "$copy_to/root"
  link_bin "$copy_to/root" "$copy_to/bin"
  chmod -R a+rX "$copy_to"
  "$copy_to/bin/nix" --version >/dev/null || die "Nix $label does not run from '$copy_to'"
  echo "$copy_to/bin"
}

dest="$here/.tools/nix/$label"
if [ -z "${FPROF_NIX_REFRESH:-}" ] && [ -x "$dest/bin/nix" ] &&
  (check_alone "$dest/root") 2>/dev/null && "$dest/bin/nix" --version >/dev/null 2>&1; then
  finish "$dest"
  exit 0
fi

for tool in apt-get apt-cache dpkg; do
  command -v "$tool" >/dev/null 2>&1 ||
    die "'$tool' is not installed: Nix $label comes from Debian's archive, which needs Debian's apt and dpkg"
done
if ! command -v patchelf >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || die "patchelf is not installed; install it with: sudo apt-get install patchelf"
  echo "install-nix: installing patchelf" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq patchelf; } >&2 ||
    die "could not install patchelf from Debian's archive"
fi

# FPROF_DEBIAN_MIRROR, or the machine's own Debian mirror: the first URIs:
# line of the deb822 sources, or the first deb line of a classic sources.list.
mirror=${FPROF_DEBIAN_MIRROR:-}
[ -n "$mirror" ] || mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
if [ -z "$mirror" ]; then
  mirror=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
    /etc/apt/sources.list 2>/dev/null || true)
fi
[ -n "$mirror" ] || die "cannot find the machine's Debian mirror in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$keyring" ] || die "'$keyring' is missing: install debian-archive-keyring"

work="$dest.work"
rm -rf "$work"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"
echo "deb [signed-by=$keyring] $mirror $suite main" >"$work/sources.list"
apt_opts=(
  -o "Dir::Etc::SourceList=$work/sources.list"
  -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache=$work/cache"
  -o "Dir::State::status=/dev/null"
  -o Debug::NoLocking=1
)
apt_opts+=(-o "APT::Architecture=$arch")

echo "install-nix: fetching Nix $label from Debian $suite ($mirror)" >&2
# apt-get update only warns about a mirror it cannot reach: what tells is
# whether a package list arrived.
apt-get "${apt_opts[@]}" update -qq >"$work/update.log" 2>&1 || true
if ! compgen -G "$work/lists/*_Packages*" >/dev/null; then
  die "cannot reach Debian's archive for '$suite' at $mirror: $(grep -m 3 -E '^(W|E):' "$work/update.log" | tr '\n' ' ')"
fi
version=$(apt-cache "${apt_opts[@]}" show nix-bin 2>/dev/null | awk '/^Version:/ { print $2; exit }' || true)
[ -n "$version" ] || die "Debian $suite has no nix-bin package"

# nix-bin and the shared libraries it needs (zlib1g is one, though its name
# does not start with lib). Perl, PAM, audit, systemd and
# SELinux come in through other packages' dependencies; the nix binary does
# not load them.
apt-cache "${apt_opts[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts \
  --no-breaks --no-replaces --no-enhances nix-bin 2>/dev/null |
  grep -v '^ ' | grep -E '^(nix-bin|lib|zlib1g$)' |
  grep -vE '^lib(perl|pam|audit|systemd|selinux|semanage|sepol|dbd-|dbi-|www-|gdbm|db5|newt|slang|debian-installer|debconfclient|textwrap|c-gconv)' |
  sort -u >"$work/packages.txt"
(cd "$work/debs" && xargs apt-get "${apt_opts[@]}" download -qq <"$work/packages.txt") \
  >"$work/download.log" 2>&1 ||
  die "cannot download Nix $label's packages from $mirror: $(tail -n 3 "$work/download.log" | tr '\n' ' ')"

root="$work/root"
mkdir -p "$root"
for deb in "$work"/debs/*.deb; do dpkg -x "$deb" "$root"; done
rm -rf "$work/debs" "$work/cache" "$work/lists"

# The binary names its loader and libraries by absolute path, so it is
# patched where the tree stays; a tree that does not run is not kept.
rm -rf "$dest"
mv "$work" "$dest"
patch_nix "$dest/root"
link_bin "$dest/root" "$dest/bin"
if ! (check_alone "$dest/root") 2>"$dest/run.log" ||
  ! "$dest/bin/nix" --version >/dev/null 2>>"$dest/run.log"; then
  msg=$(tail -n 3 "$dest/run.log" | tr '\n' ' ')
  rm -rf "$dest"
  die "Nix $label ($version) does not run on its own after unpacking: $msg"
fi
echo "install-nix: Nix $label is $("$dest/bin/nix" --version | awk '{ print $3 }') (Debian $version)" >&2
finish "$dest"
