#!/usr/bin/env bash
# Builds pgvector from Debian's source package against this machine's own PostgreSQL server and
# installs it, so services mode (and its tests) can CREATE EXTENSION vector. Debian 12 packages no
# pgvector for PostgreSQL 15, but trixie has the source package (0.8.x): only that source is taken
# from trixie, through a deb-src entry that reuses the URIs of the machine's Debian list. Trixie's
# binary suite is never added (it would pull in a newer libc). Runs as root; idempotent: does
# nothing when the server's extension directory already has vector.control and its library.
#
#   sudo scripts/install-pgvector.sh          # the server on port ${PGPORT:-5432}
#   sudo PG_MAJOR=16 scripts/install-pgvector.sh
set -euo pipefail

log() { printf 'install-pgvector: %s\n' "$*"; }
die() { printf 'install-pgvector: %s\n' "$*" >&2; exit 1; }

# The running server's major version: PG_MAJOR, else the online cluster on PGPORT, else the
# newest installed server.
major="${PG_MAJOR:-}"
if [ -z "$major" ] && command -v pg_lsclusters >/dev/null; then
  major=$(pg_lsclusters --no-header 2>/dev/null |
    awk -v port="${PGPORT:-5432}" '$3 == port && $4 ~ /online/ { print $1; exit }')
fi
if [ -z "$major" ] && [ -d /usr/lib/postgresql ]; then
  major=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -1)
fi
[ -n "$major" ] || die "no PostgreSQL server found (set PG_MAJOR)"

pg_config="/usr/lib/postgresql/$major/bin/pg_config"
sharedir="/usr/share/postgresql/$major"
pkglibdir="/usr/lib/postgresql/$major/lib"
if [ -x "$pg_config" ]; then
  sharedir=$("$pg_config" --sharedir)
  pkglibdir=$("$pg_config" --pkglibdir)
fi
if [ -f "$sharedir/extension/vector.control" ] && [ -f "$pkglibdir/vector.so" ]; then
  log "pgvector $(sed -n "s/^default_version = '\(.*\)'/\1/p" "$sharedir/extension/vector.control") is already installed for PostgreSQL $major"
  exit 0
fi
[ "$(id -u)" = 0 ] || die "run as root (it installs packages and writes to $sharedir)"

# The URIs (and keyring) of the machine's own Debian archive entry: the stanza, or line, that
# carries this release's codename (deb822 .sources files first, then the one-line format).
# shellcheck source=/dev/null
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$codename" ] || die "cannot tell this Debian release's codename from /etc/os-release"
uris="" signed_by=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  entry=$(awk -v codename="$codename" '
    function flush() {
      if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " codename " ") && uris != "") {
        print uris "\t" (signed == "" ? "-" : signed); found = 1; exit
      }
      types = suites = uris = signed = ""
    }
    /^[ \t]*$/ { flush(); next }
    /^[ \t]*#/ { next }
    { key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^ +/, ""); }
    key == "types" { types = $0 } key == "suites" { suites = $0 }
    key == "uris" { uris = $0 } key == "signed-by" { signed = $0 }
    END { if (!found) flush() }' "$f")
  if [ -n "$entry" ]; then
    uris=${entry%%$'\t'*} signed_by=${entry#*$'\t'}
    break
  fi
done
if [ -z "$uris" ]; then
  # One-line format: deb [options] URI SUITE COMPONENT...
  uris=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk -v codename="$codename" '$1 == "deb" {
      i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
      if ($(i + 1) == codename) { print $i; exit } }' || true)
fi
[ -n "$uris" ] || die "found no Debian archive entry for $codename in /etc/apt/sources.list{,.d}"
[ -n "$signed_by" ] && [ "$signed_by" != "-" ] || signed_by=/usr/share/keyrings/debian-archive-keyring.gpg

work=$(mktemp -d)
src_list=/etc/apt/sources.list.d/parley-pgvector-trixie-src.sources
cleanup() {
  rm -rf "$work" "$src_list"
}
trap cleanup EXIT
# Source only (Types: deb-src): nothing from trixie can be installed through this entry. It is
# removed again when the script ends, so later apt runs do not fetch trixie's source index.
cat >"$src_list" <<EOF
Types: deb-src
URIs: $uris
Suites: trixie
Components: main
Signed-By: $signed_by
EOF
log "PostgreSQL $major; source from trixie at $uris"

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# dpkg-dev unpacks the source package; the server's dev package brings PGXS (and its compilers).
apt-get install -y -qq --no-install-recommends dpkg-dev make gcc "postgresql-server-dev-$major" >/dev/null

cd "$work"
apt-get source -qq --only-source pgvector/trixie 2>&1 | grep -v 'unsandboxed as root' || true
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -1)
[ -n "$src" ] || die "apt-get source pgvector/trixie unpacked nothing"
log "building $(basename "$src") with $pg_config"
# OPTFLAGS empty, as Debian's own build: no -march=native, so the library runs on any x86-64.
make -C "$src" -s -j"$(nproc)" PG_CONFIG="$pg_config" OPTFLAGS="" >/dev/null
make -C "$src" -s PG_CONFIG="$pg_config" OPTFLAGS="" install >/dev/null
[ -f "$sharedir/extension/vector.control" ] || die "make install left no $sharedir/extension/vector.control"
log "installed pgvector $(sed -n "s/^default_version = '\(.*\)'/\1/p" "$sharedir/extension/vector.control") for PostgreSQL $major"
