#!/usr/bin/env bash
# Local single-node Kafka (KRaft, broker+controller in one JVM) for channelflow
# development and tests. No Docker, no tarball download: the broker jars come
# from Maven Central via infra/kafka/pom.xml and are cached.
#
#   bash infra/kafka.sh start    # fetch jars once, format storage once, start, wait until ready
#   bash infra/kafka.sh stop     # SIGTERM, wait up to 30 s, then SIGKILL
#   bash infra/kafka.sh status   # exit 0 if the broker answers on 127.0.0.1:$KAFKA_PORT, else 1
#   bash infra/kafka.sh reset    # stop and delete the data dir (next start re-formats)
#   bash infra/kafka.sh logs [-f]
#   bash infra/kafka.sh datadir  # print the data dir
#
# The data dir (topic data, logs) is kept mode 0700: only the user running the broker reads it.
#
# Environment:
#   CHANNELFLOW_CACHE      cache root (default ~/.cache/channelflow)
#   KAFKA_DATA_DIR         data dir (default $CHANNELFLOW_CACHE/kafka-data)
#   KAFKA_PORT             client port (default 9092), bootstrap = 127.0.0.1:$KAFKA_PORT
#   KAFKA_CONTROLLER_PORT  KRaft controller port (default 9093)
#   KAFKA_START_TIMEOUT    seconds to wait for readiness (default 90)
#   KAFKA_JAVA_OPTS        extra JVM options
#   CHANNELFLOW_PYTHON     python used for the (stdlib-only) readiness probe (default python3)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONF_DIR="$SCRIPT_DIR/kafka"
POM="$CONF_DIR/pom.xml"

# Single source of truth for the version: the pom.
KAFKA_VERSION="$(sed -n 's:.*<kafka\.version>\(.*\)</kafka\.version>.*:\1:p' "$POM" | head -n1)"
[ -n "$KAFKA_VERSION" ] || { echo "kafka.sh: cannot read <kafka.version> from $POM" >&2; exit 1; }

CACHE="${CHANNELFLOW_CACHE:-$HOME/.cache/channelflow}"
LIBS="$CACHE/kafka-$KAFKA_VERSION/libs"
DATA="${KAFKA_DATA_DIR:-$CACHE/kafka-data}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
PY="${CHANNELFLOW_PYTHON:-python3}"

PIDFILE="$DATA/kafka.pid"
PROPS="$DATA/server.properties"
STORAGE="$DATA/data"          # Kafka's log.dirs (topic data + KRaft metadata log)
LOGDIR="$DATA/logs"           # log4j output (server.log) and JVM stdout (kafka.out)
OUT="$LOGDIR/kafka.out"
SERVER_LOG="$LOGDIR/server.log"

