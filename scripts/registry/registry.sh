#!/usr/bin/env bash
# Fetch, cache, start and stop a real Confluent-compatible schema registry: Apicurio Registry (the Quarkus
# fast-jar from Maven Central, in-memory storage), whose Confluent API is at /apis/ccompat/v7. No Docker.
#
#   scripts/registry/registry.sh fetch|start|stop|status|help
#
# See scripts/registry/README.md for the environment variables, folders and the registry's behaviour.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
# shellcheck source=../lib/fetch-lock.sh
source "$SCRIPT_DIR/../lib/fetch-lock.sh"
# shellcheck source=../lib/service.sh
source "$SCRIPT_DIR/../lib/service.sh"

APICURIO_VERSION="${APICURIO_VERSION:-3.3.3}"
REGISTRY_HOST=127.0.0.1
REGISTRY_PORT="${REGISTRY_PORT:-8081}"
# Quarkus' management interface (health, metrics) is compiled in and needs a port of its own; 0 = any free one.
REGISTRY_MANAGEMENT_PORT="${REGISTRY_MANAGEMENT_PORT:-0}"
REGISTRY_CACHE_DIR="${REGISTRY_CACHE_DIR:-$REPO_ROOT/.cache/registry}"
REGISTRY_STATE_DIR="${REGISTRY_STATE_DIR:-$REGISTRY_CACHE_DIR/run-$REGISTRY_PORT}"
REGISTRY_HEAP_OPTS="${REGISTRY_HEAP_OPTS:--Xms64m -Xmx512m}"
# C1 only: starts in about half the time (6 s instead of 11 s on two cores); plenty for tests and demos.
REGISTRY_JVM_PERFORMANCE_OPTS="${REGISTRY_JVM_PERFORMANCE_OPTS:--XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true}"
REGISTRY_JAVA_OPTS="${REGISTRY_JAVA_OPTS:-}"
REGISTRY_START_TIMEOUT="${REGISTRY_START_TIMEOUT:-120}"
REGISTRY_STOP_TIMEOUT="${REGISTRY_STOP_TIMEOUT:-30}"
REGISTRY_MAVEN_ARGS="${REGISTRY_MAVEN_ARGS:-}"
# Global compatibility rule set at start (BACKWARD, FULL_TRANSITIVE...); empty: Apicurio's default, NONE.
REGISTRY_COMPATIBILITY="${REGISTRY_COMPATIBILITY:-}"

ARTIFACT="io.apicurio:apicurio-registry-app:$APICURIO_VERSION:tar.gz:all"
# Pinned so the goal does not depend on Maven's default plugin version (kafka.sh's fetch uses it too).
DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
VERSION_DIR="$REGISTRY_CACHE_DIR/$APICURIO_VERSION"
APP_DIR="$VERSION_DIR/app" # the unpacked fast-jar: quarkus-run.jar, lib/, app/, quarkus/
RUN_JAR="$APP_DIR/quarkus-run.jar"
MARKER="$APP_DIR/.fetch-complete"

STATE_MARKER="$REGISTRY_STATE_DIR/.registry-sh-state"
PID_FILE="$REGISTRY_STATE_DIR/registry.pid"
LOG_FILE="$REGISTRY_STATE_DIR/registry.log" # the JVM's stdout/stderr: Quarkus logs to the console
TMP_DIR="$REGISTRY_STATE_DIR/tmp"
READY_PATH=/apis/ccompat/v7/subjects

# For log/die and the service_* functions (scripts/lib/service.sh).
SERVICE_TAG=registry
SERVICE_NAME=registry
SERVICE_STATE_DIR="$REGISTRY_STATE_DIR"
SERVICE_STATE_MARKER="$STATE_MARKER"
SERVICE_STATE_NOTE="state folder of scripts/registry/registry.sh (logs only: storage is in memory)"
SERVICE_PID_FILE="$PID_FILE"

