# tests/cli/lib/pg_harness.sh -- sourced by tests that need PostgreSQL: starts
# a scratch server from Debian's postgresql package in a private directory,
# listening on a unix socket in that directory only (no TCP), trust
# authentication for the user "vouch", and stops it and removes the
# directory on exit.  PostgreSQL refuses to run as root: as root the server
# runs as the unprivileged user "nobody".
#
#   pg_start            sets PG_BIN, PG_HOST (the socket directory), PG_PORT,
#                       PG_DIR; exits 77 (ctest SKIP) if the server binaries
#                       are not installed
#   pg_uri DBNAME       prints a libpq URI for a database (created by pg_createdb)
#   pg_createdb DBNAME  a fresh, empty database
#   pg_restart          stops and starts the server (same data)
#   pg_stop             done by the EXIT trap
pg_find_bin() {
  local d
  for d in "$(pg_config --bindir 2>/dev/null)" /usr/lib/postgresql/*/bin; do
    if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

pg_as() { # pg_as COMMAND...: runs a server command as the server's user
  if [ "$(id -u)" -eq 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

pg_start() {
  PG_BIN=$(pg_find_bin) || {
    echo "SKIP: PostgreSQL server binaries (initdb, pg_ctl, postgres) not found: apt-get install postgresql" >&2
    exit 77
  }
  PG_DIR=$(mktemp -d /tmp/vouch-pg.XXXXXX)
  chmod 755 "$PG_DIR"
  [ "$(id -u)" -eq 0 ] && chown nobody "$PG_DIR"
  PG_HOST=$PG_DIR
  PG_PORT=$((20000 + $$ % 20000))
  trap pg_stop EXIT
  if ! pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U vouch -E UTF8 --no-sync >"$PG_DIR/initdb.log" 2>&1; then
    echo "pg_harness: initdb failed:" >&2
    cat "$PG_DIR/initdb.log" >&2
    exit 1
  fi
  pg_launch
  export PG_BIN PG_HOST PG_PORT
}

pg_launch() {
  if ! pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
      -o "-c listen_addresses='' -k $PG_DIR -p $PG_PORT -c fsync=off -c max_connections=100" start >/dev/null; then
    echo "pg_harness: the server did not start:" >&2
    cat "$PG_DIR/server.log" >&2
    exit 1
  fi
}

pg_restart() {
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
  pg_launch
}

pg_stop() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ]; then
    [ -f "$PG_DIR/data/postmaster.pid" ] && pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1
    rm -rf "$PG_DIR"
  fi
  [ -n "${T:-}" ] && rm -rf "$T"
}

pg_createdb() {
  "$PG_BIN/dropdb" -h "$PG_HOST" -p "$PG_PORT" -U vouch --if-exists "$1" &&
    "$PG_BIN/createdb" -h "$PG_HOST" -p "$PG_PORT" -U vouch "$1"
}

pg_uri() { echo "postgresql:///$1?host=$PG_HOST&port=$PG_PORT&user=vouch"; }

pg_psql() { # pg_psql DBNAME SQL
  "$PG_BIN/psql" -h "$PG_HOST" -p "$PG_PORT" -U vouch -d "$1" -X -q -At -v ON_ERROR_STOP=1 -c "$2"
}
