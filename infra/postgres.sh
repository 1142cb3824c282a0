#!/usr/bin/env bash
# Private PostgreSQL cluster for channelflow development and tests.
#
#   bash infra/postgres.sh start    # install server if missing, initdb once, start, create role + DBs
#   bash infra/postgres.sh stop
#   bash infra/postgres.sh status   # exit 0 when pg_isready -h 127.0.0.1 -p $PGPORT succeeds
#   bash infra/postgres.sh logs
#
# `start` prints the test DSN on stdout (progress goes to stderr):
#   postgresql://channelflow:channelflow@127.0.0.1:5433/channelflow_test
#
# This is OUR OWN cluster, independent of Debian's packaged `main` cluster:
#   - data dir  ${PGDATA_DIR:-$CHANNELFLOW_CACHE/pgdata}  (CHANNELFLOW_CACHE defaults to ~/.cache/channelflow)
#   - port      ${PGPORT:-5433}. The default is 5433, NOT 5432, because installing
#               Debian's `postgresql` package creates (and usually starts) the `main`
#               cluster on 5432; using 5433 means the two never clash.
#   - listens on 127.0.0.1 only; unix socket in /tmp (/tmp/.s.PGSQL.$PGPORT).
#   - role channelflow / password channelflow (LOGIN CREATEDB), databases
#     channelflow and channelflow_test owned by it.
# When run as root the server runs as the `postgres` OS user (initdb refuses root).
set -euo pipefail

CACHE="${CHANNELFLOW_CACHE:-$HOME/.cache/channelflow}"
DATA="${PGDATA_DIR:-$CACHE/pgdata}"
PORT="${PGPORT:-5433}"
SOCKDIR=/tmp
LOGFILE="$DATA/server.log"
APP_USER=channelflow
APP_PASSWORD=channelflow
DATABASES=(channelflow channelflow_test)
DSN="postgresql://$APP_USER:$APP_PASSWORD@127.0.0.1:$PORT/channelflow_test"

say() { echo "postgres.sh: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
  PG_OS_USER=postgres
  SUPERUSER=postgres
else
  PG_OS_USER="$(id -un)"
  SUPERUSER="$PG_OS_USER"
fi

# Run a command as the OS user that owns the cluster (cwd / so it never lacks access).
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u "$PG_OS_USER" -- "$@")
  else
    (cd / && "$@")
  fi
}

# --- binaries -----------------------------------------------------------------
find_bindir() {
  # Prefer the major version the data dir was created with, else the newest installed.
  if [ -f "$DATA/PG_VERSION" ]; then
    local v
    v="$(cat "$DATA/PG_VERSION")"
    if [ -x "/usr/lib/postgresql/$v/bin/postgres" ]; then
      echo "/usr/lib/postgresql/$v/bin"
      return 0
    fi
  fi
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  [ -n "$d" ] && [ -x "$d/postgres" ] || return 1
  echo "$d"
}

ensure_binaries() {
  if BIN="$(find_bindir)"; then
    return 0
  fi
  [ "$(id -u)" -eq 0 ] || die "PostgreSQL server not installed and not root: apt-get install -y postgresql"
  say "PostgreSQL server binaries missing; installing Debian package 'postgresql' ..."
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
  BIN="$(find_bindir)" || die "postgresql installed but no /usr/lib/postgresql/*/bin/postgres found"
}

# --- data dir -------------------------------------------------------------------
# The postgres OS user must be able to traverse every ancestor of the data dir
# (e.g. /root is 0700). Grant search-only permission where it is missing.
ensure_traversable() {
  [ "$(id -u)" -eq 0 ] || return 0
  local d="$1" dirs=()
  while [ "$d" != "/" ]; do
    dirs=("$d" "${dirs[@]}")
    d="$(dirname "$d")"
  done
  for d in "${dirs[@]}"; do
    [ -d "$d" ] || break
    if ! as_pg test -x "$d"; then
      if command -v setfacl >/dev/null && setfacl -m "u:$PG_OS_USER:x" "$d" 2>/dev/null; then
        say "granted $PG_OS_USER search permission on $d (ACL)"
      else
        chmod o+x "$d"
        say "granted search (o+x) permission on $d so $PG_OS_USER can reach the data dir"
      fi
    fi
  done
}