if ! is_uint "$REGISTRY_PORT" || ((REGISTRY_PORT < 1 || REGISTRY_PORT > 65535)); then
  die "REGISTRY_PORT must be a TCP port, got '$REGISTRY_PORT'"
fi
if ! is_uint "$REGISTRY_MANAGEMENT_PORT" || ((REGISTRY_MANAGEMENT_PORT > 65535)); then
  die "REGISTRY_MANAGEMENT_PORT must be a TCP port or 0, got '$REGISTRY_MANAGEMENT_PORT'"
fi
case "$REGISTRY_COMPATIBILITY" in
  "" | NONE | BACKWARD | BACKWARD_TRANSITIVE | FORWARD | FORWARD_TRANSITIVE | FULL | FULL_TRANSITIVE) ;;
  *) die "REGISTRY_COMPATIBILITY must be empty or one of NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE; got '$REGISTRY_COMPATIBILITY'" ;;
esac
is_uint "$REGISTRY_START_TIMEOUT" || die "REGISTRY_START_TIMEOUT must be a number of seconds, got '$REGISTRY_START_TIMEOUT'"

# ---------------------------------------------------------------------------- java

# java_major <java binary>: the feature release (8, 17, 21, 25...), empty if it does not run.
java_major() {
  local v major
  v="$("$1" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -1)" || true
  [[ -n "$v" ]] || return 0
  major="${v%%[.+-]*}"
  [[ "$major" == 1 ]] && major="$(echo "$v" | cut -d. -f2)" # 1.8.0_x
  is_uint "${major:-x}" && echo "$major"
  return 0
}

