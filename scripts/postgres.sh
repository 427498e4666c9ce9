#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on 127.0.0.1 for the store tests and print its
# SQLAlchemy URL on stdout (everything else goes to stderr), e.g.
#   export XLPLAN_TEST_POSTGRES_URL=$(bash scripts/postgres.sh)
# Debian: installs the postgresql package when it is missing (needs root). The cluster
# lives in a temporary folder, trusts loopback connections and is not the system's
# cluster: nothing else on the machine is touched. Running it again reuses the server.
# Stop it with: bash scripts/postgres.sh stop (`status` exits 0 while it runs)
set -euo pipefail
PORT=${XLPLAN_PG_PORT:-54329}
DIR=${XLPLAN_PG_DIR:-/tmp/xlplan-postgres}
DB=${XLPLAN_PG_DB:-xlplan_test}

if [ "${1:-}" = status ] && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  exit 1  # not even installed
fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "installing postgresql (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

# PostgreSQL refuses to run as root: as root, run its programs as the postgres user.
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi

if [ "${1:-}" = status ]; then  # exit 0 when this script's server is running
  exec >/dev/null 2>&1
  as_pg "$BIN/pg_ctl" -D "$DIR" status
  exit $?
fi
if [ "${1:-}" = stop ]; then
  as_pg "$BIN/pg_ctl" -D "$DIR" -m fast stop >&2 || true
  exit 0
fi

if ! as_pg "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
  rm -rf "$DIR"
  mkdir -p "$DIR"
  [ "$(id -u)" = 0 ] && chown postgres "$DIR"
  as_pg "$BIN/initdb" -D "$DIR" -U xlplan --auth=trust -E UTF8 --locale=C.UTF-8 >"$DIR.initdb.log" 2>&1 \
    || { cat "$DIR.initdb.log" >&2; exit 1; }
  as_pg "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w -t 60 \
    -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >&2
fi
as_pg "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U xlplan -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 \
  || as_pg "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U xlplan "$DB" >&2
echo "postgresql+psycopg://xlplan@127.0.0.1:$PORT/$DB"
