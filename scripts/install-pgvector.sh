#!/usr/bin/env bash
# Build and install the pgvector extension into the local PostgreSQL server (Debian's 15 here).
#
#   bash scripts/install-pgvector.sh [path/to/pgvector-X.Y.Z.tar.gz]
#
# The source tarball is taken from, in order: the argument, $PGVECTOR_TARBALL, ../shared/vendor
# beside the repository, /work/shared/vendor. Idempotent: does nothing when the extension is
# already installed. Never fails: when something is missing (no tarball, no apt, no root, a build
# error) it says why on stderr and exits 0, and the pgvector tests then skip and say why.
# Set PGVECTOR_STRICT=1 to exit non-zero instead.
set -uo pipefail
cd "$(dirname "$0")/.."

give_up() {
  echo "install-pgvector: $*; the pgvector tests will skip" >&2
  if [ "${PGVECTOR_STRICT:-0}" = 1 ]; then exit 1; fi
  exit 0
}

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$PGBIN" ] && [ -x "$PGBIN/postgres" ] || give_up "no PostgreSQL server binaries found"
PG_MAJOR=$(basename "$(dirname "$PGBIN")")

installed() {
  local cfg="$PGBIN/pg_config" sharedir
  if [ -x "$cfg" ]; then
    sharedir=$("$cfg" --sharedir)
  else
    sharedir=/usr/share/postgresql/$PG_MAJOR
  fi
  [ -f "$sharedir/extension/vector.control" ]
}

if installed; then
  echo "install-pgvector: pgvector already installed for PostgreSQL $PG_MAJOR" >&2
  exit 0
fi

TARBALL=${1:-${PGVECTOR_TARBALL:-}}
if [ -z "$TARBALL" ]; then
  for candidate in ../shared/vendor /work/shared/vendor; do
    found=$(ls "$candidate"/pgvector-*.tar.gz 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$found" ]; then TARBALL=$found; break; fi
  done
fi
[ -n "$TARBALL" ] || give_up "no pgvector source tarball (pass one, set PGVECTOR_TARBALL or put it in ../shared/vendor)"
[ -f "$TARBALL" ] || give_up "pgvector tarball $TARBALL does not exist"

# the server headers (postgresql-server-dev-N): pg_config alone may be installed without them,
# and the build then stops at "postgres.h: No such file or directory" (seen on a fresh machine)
server_headers() {
  [ -x "$PGBIN/pg_config" ] && [ -f "$("$PGBIN/pg_config" --includedir-server 2>/dev/null)/postgres.h" ]
}

if ! server_headers || ! command -v make >/dev/null || ! command -v cc >/dev/null; then
  [ "$(id -u)" = 0 ] || give_up "postgresql-server-dev-$PG_MAJOR and build-essential are missing and we are not root"
  command -v apt-get >/dev/null || give_up "postgresql-server-dev-$PG_MAJOR and build-essential are missing and there is no apt-get"
  echo "install-pgvector: installing postgresql-server-dev-$PG_MAJOR build-essential" >&2
  # bounded: an apt mirror that does not answer must not hold CI for its whole budget
  { DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y "postgresql-server-dev-$PG_MAJOR" build-essential >/dev/null \
    || { timeout 300 apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y \
      "postgresql-server-dev-$PG_MAJOR" build-essential >/dev/null; }; } \
    || give_up "apt-get could not install postgresql-server-dev-$PG_MAJOR build-essential"
fi
server_headers || give_up "no server headers (postgres.h) for PostgreSQL $PG_MAJOR after installing postgresql-server-dev-$PG_MAJOR"

BUILD=$(mktemp -d /tmp/pgvector-build.XXXXXX)
trap 'rm -rf "$BUILD"' EXIT
tar -xzf "$TARBALL" -C "$BUILD" || give_up "cannot unpack $TARBALL"
SRC=$(ls -d "$BUILD"/*/ | head -n 1)
echo "install-pgvector: building $(basename "$TARBALL") for PostgreSQL $PG_MAJOR (about 2 minutes)" >&2
# OPTFLAGS="" avoids -march=native, so the library runs on any machine of the same architecture
make -C "$SRC" OPTFLAGS="" PG_CONFIG="$PGBIN/pg_config" >"$BUILD/build.log" 2>&1 \
  || { tail -n 20 "$BUILD/build.log" >&2; give_up "building pgvector failed"; }
make -C "$SRC" install PG_CONFIG="$PGBIN/pg_config" >>"$BUILD/build.log" 2>&1 \
  || { tail -n 20 "$BUILD/build.log" >&2; give_up "installing pgvector failed (root needed?)"; }
installed || give_up "pgvector built but vector.control is not where PostgreSQL looks"
echo "install-pgvector: pgvector installed for PostgreSQL $PG_MAJOR" >&2