# Apicurio Registry 3.3 is built for Java 21. Looked for in this order: $REGISTRY_JAVA_HOME (used as
# given), $JAVA_HOME, Temurin 21+ in /usr/lib/jvm, any other JDK there, then java on PATH.
JAVA_BIN=""
find_java() {
  [[ -n "$JAVA_BIN" ]] && return 0
  if [[ -n "${REGISTRY_JAVA_HOME:-}" ]]; then
    [[ -x "$REGISTRY_JAVA_HOME/bin/java" ]] || die "REGISTRY_JAVA_HOME=$REGISTRY_JAVA_HOME has no bin/java"
    local m
    m="$(java_major "$REGISTRY_JAVA_HOME/bin/java")"
    if [[ -z "$m" ]] || ((m < 21)); then
      die "REGISTRY_JAVA_HOME=$REGISTRY_JAVA_HOME is Java ${m:-(unknown version)}; Apicurio Registry needs Java 21 or newer"
    fi
    JAVA_BIN="$REGISTRY_JAVA_HOME/bin/java"
    return 0
  fi
  local -a candidates=()
  [[ -n "${JAVA_HOME:-}" ]] && candidates+=("$JAVA_HOME/bin/java")
  local d
  for d in /usr/lib/jvm/*temurin-2[1-9]*/ /usr/lib/jvm/*/; do
    [[ -x "${d}bin/java" ]] && candidates+=("${d%/}/bin/java")
  done
  command -v java >/dev/null 2>&1 && candidates+=("$(command -v java)")
  local c m found=""
  for c in ${candidates[@]+"${candidates[@]}"}; do
    m="$(java_major "$c")"
    [[ -n "$m" ]] || continue
    if ((m >= 21)); then
      JAVA_BIN="$c"
      return 0
    fi
    [[ -z "$found" ]] && found="Java $m at $(readlink -f "$c" 2>/dev/null || echo "$c")"
  done
  if [[ -n "$found" ]]; then
    die "Apicurio Registry needs Java 21 or newer; found only $found; install a JDK 21+ or set REGISTRY_JAVA_HOME"
  fi
  die "Apicurio Registry needs Java 21 or newer; no java found (JAVA_HOME, /usr/lib/jvm, PATH); install a JDK 21+ or set REGISTRY_JAVA_HOME"
}

# ---------------------------------------------------------------------------- fetch

fingerprint() { printf 'artifact=%s\n' "$ARTIFACT"; }
fetch_complete() { [[ -f "$RUN_JAR" && -f "$MARKER" && "$(cat "$MARKER")" == "$(fingerprint)" ]]; }

# Maven copies the tarball (from ~/.m2, downloading it there first) into a temp folder; it is unpacked
# next to the final folder, and marker + rename come last so an interrupted fetch never looks complete.
fetch() {
  local t0 tmp tarball
  t0="$(now_ms)"
  tmp="$VERSION_DIR/fetch.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp/download" "$tmp/app"
  log "fetching Apicurio Registry $APICURIO_VERSION ($ARTIFACT, about 160 MB) with Maven into $APP_DIR"
  local -a mvn_args
  read -r -a mvn_args <<<"$REGISTRY_MAVEN_ARGS"
  if ! mvn -q -B -Dstyle.color=never ${mvn_args[@]+"${mvn_args[@]}"} \
    "$DEPENDENCY_PLUGIN:copy" -Dartifact="$ARTIFACT" -DoutputDirectory="$tmp/download" 2>&1 |
    sed -u 's/\x1b\[[0-9;]*m//g'; then # Maven 3.8 -q still prints ANSI resets
    rm -rf "$tmp"
    die "Maven could not fetch $ARTIFACT from Maven Central (see output above)"
  fi
  tarball="$tmp/download/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz"
  [[ -f "$tarball" ]] || { rm -rf "$tmp"; die "$(basename "$tarball") missing after the Maven copy"; }
  local size
  size="$(du -h "$tarball" | cut -f1)"
  if ! tar --no-same-owner -xzf "$tarball" -C "$tmp/app"; then
    rm -rf "$tmp"
    die "could not unpack $(basename "$tarball")"
  fi
  [[ -f "$tmp/app/quarkus-run.jar" ]] || { rm -rf "$tmp"; die "quarkus-run.jar missing from $(basename "$tarball")"; }
  fingerprint >"$tmp/app/.fetch-complete"
  rm -rf "$APP_DIR"
  mv "$tmp/app" "$APP_DIR"
  rm -rf "$tmp"
  log "fetched Apicurio Registry $APICURIO_VERSION ($size tarball, $(du -sh "$APP_DIR" | cut -f1) unpacked) in $(elapsed "$t0")"
}

# ensure_fetched [verbose]
ensure_fetched() {
  local verbose="${1:-}"
  if fetch_complete; then
    [[ -n "$verbose" ]] && log "Apicurio Registry $APICURIO_VERSION already cached in $APP_DIR; nothing to download"
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn (Maven 3.6.3+) not found; it is needed once to download Apicurio Registry"
  lock_fetch "$VERSION_DIR" "Apicurio Registry $APICURIO_VERSION"
  if fetch_complete; then # fetched by whoever held the lock
    exec {FETCH_LOCK_FD}>&-
    [[ -n "$verbose" ]] && log "Apicurio Registry $APICURIO_VERSION already cached in $APP_DIR; nothing to download"
    return 0
  fi
  fetch
  exec {FETCH_LOCK_FD}>&-
}

# ---------------------------------------------------------------------------- probes

# http_status <path>: the status code of GET http://127.0.0.1:$REGISTRY_PORT<path> (000 if no answer).
http_status() {
  local line
  # shellcheck disable=SC2016 # expanded by the inner bash
  line="$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "GET %s HTTP/1.1\r\nHost: %s:%s\r\nAccept: application/json\r\nConnection: close\r\n\r\n" "$2" "$0" "$1" >&3
    head -n 1 <&3
  ' "$REGISTRY_HOST" "$REGISTRY_PORT" "$1" 2>/dev/null)" || true
  line="${line#HTTP/* }"
  line="${line:0:3}"
  is_uint "${line:-x}" && echo "$line" || echo 000
}

# The registry serves the Confluent API once its storage is ready; before that it answers 503.
registry_responds() {
  [[ "$(http_status "$READY_PATH")" == 200 ]]
}

# Are the arguments the command line of a JVM started by this script for this state folder? (bash
# builtins only: service_pid runs this for every process when the pid file is missing)
is_registry_cmdline() {
  local a
  for a in "$@"; do
    [[ "$a" == "-Dstreamscore.registry.state=$REGISTRY_STATE_DIR" ]] && return 0
  done
  return 1
}

# Prints the pid of the registry started for $REGISTRY_STATE_DIR, if it is alive.
registry_pid() { service_pid is_registry_cmdline; }

log_tail() {
  print_tail "$LOG_FILE" "${1:-40}"
}

# wait_ready <pid> <t0-ms>
wait_ready() {
  local pid="$1" t0="$2"
  service_wait_ready "$pid" "$REGISTRY_START_TIMEOUT" "$REGISTRY_HOST:$REGISTRY_PORT" registry_responds
  log "registry ready at http://$REGISTRY_HOST:$REGISTRY_PORT/apis/ccompat/v7 (pid $pid, started in $(elapsed "$t0"), log $LOG_FILE)"
}

# ---------------------------------------------------------------------------- commands

cmd_fetch() {
  ensure_fetched verbose
}

cmd_start() {
  local t0
  t0="$(now_ms)"
  find_java
  ensure_fetched
  service_lock_state

  local pid
  if pid="$(registry_pid)"; then
    [[ "$(cat "$PID_FILE" 2>/dev/null)" == "$pid" ]] || echo "$pid" >"$PID_FILE"
    if registry_responds; then
      log "registry already running at http://$REGISTRY_HOST:$REGISTRY_PORT (pid $pid, state $REGISTRY_STATE_DIR)"
      return 0
    fi
    log "registry (pid $pid) is starting; waiting for it"
    wait_ready "$pid" "$t0"
    return 0
  fi
  if port_open "$REGISTRY_HOST" "$REGISTRY_PORT"; then
    if registry_responds; then
      log "a schema registry is already running at http://$REGISTRY_HOST:$REGISTRY_PORT (not started from $REGISTRY_STATE_DIR; leaving it alone)"
      return 0
    fi
    die "$REGISTRY_HOST:$REGISTRY_PORT is in use by something that does not answer GET $READY_PATH with 200"
  fi
  if ((REGISTRY_MANAGEMENT_PORT != 0)) && port_open "$REGISTRY_HOST" "$REGISTRY_MANAGEMENT_PORT"; then
    die "management port $REGISTRY_HOST:$REGISTRY_MANAGEMENT_PORT is already in use (set REGISTRY_MANAGEMENT_PORT, or 0 for any free port)"
  fi

  rm -f "$PID_FILE"
  mkdir -p "$TMP_DIR"
  local -a heap perf opts
  read -r -a heap <<<"$REGISTRY_HEAP_OPTS"
  read -r -a perf <<<"$REGISTRY_JVM_PERFORMANCE_OPTS"
  read -r -a opts <<<"$REGISTRY_JAVA_OPTS"
  [[ -n "$REGISTRY_COMPATIBILITY" ]] && opts=("-Dapicurio.rules.global.compatibility=$REGISTRY_COMPATIBILITY" ${opts[@]+"${opts[@]}"})
  log "starting Apicurio Registry $APICURIO_VERSION on $REGISTRY_HOST:$REGISTRY_PORT (Java $(java_major "$JAVA_BIN") at $JAVA_BIN, compatibility ${REGISTRY_COMPATIBILITY:-NONE}), log $LOG_FILE"
  # Storage: the default (sql/H2 in memory, a fresh database per start). Only 127.0.0.1 is bound; no
  # authentication (the default); OpenTelemetry export stays off (the default, repeated here).
  # Deletion through the APIs is allowed, so tests can delete subjects (ccompat DELETE /subjects/...).
  service_launch "$LOG_FILE" \
    "$JAVA_BIN" ${heap[@]+"${heap[@]}"} ${perf[@]+"${perf[@]}"} \
    -Djava.util.logging.manager=org.jboss.logmanager.LogManager \
    -Djava.io.tmpdir="$TMP_DIR" \
    -Dstreamscore.registry.state="$REGISTRY_STATE_DIR" \
    -Dquarkus.http.host="$REGISTRY_HOST" -Dquarkus.http.port="$REGISTRY_PORT" \
    -Dquarkus.management.host="$REGISTRY_HOST" -Dquarkus.management.port="$REGISTRY_MANAGEMENT_PORT" \
    -Dquarkus.otel.sdk.disabled=true \
    "-Dquarkus.log.console.format=%d{yyyy-MM-dd HH:mm:ss,SSS} %-5p [%c{3.}] (%t) %s%e%n" \
    -Dapicurio.storage.kind=sql -Dapicurio.storage.sql.kind=h2 \
    -Dapicurio.datasource.jdbc.initial-size=2 -Dapicurio.datasource.jdbc.min-size=2 \
    -Dapicurio.storage.snapshot.location="$TMP_DIR" -Dapicurio.import.work-dir="$TMP_DIR" \
    -Dapicurio.rest.deletion.group.enabled=true -Dapicurio.rest.deletion.artifact.enabled=true \
    -Dapicurio.rest.deletion.artifact-version.enabled=true \
    ${opts[@]+"${opts[@]}"} \
    -jar "$RUN_JAR"
  pid="$(service_launched_pid)" || { log_tail; die "could not launch the registry"; }
  wait_ready "$pid" "$t0"
}

cmd_stop() {
  service_stop is_registry_cmdline "$REGISTRY_STOP_TIMEOUT" "SIGKILL after ${REGISTRY_STOP_TIMEOUT}s" \
    "its schemas were in memory and are gone"
}

cmd_status() {
  local pid
  if pid="$(registry_pid)"; then
    if registry_responds; then
      log "running at http://$REGISTRY_HOST:$REGISTRY_PORT/apis/ccompat/v7 (pid $pid, Apicurio Registry $APICURIO_VERSION, state $REGISTRY_STATE_DIR)"
      return 0
    fi
    log "starting or unresponsive: pid $pid is alive but GET $READY_PATH does not answer 200 yet"
    return 2
  fi
  if registry_responds; then
    log "a schema registry is running at http://$REGISTRY_HOST:$REGISTRY_PORT, but not from $REGISTRY_STATE_DIR"
    return 0
  fi
  log "not running ($REGISTRY_HOST:$REGISTRY_PORT, state $REGISTRY_STATE_DIR)"
  return 1
}

usage() {
  cat <<EOF
usage: $(basename "$0") <command>

  fetch    download Apicurio Registry $APICURIO_VERSION into $APP_DIR (once)
  start    start it on http://$REGISTRY_HOST:$REGISTRY_PORT (no-op if a registry already answers there);
           Confluent-compatible API at /apis/ccompat/v7, storage in memory
  stop     stop it (SIGTERM, SIGKILL after ${REGISTRY_STOP_TIMEOUT}s); the schemas are lost
  status   exit 0 if a registry answers on $REGISTRY_HOST:$REGISTRY_PORT (1: not running, 2: starting)

env: REGISTRY_PORT REGISTRY_MANAGEMENT_PORT REGISTRY_CACHE_DIR REGISTRY_STATE_DIR APICURIO_VERSION
     REGISTRY_JAVA_HOME REGISTRY_HEAP_OPTS REGISTRY_JVM_PERFORMANCE_OPTS REGISTRY_JAVA_OPTS REGISTRY_COMPATIBILITY
     REGISTRY_START_TIMEOUT REGISTRY_STOP_TIMEOUT REGISTRY_MAVEN_ARGS  (see scripts/registry/README.md)
EOF
}

main() {
  local cmd="${1:-help}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    fetch) cmd_fetch ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    help | -h | --help) usage ;;
    *)
      usage >&2
      exit 64
      ;;
  esac
}

main "$@"
