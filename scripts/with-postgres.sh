#!/usr/bin/env bash
# Run a command with a throwaway PostgreSQL server on 127.0.0.1 and MATCHER_TEST_POSTGRES_URL set.
# Used by .ci/run so the PostgreSQL code path is exercised; without server binaries it just runs
# the command (the PostgreSQL tests then skip and say why).
set -euo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
  echo "with-postgres: no PostgreSQL server binaries found; running without" >&2
  exec "$@"
fi
PORT=${MATCHER_PG_PORT:-55432}
DIR=$(mktemp -d /tmp/matcher-pg.XXXXXX)
chmod 755 "$DIR"
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }
if [ "$(id -u)" = 0 ]; then chown postgres "$DIR"; fi
cleanup() { as_pg "$PGBIN/pg_ctl -D $DIR/data -m immediate stop" >/dev/null 2>&1 || true; rm -rf "$DIR"; }
trap cleanup EXIT
as_pg "$PGBIN/initdb -D $DIR/data -U matcher --auth=trust >/dev/null"
as_pg "$PGBIN/pg_ctl -D $DIR/data -l $DIR/log -w -o '-p $PORT -c listen_addresses=127.0.0.1 -k $DIR' start >/dev/null"
as_pg "$PGBIN/createdb -h 127.0.0.1 -p $PORT -U matcher matcher_test"
export MATCHER_TEST_POSTGRES_URL="postgresql+psycopg://matcher@127.0.0.1:$PORT/matcher_test"
echo "with-postgres: PostgreSQL on 127.0.0.1:$PORT" >&2
"$@"