say() { echo "kafka.sh: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# Serialise start/stop/reset (and the jar fetch) across concurrent invocations.
take_lock() {
  [ -d "$CACHE" ] || mkdir -p -m 700 "$CACHE"
  exec 9>"$CACHE/kafka.lock"
  flock 9
}

# --- readiness probe ------------------------------------------------------
# Pure-stdlib Kafka wire protocol check: ApiVersions v0 (key 18), then, if the
# broker supports it, Metadata v4 (key 3) with an empty topic list, requiring
# at least one registered broker and a known controller. Exit 0 = ready.
probe() {
  "$PY" - "$KAFKA_PORT" <<'PYEOF' 2>/dev/null
import socket, struct, sys

port = int(sys.argv[1])

def call(sock, api_key, version, corr, body=b""):
    client = b"kafka.sh-probe"
    hdr = struct.pack(">hhih", api_key, version, corr, len(client)) + client
    msg = hdr + body
    sock.sendall(struct.pack(">i", len(msg)) + msg)
    def recv(n):
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise EOFError("connection closed")
            buf += chunk
        return buf
    (size,) = struct.unpack(">i", recv(4))
    resp = recv(size)
    (rcorr,) = struct.unpack(">i", resp[:4])
    if rcorr != corr:
        raise ValueError("correlation id mismatch")
    return resp[4:]

with socket.create_connection(("127.0.0.1", port), timeout=3) as s:
    s.settimeout(3)
    body = call(s, 18, 0, 1)
    err, n = struct.unpack(">hi", body[:6])
    if err != 0:
        sys.exit(2)
    ranges = {}
    off = 6
    for _ in range(n):
        k, lo, hi = struct.unpack(">hhh", body[off:off + 6])
        ranges[k] = (lo, hi)
        off += 6
    lo, hi = ranges.get(3, (99, -1))
    if not (lo <= 4 <= hi):
        sys.exit(0)  # ApiVersions answered; cannot check metadata with v4
    # Metadata v4: topics = [] (int32 0), allow_auto_topic_creation = false
    body = call(s, 3, 4, 2, struct.pack(">ib", 0, 0))
    off = 4  # throttle_time_ms
    (nbrokers,) = struct.unpack(">i", body[off:off + 4]); off += 4
    for _ in range(nbrokers):
        off += 4  # node_id
        (hl,) = struct.unpack(">h", body[off:off + 2]); off += 2 + hl
        off += 4  # port
        (rl,) = struct.unpack(">h", body[off:off + 2]); off += 2 + max(rl, 0)
    (cl,) = struct.unpack(">h", body[off:off + 2]); off += 2 + max(cl, 0)
    (controller,) = struct.unpack(">i", body[off:off + 4])
    sys.exit(0 if nbrokers >= 1 and controller >= 0 else 3)
PYEOF
}

# --- process helpers ------------------------------------------------------
read_pid() {
  [ -f "$PIDFILE" ] || return 1
  local pid
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  echo "$pid"
}

# True if $1 is alive and is our kafka.Kafka JVM (guards against pid reuse).
is_our_kafka() {
  local pid="$1"
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka'
}

running_pid() {
  local pid
  pid="$(read_pid)" || return 1
  is_our_kafka "$pid" || return 1
  echo "$pid"
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# --- setup ----------------------------------------------------------------
need_tools() {
  command -v java >/dev/null || die "java not found (Java 17+ needed; e.g. apt-get install -y openjdk-17-jre-headless)"
  command -v "$PY" >/dev/null || die "$PY not found (needed for the readiness probe)"
}

fetch_jars() {
  if [ -f "$LIBS/kafka_2.13-$KAFKA_VERSION.jar" ] && [ -f "$LIBS/kafka-tools-$KAFKA_VERSION.jar" ]; then
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (needed once to fetch the Kafka jars; e.g. apt-get install -y maven)"
  say "fetching Kafka $KAFKA_VERSION jars from Maven Central into $LIBS (one-time) ..."
  local parent tmp
  parent="$(dirname "$LIBS")"
  mkdir -p "$parent"
  rm -rf "$parent"/libs.tmp.*   # leftovers of an interrupted fetch (we hold the lock)
  tmp="$(mktemp -d "$parent/libs.tmp.XXXXXX")"
  chmod 755 "$tmp"
  if ! mvn -q -B -f "$POM" dependency:copy-dependencies -DoutputDirectory="$tmp" >"$parent/mvn-fetch.log" 2>&1; then
    rm -rf "$tmp"
    tail -n 30 "$parent/mvn-fetch.log" >&2 || true
    die "maven fetch failed (full log: $parent/mvn-fetch.log)"
  fi
  [ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ] || { rm -rf "$tmp"; die "maven fetch did not produce kafka_2.13-$KAFKA_VERSION.jar"; }
  rm -rf "$LIBS"
  mv "$tmp" "$LIBS"   # atomic rename: a half-done fetch never looks complete
  say "fetched $(ls "$LIBS" | wc -l) jars"
}

render_props() {
  mkdir -p "$STORAGE" "$LOGDIR"
  sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" \
      -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
      -e "s|@KAFKA_LOG_DIRS@|$STORAGE|g" \
      "$CONF_DIR/server.properties.in" >"$PROPS.tmp"
  mv "$PROPS.tmp" "$PROPS"
}

java_args() {
  # Fills the JAVA_ARGS array (no word splitting / globbing of the classpath).
  # G1 regions of 4 MiB: a worker's changelog requests are ~1 MB (its producer batches up
  # to 1,000,000 bytes), and with the 1 MiB regions G1 picks for a 512 MiB heap anything
  # over 512 KiB is "humongous", allocated straight in the old generation: the old gen
  # filled ~5-8 MB a second under a steady load, young collections and concurrent cycles
  # every few seconds followed (bench/README.md, "The two-worker latency tail"). With 4 MiB
  # regions only 2 MiB and more is: the requests stay in eden and die young. The pause
  # target is Kafka's own launcher's (20 ms; G1's default is 200).
  JAVA_ARGS=(java -Xms512m -Xmx512m -XX:+UseG1GC -XX:G1HeapRegionSize=4m
    -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$CONF_DIR/log4j2.properties"
    "-Dkafka.logs.dir=$LOGDIR")
  if [ -n "${KAFKA_JAVA_OPTS:-}" ]; then
    local extra
    read -r -a extra <<<"$KAFKA_JAVA_OPTS"
    JAVA_ARGS+=("${extra[@]}")
  fi
  JAVA_ARGS+=(-cp "$LIBS/*")
}

format_storage() {
  if [ -f "$STORAGE/meta.properties" ]; then
    return 0
  fi
  say "formatting KRaft storage in $STORAGE (one-time) ..."
  local uuid
  uuid="$(java -cp "$LIBS/*" "-Dlog4j2.configurationFile=$CONF_DIR/log4j2.properties" \
            "-Dkafka.logs.dir=$LOGDIR" kafka.tools.StorageTool random-uuid 2>>"$LOGDIR/format.log" | tail -n1)"
  [ -n "$uuid" ] || die "StorageTool random-uuid failed (see $LOGDIR/format.log)"
  java -cp "$LIBS/*" "-Dlog4j2.configurationFile=$CONF_DIR/log4j2.properties" \
    "-Dkafka.logs.dir=$LOGDIR" kafka.tools.StorageTool format -t "$uuid" -c "$PROPS" -g \
    >>"$LOGDIR/format.log" 2>&1 || { tail -n 20 "$LOGDIR/format.log" >&2; die "StorageTool format failed (see $LOGDIR/format.log)"; }
  say "formatted (cluster id $uuid)"
}

wait_ready() {
  local pid="$1" deadline=$((SECONDS + START_TIMEOUT))
  while :; do
    if probe; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      say "broker process $pid exited during startup; last lines of $OUT and $SERVER_LOG:"
      tail -n 20 "$OUT" >&2 2>/dev/null || true
      tail -n 30 "$SERVER_LOG" >&2 2>/dev/null || true
      rm -f "$PIDFILE"
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "broker (pid $pid) not ready after ${START_TIMEOUT}s; see $SERVER_LOG"
      tail -n 30 "$SERVER_LOG" >&2 2>/dev/null || true
      return 1
    fi
    sleep 1
  done
}

# --- commands ---------------------------------------------------------------
cmd_start() {
  need_tools
  take_lock
  mkdir -p "$DATA"
  chmod 700 "$DATA"
  local pid
  if pid="$(running_pid)"; then
    if probe; then
      say "already running (pid $pid) and ready on 127.0.0.1:$KAFKA_PORT"
      return 0
    fi
    say "already running (pid $pid), waiting for readiness ..."
    wait_ready "$pid" || exit 1
    say "ready on 127.0.0.1:$KAFKA_PORT (pid $pid)"
    return 0
  fi
  rm -f "$PIDFILE"
  if port_in_use "$KAFKA_PORT"; then
    if probe; then
      say "a Kafka broker not started from $DATA already answers on 127.0.0.1:$KAFKA_PORT; using it (this script will not stop it)"
      return 0
    fi
    die "port 127.0.0.1:$KAFKA_PORT is in use by something that is not a ready Kafka broker"
  fi
  port_in_use "$KAFKA_CONTROLLER_PORT" && die "controller port 127.0.0.1:$KAFKA_CONTROLLER_PORT is already in use (set KAFKA_CONTROLLER_PORT)"

  fetch_jars
  render_props
  format_storage

  say "starting Kafka $KAFKA_VERSION (KRaft) on 127.0.0.1:$KAFKA_PORT, data $STORAGE"
  say "logs: $SERVER_LOG (JVM stdout/stderr: $OUT)"
  # setsid: own session, so the broker survives the invoking shell/job.
  # 9>&- : do not leak the lock fd into the long-lived JVM.
  local JAVA_ARGS
  java_args
  nohup setsid bash -c 'echo $$ >"$0"; exec "$@"' "$PIDFILE" \
    "${JAVA_ARGS[@]}" kafka.Kafka "$PROPS" \
    >>"$OUT" 2>&1 </dev/null 9>&- &
  local deadline=$((SECONDS + 10))
  until pid="$(read_pid)"; do
    [ "$SECONDS" -lt "$deadline" ] || die "broker did not write its pid file"
    sleep 0.1
  done
  say "started pid $pid, waiting up to ${START_TIMEOUT}s for readiness ..."
  wait_ready "$pid" || exit 1
  say "ready: bootstrap servers 127.0.0.1:$KAFKA_PORT (pid $pid)"
}

cmd_stop() {
  take_lock
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PIDFILE"
    say "not running"
    return 0
  fi
  say "stopping pid $pid (SIGTERM) ..."
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      say "still alive after 30s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 1
      break
    fi
    sleep 0.5
  done
  rm -f "$PIDFILE"
  say "stopped"
}

cmd_status() {
  local pid=""
  pid="$(running_pid)" || pid=""
  if probe; then
    say "ready on 127.0.0.1:$KAFKA_PORT${pid:+ (pid $pid)}"
    return 0
  fi
  if [ -n "$pid" ]; then
    say "process $pid running but not ready on 127.0.0.1:$KAFKA_PORT"
  else
    say "not running"
  fi
  return 1
}

cmd_reset() {
  cmd_stop
  # cmd_stop took the lock on fd 9; it is still held here.
  if [ -d "$DATA" ]; then
    rm -rf "$DATA"
    say "deleted $DATA (next start re-formats)"
  else
    say "nothing to delete at $DATA"
  fi
}

cmd_logs() {
  if [ "${1:-}" = "-f" ]; then
    exec tail -n 50 -F "$SERVER_LOG"
  fi
  say "$SERVER_LOG (last ${KAFKA_LOG_LINES:-100} lines):"
  tail -n "${KAFKA_LOG_LINES:-100}" "$SERVER_LOG" 2>/dev/null || say "no log yet"
  if [ -s "$OUT" ]; then
    say "$OUT (last 20 lines):"
    tail -n 20 "$OUT"
  fi
}

case "${1:-}" in
  start)  cmd_start ;;
  stop)   cmd_stop ;;
  status) cmd_status ;;
  reset)  cmd_reset ;;
  logs)   shift; cmd_logs "$@" ;;
  datadir) echo "$DATA" ;;
  # Kafka's own console consumer (bin/kafka-console-consumer.sh of the distribution)
  console-consumer) shift; [ -f "$LIBS/kafka-tools-$KAFKA_VERSION.jar" ] || die "no kafka-tools jar: run $0 start"
    exec java -cp "$LIBS/*" "-Dlog4j2.configurationFile=$CONF_DIR/log4j2.properties" \
      org.apache.kafka.tools.consumer.ConsoleConsumer "$@" ;;
  *) echo "usage: $0 start|stop|status|reset|logs [-f]|datadir|console-consumer ARGS" >&2; exit 2 ;;
esac
