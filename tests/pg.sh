# Sourced by tests/run-all.sh: a private, throw-away PostgreSQL for the tests.
# It listens on 127.0.0.1:$SIGHTLINE_TEST_PG_PORT (default 54329) with trust auth
# and fsync off (speed; the cluster is deleted afterwards). PostgreSQL refuses to
# run as root, so as root the cluster belongs to the `postgres` user.

PG_BIN=${SIGHTLINE_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PG_DIR=${SIGHTLINE_TEST_PG_DIR:-/tmp/sightline-test-pg}
PG_PORT=${SIGHTLINE_TEST_PG_PORT:-54329}

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
  if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
    echo "PostgreSQL server binaries not found: install them (apt-get install postgresql)" >&2
    return 1
  fi
  if [ -f "$PG_DIR/postmaster.pid" ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$PG_DIR"
  mkdir -p "$PG_DIR"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$PG_DIR"; fi
  chmod 700 "$PG_DIR"
  as_pg "$PG_BIN/initdb" -D "$PG_DIR" -A trust -U postgres -E UTF8 --locale=C >/dev/null
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" -l "$PG_DIR/server.log" -w \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null
  export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
  echo "test PostgreSQL running at $DATABASE_URL"
}

pg_stop() {
  as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
