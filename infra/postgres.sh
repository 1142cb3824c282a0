#!/usr/bin/env bash
# Private PostgreSQL cluster for channelflow development and tests.
#
#   bash infra/postgres.sh start    # install server if missing, initdb once, start, create role + DBs
#   bash infra/postgres.sh stop
#   bash infra/postgres.sh status   # exit 0 when pg_isready -h 127.0.0.1 -p $PGPORT succeeds
#   bash infra/postgres.sh logs
#   bash infra/postgres.sh datadir  # print the data dir
#
# `start` prints the test DSN on its last line of stdout (progress goes to stderr):
#   postgresql://channelflow:channelflow@127.0.0.1:5433/channelflow_test
#
# This is OUR OWN cluster, independent of Debian's packaged `main` cluster:
#   - data dir  ${PGDATA_DIR:-...}, mode 0700, readable only by the OS user running the server:
#               as root /var/lib/channelflow/postgresql, owned by `postgres` (initdb refuses
#               root), outside any home directory; otherwise $CHANNELFLOW_CACHE/pgdata
#               (CHANNELFLOW_CACHE defaults to ~/.cache/channelflow), owned by the invoking user.
#               The script changes no other directory's permissions: as root, a PGDATA_DIR the
#               postgres user cannot reach is an error.
#   - port      ${PGPORT:-5433}. The default is 5433, NOT 5432, because installing
#               Debian's `postgresql` package creates (and usually starts) the `main`
#               cluster on 5432; using 5433 means the two never clash.
#   - listens on 127.0.0.1 only; unix socket in /tmp (/tmp/.s.PGSQL.$PGPORT).
#   - role channelflow / password channelflow (LOGIN CREATEDB), databases
#     channelflow and channelflow_test owned by it.
# Earlier versions kept root's data dir in ~/.cache/channelflow/pgdata and let `postgres` through
# its ancestors (chmod o+x or an ACL, root's home included); `start` and `stop` stop a server still
# running from there and take that permission back (its data stays; delete it by hand).
set -euo pipefail

CACHE="${CHANNELFLOW_CACHE:-$HOME/.cache/channelflow}"
if [ "$(id -u)" -eq 0 ]; then
  PG_OS_USER=postgres
  SUPERUSER=postgres
  DATA="${PGDATA_DIR:-/var/lib/channelflow/postgresql}"
else
  PG_OS_USER="$(id -un)"
  SUPERUSER="$PG_OS_USER"
  DATA="${PGDATA_DIR:-$CACHE/pgdata}"
fi
LEGACY_DATA="$CACHE/pgdata"  # root's data dir in earlier versions
PORT="${PGPORT:-5433}"
SOCKDIR=/tmp
LOGFILE="$DATA/server.log"
APP_USER=channelflow
APP_PASSWORD=channelflow
DATABASES=(channelflow channelflow_test)
DSN="postgresql://$APP_USER:$APP_PASSWORD@127.0.0.1:$PORT/channelflow_test"

say() { echo "postgres.sh: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

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
# Owned by the server's OS user, mode 0700. Nothing else on the host is opened up for it.
ensure_cluster() {
  if [ ! -f "$DATA/PG_VERSION" ] && [ -d "$DATA" ] && [ -n "$(ls -A "$DATA")" ]; then
    die "$DATA exists, is not empty and is not a PostgreSQL data dir"
  fi
  local parent
  parent="$(dirname "$DATA")"
  [ -d "$parent" ] || mkdir -p -m 755 "$parent"
  as_pg test -x "$parent" || die "the $PG_OS_USER user cannot reach $parent (a directory on the \
way is private); set PGDATA_DIR to a place it can reach (as root the default is /var/lib/channelflow/postgresql)"
  [ -d "$DATA" ] || mkdir -m 700 "$DATA"
  [ "$(id -u)" -ne 0 ] || chown "$PG_OS_USER:" "$DATA"
  chmod 700 "$DATA"
  [ ! -f "$DATA/PG_VERSION" ] || return 0
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

# --- the earlier layout -----------------------------------------------------------
# As root, the data dir was $LEGACY_DATA, in root's home, and the postgres user was let through
# its ancestors. Stop a server still running from there, take that permission back.
leave_legacy() {
  [ "$(id -u)" -eq 0 ] && [ "$DATA" != "$LEGACY_DATA" ] && [ -f "$LEGACY_DATA/PG_VERSION" ] \
    || return 0
  stop_legacy
  revoke_legacy_access
  say "the old data dir $LEGACY_DATA is no longer used (remove it: rm -rf $LEGACY_DATA)"
}

# pg_ctl runs as postgres, which may no longer reach the old dir: signal the postmaster (SIGINT
# is pg_ctl's fast shutdown), after checking the pid is that dir's postmaster.
stop_legacy() {
  local pid i
  pid="$(head -n 1 "$LEGACY_DATA/postmaster.pid" 2>/dev/null)" || return 0
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-D $LEGACY_DATA " || return 0
  say "stopping the server running from the old data dir $LEGACY_DATA (pid $pid) ..."
  kill -INT "$pid"
  for i in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || { say "stopped"; return 0; }
    sleep 0.5
  done
  die "the old server (pid $pid) did not stop within 60 s"
}

# What the earlier versions granted on the directories between $HOME and the old data dir: an
# ACL entry for postgres, or search permission for others on a directory they could not list.
revoke_legacy_access() {
  local d="$LEGACY_DATA" mode
  while d="$(dirname "$d")"; [ "$d" = "$HOME" ] || [[ "$d" == "$HOME"/* ]]; do
    if command -v getfacl >/dev/null && getfacl -p "$d" 2>/dev/null | grep -q "^user:$PG_OS_USER:"; then
      setfacl -x "u:$PG_OS_USER" "$d"
      say "removed the ACL entry of $PG_OS_USER on $d"
    fi
    mode="$(stat -c %a "$d")"
    if [ "${mode: -1}" = 1 ]; then
      chmod o-x "$d"
      say "removed the search permission for others (o+x) on $d"
    fi
  done
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

take_lock() {
  [ -d "$CACHE" ] || mkdir -p -m 700 "$CACHE"
  exec 9>"$CACHE/postgres.lock"
  flock 9
}

cmd_start() {
  take_lock
  ensure_binaries
  leave_legacy
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
  take_lock
  leave_legacy
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
  start)   cmd_start ;;
  stop)    cmd_stop ;;
  status)  cmd_status ;;
  logs)    cmd_logs ;;
  datadir) echo "$DATA" ;;
  *) echo "usage: $0 start|stop|status|logs|datadir" >&2; exit 2 ;;
esac