ensure_cluster() {
  if [ -f "$DATA/PG_VERSION" ]; then
    [ "$(id -u)" -ne 0 ] || chown "$PG_OS_USER:" "$DATA"
    return 0
  fi
  if [ -d "$DATA" ] && [ -n "$(ls -A "$DATA")" ]; then
    die "$DATA exists, is not empty and is not a PostgreSQL data dir"
  fi
  mkdir -p "$DATA"
  ensure_traversable "$(dirname "$DATA")"
  [ "$(id -u)" -ne 0 ] || chown "$PG_OS_USER:" "$DATA"
  chmod 700 "$DATA"
  say "initdb $DATA ($("$BIN/postgres" --version | sed 's/^postgres (PostgreSQL) //'))"
  as_pg "$BIN/initdb" -D "$DATA" -U "$SUPERUSER" -E UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=scram-sha-256 >"$CACHE/initdb.log" 2>&1 \
    || { cat "$CACHE/initdb.log" >&2; die "initdb failed"; }
  # Local dev/test cluster:
  #  - unix socket (/tmp): peer auth, used by this script as the superuser;
  #  - TCP on 127.0.0.1 / ::1: password (scram-sha-256), so the app's DSN and
  #    its password are really exercised. (trust would also be acceptable for a
  #    throwaway loopback-only cluster; scram costs nothing here.)
  #  - nothing listens beyond loopback (listen_addresses=127.0.0.1, see start).
  as_pg tee "$DATA/pg_hba.conf" >/dev/null <<'EOF'
# channelflow local dev/test cluster (written by infra/postgres.sh)
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  peer
host    all       all   127.0.0.1/32   scram-sha-256
host    all       all   ::1/128        scram-sha-256
EOF
}

# --- server -----------------------------------------------------------------------
is_running() {
  [ -f "$DATA/postmaster.pid" ] || return 1
  as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

is_ready() {
  local isready
  isready="${BIN:-$(find_bindir 2>/dev/null || true)}"
  if [ -n "$isready" ] && [ -x "$isready/pg_isready" ]; then
    "$isready/pg_isready" -q -h 127.0.0.1 -p "$PORT"
  elif command -v pg_isready >/dev/null; then
    pg_isready -q -h 127.0.0.1 -p "$PORT"
  else
    return 1
  fi
}

psql_su() {
  as_pg "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCKDIR" -p "$PORT" -U "$SUPERUSER" -d postgres "$@"
}

provision() {
  psql_su >/dev/null <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$APP_USER') THEN
    CREATE ROLE $APP_USER LOGIN CREATEDB PASSWORD '$APP_PASSWORD';
  ELSE
    ALTER ROLE $APP_USER LOGIN CREATEDB PASSWORD '$APP_PASSWORD';
  END IF;
END
\$\$;
SQL
  local db
  for db in "${DATABASES[@]}"; do
    psql_su >/dev/null <<SQL
SELECT 'CREATE DATABASE $db OWNER $APP_USER'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$db')
\gexec
ALTER DATABASE $db OWNER TO $APP_USER;
SQL
  done
}

cmd_start() {
  mkdir -p "$CACHE"
  exec 9>"$CACHE/postgres.lock"
  flock 9
  ensure_binaries
  ensure_cluster
  if is_running; then
    say "already running (data $DATA, port $PORT)"
  else
    if is_ready; then
      die "something else already answers on 127.0.0.1:$PORT (not our cluster in $DATA); set PGPORT to a free port"
    fi
    say "starting PostgreSQL on 127.0.0.1:$PORT (data $DATA, log $LOGFILE)"
    as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOGFILE" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -p $PORT -k $SOCKDIR" start >/dev/null 9>&- \
      || { tail -n 30 "$LOGFILE" >&2 || true; die "pg_ctl start failed (log: $LOGFILE)"; }
  fi
  local i
  for i in $(seq 1 30); do
    is_ready && break
    sleep 1
  done
  is_ready || die "server not accepting connections on 127.0.0.1:$PORT (log: $LOGFILE)"
  provision
  say "ready: role $APP_USER, databases ${DATABASES[*]}"
  echo "$DSN"
}

cmd_stop() {
  BIN="$(find_bindir)" || { say "not installed, nothing to stop"; return 0; }
  if ! is_running; then
    say "not running"
    return 0
  fi
  say "stopping (data $DATA) ..."
  as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null
  say "stopped"
}

cmd_status() {
  BIN="$(find_bindir 2>/dev/null || true)"
  if is_ready; then
    say "ready on 127.0.0.1:$PORT — $DSN"
    return 0
  fi
  say "not ready on 127.0.0.1:$PORT"
  return 1
}

cmd_logs() {
  tail -n "${PG_LOG_LINES:-100}" "$LOGFILE" 2>/dev/null || say "no log at $LOGFILE"
}

case "${1:-}" in
  start)  cmd_start ;;
  stop)   cmd_stop ;;
  status) cmd_status ;;
  logs)   cmd_logs ;;
  *) echo "usage: $0 start|stop|status|logs" >&2; exit 2 ;;
esac
