#!/usr/bin/env bash
# Fetch, cache, start and stop a real single-node Apache Kafka broker (KRaft,
# combined broker+controller) from Maven Central jars. No Docker, no tarball.
#
#   scripts/kafka/kafka.sh fetch|start|stop|restart|status|reset|secure-info|tool <MainClass> [args...]|classpath|help
#
# Besides the PLAINTEXT listener on KAFKA_PORT, the broker always has two secure client listeners:
# SASL_SSL (SCRAM-SHA-512, SCRAM-SHA-256, PLAIN) and SSL with required client certificates (mutual TLS),
# with a throw-away CA, certificates and a password created once in the state folder ('secure-info').
#
# See scripts/kafka/README.md for the environment variables and folders.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
# shellcheck source=../lib/fetch-lock.sh
source "$SCRIPT_DIR/../lib/fetch-lock.sh"
# shellcheck source=../lib/service.sh
source "$SCRIPT_DIR/../lib/service.sh"
POM="$SCRIPT_DIR/pom.xml"

KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
# kafka-tools 4.4.0 is not on Maven Central (newest: 4.3.1), see pom.xml.
if [[ -z "${KAFKA_TOOLS_VERSION:-}" ]]; then
  case "$KAFKA_VERSION" in
    4.4.0) KAFKA_TOOLS_VERSION=4.3.1 ;;
    *) KAFKA_TOOLS_VERSION="$KAFKA_VERSION" ;;
  esac
fi
KAFKA_HOST=127.0.0.1
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CACHE_DIR="${KAFKA_CACHE_DIR:-$REPO_ROOT/.cache/kafka}"
KAFKA_STATE_DIR="${KAFKA_STATE_DIR:-$KAFKA_CACHE_DIR/run-$KAFKA_PORT}"
# Absolute: the broker runs in the state folder, and secure-info hands these paths to clients.
[[ "$KAFKA_STATE_DIR" == /* ]] || KAFKA_STATE_DIR="$PWD/$KAFKA_STATE_DIR"
# Kafka's own default (kafka-server-start.sh). A smaller heap leaves G1 a smaller young generation, so it
# stops the broker more often: at 1,000 records/s every 5 s with -Xms256m -Xmx768m, every 10 s with this.
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms1g -Xmx1g}"
KAFKA_JVM_PERFORMANCE_OPTS="${KAFKA_JVM_PERFORMANCE_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true}"
# One line per stop-the-world pause, as Kafka's kafka-run-class.sh logs them by default; the latency
# benchmark sets them beside its measured windows (loadtests/lib/broker-gc.ts).
KAFKA_GC_LOG_OPTS="${KAFKA_GC_LOG_OPTS--Xlog:gc:file=$KAFKA_STATE_DIR/gc.log:time,uptime:filecount=2,filesize=20m}"
KAFKA_OPTS="${KAFKA_OPTS:-}"
KAFKA_TOOL_HEAP_OPTS="${KAFKA_TOOL_HEAP_OPTS:--Xmx512m}"
KAFKA_TOOL_OPTS="${KAFKA_TOOL_OPTS:-}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-60}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
KAFKA_MAVEN_ARGS="${KAFKA_MAVEN_ARGS:-}"

VERSION_DIR="$KAFKA_CACHE_DIR/$KAFKA_VERSION"
LIBS_DIR="$VERSION_DIR/libs"             # broker classpath (kafka_2.13 $KAFKA_VERSION)
TOOLS_LIBS_DIR="$VERSION_DIR/tools-libs" # tools classpath (kafka-tools $KAFKA_TOOLS_VERSION)
MARKER_NAME=".fetch-complete"
TOOLS_LOG4J="$VERSION_DIR/tools-log4j2.xml"

STATE_MARKER="$KAFKA_STATE_DIR/.kafka-sh-state"
DATA_DIR="$KAFKA_STATE_DIR/data"
PID_FILE="$KAFKA_STATE_DIR/kafka.pid"
LOG_FILE="$KAFKA_STATE_DIR/server.log"
OUT_FILE="$KAFKA_STATE_DIR/kafka.out"
SERVER_PROPS="$KAFKA_STATE_DIR/server.properties"
BROKER_LOG4J="$KAFKA_STATE_DIR/log4j2.xml"
PORTS_FILE="$KAFKA_STATE_DIR/ports"
STARTED_MSG="Kafka Server started"
# Secure listeners: certificates (created once), the SASL user's password (created once), and what
# secure-info prints (written by each start, once the broker is ready).
TLS_DIR="$KAFKA_STATE_DIR/tls"
TLS_MARKER="$TLS_DIR/.complete"
SECRETS_DIR="$KAFKA_STATE_DIR/secrets"
SCRAM_USER=streamscore
PASSWORD_FILE="$SECRETS_DIR/$SCRAM_USER.password"
SCRAM_MARKER="$SECRETS_DIR/.scram-applied"
SECURE_INFO_FILE="$KAFKA_STATE_DIR/secure-info.json"
TLS_DAYS=3650

# For log/die and the service_* functions (scripts/lib/service.sh).
SERVICE_TAG=kafka
SERVICE_NAME=broker
SERVICE_STATE_DIR="$KAFKA_STATE_DIR"
SERVICE_STATE_MARKER="$STATE_MARKER"
SERVICE_STATE_NOTE="state folder of scripts/kafka/kafka.sh (safe to delete with 'reset')"
SERVICE_PID_FILE="$PID_FILE"

if ! is_uint "$KAFKA_PORT" || ((KAFKA_PORT < 1 || KAFKA_PORT > 65535)); then
  die "KAFKA_PORT must be a TCP port, got '$KAFKA_PORT'"
fi
# The secure client listeners' ports (checked by check_secure_listener_settings, on start).
KAFKA_SASL_SSL_PORT="${KAFKA_SASL_SSL_PORT:-$((KAFKA_PORT + 1))}"
KAFKA_MTLS_PORT="${KAFKA_MTLS_PORT:-$((KAFKA_PORT + 2))}"
# Both bind to $KAFKA_HOST like the plaintext one. The broker certificate names 127.0.0.1 only, so a client
# that connects to "localhost" (the same socket) meets a hostname mismatch, as a test wants.

# The controller port is pinned in the state folder when it is first formatted: the
# KRaft dynamic quorum (--standalone) records the controller endpoint at format time.
controller_port() {
  local stored=""
  [[ -f "$PORTS_FILE" ]] && stored="$(sed -n 's/^controller=//p' "$PORTS_FILE")"
  if [[ -n "${KAFKA_CONTROLLER_PORT:-}" ]]; then
    if [[ -n "$stored" && "$stored" != "$KAFKA_CONTROLLER_PORT" ]]; then
      die "KAFKA_CONTROLLER_PORT=$KAFKA_CONTROLLER_PORT but $KAFKA_STATE_DIR was formatted with controller port $stored (run 'reset' to change it)"
    fi
    echo "$KAFKA_CONTROLLER_PORT"
  elif [[ -n "$stored" ]]; then
    echo "$stored"
  else
    echo $((KAFKA_PORT + 1000))
  fi
}

# ---------------------------------------------------------------------------- java

JAVA_BIN=""
find_java() {
  [[ -n "$JAVA_BIN" ]] && return 0
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
    JAVA_BIN="$JAVA_HOME/bin/java"
  elif command -v java >/dev/null 2>&1; then
    JAVA_BIN="$(command -v java)"
  else
    die "java not found (Kafka $KAFKA_VERSION needs Java 17+); set JAVA_HOME or put java on PATH"
  fi
  local v major
  v="$("$JAVA_BIN" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -1)"
  major="${v%%.*}"
  [[ "$major" == 1 ]] && major="$(echo "$v" | cut -d. -f2)"
  if is_uint "${major:-x}" && ((major < 17)); then
    die "Kafka $KAFKA_VERSION needs Java 17+, found $v at $JAVA_BIN"
  fi
}

# ---------------------------------------------------------------------------- fetch

# fingerprint <profile>: what a complete folder's marker file must contain.
fetch_fingerprint() {
  local v="$KAFKA_VERSION"
  [[ "$1" == tools ]] && v="$KAFKA_TOOLS_VERSION"
  printf 'profile=%s version=%s pom=%s\n' "$1" "$v" "$(sha256sum "$POM" | cut -c1-16)"
}

# dir_complete <profile> <dir>
dir_complete() {
  [[ -f "$2/$MARKER_NAME" ]] && [[ "$(cat "$2/$MARKER_NAME")" == "$(fetch_fingerprint "$1")" ]]
}

fetch_complete() {
  dir_complete broker "$LIBS_DIR" && dir_complete tools "$TOOLS_LIBS_DIR"
}

count_jars() { find "$1" -maxdepth 1 -name '*.jar' | wc -l; }

# fetch_profile <profile> <dir> <required jar>: mvn copy-dependencies into a
# temp folder, then marker + rename, so an interrupted fetch never looks complete.
fetch_profile() {
  local profile="$1" dir="$2" required="$3" tmp
  dir_complete "$profile" "$dir" && return 0
  tmp="$dir.tmp.$$"
  rm -rf "$tmp"
  local -a mvn_args
  read -r -a mvn_args <<<"$KAFKA_MAVEN_ARGS"
  if ! mvn -q -B -Dstyle.color=never -f "$POM" -P "$profile" \
    -Dkafka.version="$KAFKA_VERSION" -Dkafka.tools.version="$KAFKA_TOOLS_VERSION" \
    -Dkafka.build.dir="$VERSION_DIR/maven-target" \
    ${mvn_args[@]+"${mvn_args[@]}"} \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" 2>&1 |
    sed -u 's/\x1b\[[0-9;]*m//g'; then # Maven 3.8 -q still prints ANSI resets
    rm -rf "$tmp" "$VERSION_DIR/maven-target"
    die "Maven could not resolve the $profile classpath ($required) from Maven Central (see output above)"
  fi
  rm -rf "$VERSION_DIR/maven-target"
  [[ -f "$tmp/$required" ]] || { rm -rf "$tmp"; die "$required missing after download"; }
  fetch_fingerprint "$profile" >"$tmp/$MARKER_NAME"
  rm -rf "$dir"
  mv "$tmp" "$dir"
}

# ensure_fetched [verbose]
ensure_fetched() {
  local verbose="${1:-}"
  if fetch_complete; then
    [[ -n "$verbose" ]] && log "Kafka $KAFKA_VERSION ($(count_jars "$LIBS_DIR") jars) and kafka-tools $KAFKA_TOOLS_VERSION ($(count_jars "$TOOLS_LIBS_DIR") jars) already cached in $VERSION_DIR; nothing to download"
    return 0
  fi
  command -v mvn >/dev/null 2>&1 || die "mvn (Maven 3.6.3+) not found; it is needed once to download the Kafka jars"
  lock_fetch "$VERSION_DIR" "Kafka $KAFKA_VERSION"
  if fetch_complete; then # fetched by whoever held the lock
    exec {FETCH_LOCK_FD}>&-
    [[ -n "$verbose" ]] && log "Kafka $KAFKA_VERSION already cached in $VERSION_DIR; nothing to download"
    return 0
  fi
  local t0
  t0="$(now_ms)"
  log "fetching Kafka $KAFKA_VERSION + kafka-tools $KAFKA_TOOLS_VERSION jars from Maven Central into $VERSION_DIR"
  fetch_profile broker "$LIBS_DIR" "kafka_2.13-$KAFKA_VERSION.jar"
  fetch_profile tools "$TOOLS_LIBS_DIR" "kafka-tools-$KAFKA_TOOLS_VERSION.jar"
  exec {FETCH_LOCK_FD}>&-
  log "fetched $(count_jars "$LIBS_DIR") broker jars + $(count_jars "$TOOLS_LIBS_DIR") tools jars ($(du -sh "$VERSION_DIR" | cut -f1)) in $(elapsed "$t0")"
}

# ---------------------------------------------------------------------------- probes

# Sends a Kafka ApiVersions v0 request to 127.0.0.1:$1 and checks for a reply with the
# same correlation id and error_code 0. A plain TCP connect succeeds as soon as the
# listen socket is bound, long before KRaft brokers process requests; this does not.
kafka_responds() {
  local hex
  # shellcheck disable=SC2016 # expanded by the inner bash
  hex="$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    # size=15 | api_key=18 (ApiVersions) | api_version=0 | correlation_id=0x2a | client_id="probe"
    printf "\x00\x00\x00\x0f\x00\x12\x00\x00\x00\x00\x00\x2a\x00\x05probe" >&3
    head -c 10 <&3 | od -An -v -tx1 | tr -d " \n"
  ' "$KAFKA_HOST" "$1" 2>/dev/null)" || return 1
  [[ "${hex:8:8}" == "0000002a" && "${hex:16:4}" == "0000" ]]
}

# Are the arguments the command line of a kafka.Kafka JVM started with this state folder's
# server.properties? (bash builtins only: service_pid runs this for every process when the pid file is
# missing)
is_broker_cmdline() {
  local -a args=("$@")
  local i
  for ((i = 0; i + 1 < ${#args[@]}; i++)); do
    [[ "${args[i]}" == kafka.Kafka && "${args[i + 1]}" == "$SERVER_PROPS" ]] && return 0
  done
  return 1
}

# Prints the pid of the broker started from $KAFKA_STATE_DIR, if it is alive.
broker_pid() { service_pid is_broker_cmdline; }

log_tail() {
  print_tail "$LOG_FILE" "${1:-40}"
  print_tail "$OUT_FILE" 20 "JVM stdout/stderr"
}

started_count() {
  local c
  c="$(grep -c -F "$STARTED_MSG" "$LOG_FILE" 2>/dev/null)" || true
  echo "${c:-0}"
}

# broker_ready <started-count-before-launch>: the broker has logged that it started since then, and it
# answers requests.
broker_ready() {
  (($(started_count) > $1)) && kafka_responds "$KAFKA_PORT"
}

# wait_ready <pid> <started-count-before-launch> <t0-ms>
wait_ready() {
  local pid="$1" before="$2" t0="$3"
  service_wait_ready "$pid" "$KAFKA_START_TIMEOUT" "$KAFKA_HOST:$KAFKA_PORT" broker_ready "$before"
  log "broker ready at $KAFKA_HOST:$KAFKA_PORT (pid $pid, started in $(elapsed "$t0"), state $KAFKA_STATE_DIR)"
}

# ---------------------------------------------------------------------------- secure listeners

# Only start needs these to be valid (stop and status of a broker on port 65535 must still work).
check_secure_listener_settings() {
  if ! is_uint "$KAFKA_SASL_SSL_PORT" || ((KAFKA_SASL_SSL_PORT < 1 || KAFKA_SASL_SSL_PORT > 65535)); then
    die "KAFKA_SASL_SSL_PORT (default KAFKA_PORT + 1) must be a TCP port, got '$KAFKA_SASL_SSL_PORT'"
  fi
  if ! is_uint "$KAFKA_MTLS_PORT" || ((KAFKA_MTLS_PORT < 1 || KAFKA_MTLS_PORT > 65535)); then
    die "KAFKA_MTLS_PORT (default KAFKA_PORT + 2) must be a TCP port, got '$KAFKA_MTLS_PORT'"
  fi
  if ((KAFKA_SASL_SSL_PORT == KAFKA_PORT || KAFKA_MTLS_PORT == KAFKA_PORT || KAFKA_SASL_SSL_PORT == KAFKA_MTLS_PORT)); then
    die "KAFKA_PORT ($KAFKA_PORT), KAFKA_SASL_SSL_PORT ($KAFKA_SASL_SSL_PORT) and KAFKA_MTLS_PORT ($KAFKA_MTLS_PORT) must differ"
  fi
}

# True if the broker of this state folder was configured with the secure listeners (not the case for a
# broker that an older kafka.sh started, which a later start leaves running).
config_has_secure_listeners() {
  grep -q '^listener\.name\.sasl_ssl\.' "$SERVER_PROPS" 2>/dev/null
}

secure_listener_note() {
  config_has_secure_listeners && return 0
  log "note: this broker was started without the SASL_SSL/SSL listeners (by an older kafka.sh); 'restart' adds them"
}

# The throw-away PKI in $TLS_DIR, all made once by create_tls (keys: unencrypted PKCS#8 PEM):
#   ca.pem ca.key                        the CA the broker's SSL listener trusts for client certificates
#   broker.pem broker.key                broker certificate, SAN IP:127.0.0.1 only (so "localhost" mismatches)
#   broker-keystore.pem                  broker.key + broker.pem, the broker's PEM key store
#   client.pem client.key                client certificate (CN=streamscore) signed by the CA
#   client-expired.pem client-expired.key     the same, signed by the CA but expired (2020-01-01..02)
#   client-untrusted.pem client-untrusted.key a client certificate from another CA the broker does not trust
#   other-ca.pem                         that other CA (for clients that should not trust the broker)
TLS_FILES=(ca.pem ca.key broker.pem broker.key broker-keystore.pem client.pem client.key
  client-expired.pem client-expired.key client-untrusted.pem client-untrusted.key other-ca.pem)

# Complete, and valid for at least another day? (bash only: this runs on every start)
tls_usable() {
  local f valid_until now
  for f in "${TLS_FILES[@]}"; do
    [[ -s "$TLS_DIR/$f" ]] || return 1
  done
  valid_until="$(sed -n 's/^valid_until=//p' "$TLS_MARKER" 2>/dev/null)" || return 1
  printf -v now '%(%s)T' -1
  is_uint "${valid_until:-x}" && ((now + 86400 < valid_until))
}

write_openssl_config() {
  cat >"$1/openssl.cnf" <<EOF
# Written by scripts/kafka/kafka.sh to create its throw-away certificates; deleted afterwards.
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ server_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ client_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
# 'openssl ca' is the way OpenSSL 3.0 signs with a validity period in the past (client-expired.pem).
[ expired_ca ]
database = $1/index.txt
new_certs_dir = $1
certificate = $1/ca.pem
private_key = $1/ca.key
serial = $1/serial
default_md = sha256
policy = policy_any
unique_subject = no
email_in_dn = no
[ policy_any ]
commonName = supplied
EOF
}

# tls_openssl <dir> <args...>: runs openssl, its chatter into <dir>/openssl.log, shown if it fails.
tls_openssl() {
  local dir="$1"
  shift
  if ! openssl "$@" >>"$dir/openssl.log" 2>&1; then
    tail -n 20 "$dir/openssl.log" >&2
    rm -rf "$dir"
    die "openssl $1 failed while creating the test certificates"
  fi
}

# tls_key_csr <dir> <name> <CN>: a new EC P-256 key <name>.key (unencrypted PKCS#8) and request <name>.csr.
tls_key_csr() {
  tls_openssl "$1" req -new -config "$1/openssl.cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$1/$2.key" -out "$1/$2.csr" -subj "/CN=$3"
}

# tls_ca <dir> <name> <CN>: a self-signed CA <name>.pem / <name>.key.
tls_ca() {
  tls_openssl "$1" req -x509 -config "$1/openssl.cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$TLS_DAYS" \
    -extensions ca_ext -keyout "$1/$2.key" -out "$1/$2.pem" -subj "/CN=$3"
}

# tls_sign <dir> <name> <CA name> <extensions section>: <name>.csr signed by <CA name> into <name>.pem.
tls_sign() {
  tls_openssl "$1" x509 -req -in "$1/$2.csr" -CA "$1/$3.pem" -CAkey "$1/$3.key" \
    -set_serial "0x$(openssl rand -hex 16)" -days "$TLS_DAYS" -sha256 \
    -extfile "$1/openssl.cnf" -extensions "$4" -out "$1/$2.pem"
}

create_tls() {
  command -v openssl >/dev/null 2>&1 || die "openssl not found; it is needed (once) to create the test certificates in $TLS_DIR"
  local t0 tmp old_umask valid_until
  t0="$(now_ms)"
  printf -v valid_until '%(%s)T' -1
  valid_until=$((valid_until + (TLS_DAYS - 1) * 86400))
  tmp="$TLS_DIR.tmp.$$"
  rm -rf "$TLS_DIR".tmp.* # left by an interrupted start (this one holds the state lock)
  old_umask="$(umask)"
  umask 077 # keys and certificates readable by this user only
  mkdir -p "$tmp"
  write_openssl_config "$tmp"
  tls_ca "$tmp" ca "streamscore test CA (kafka.sh, $KAFKA_HOST:$KAFKA_PORT)"
  tls_ca "$tmp" other-ca "streamscore untrusted test CA (kafka.sh)"
  tls_key_csr "$tmp" broker streamscore-test-broker
  tls_sign "$tmp" broker ca server_ext
  tls_key_csr "$tmp" client "$SCRAM_USER"
  tls_sign "$tmp" client ca client_ext
  tls_key_csr "$tmp" client-untrusted "$SCRAM_USER"
  tls_sign "$tmp" client-untrusted other-ca client_ext
  tls_key_csr "$tmp" client-expired "$SCRAM_USER"
  : >"$tmp/index.txt"
  openssl rand -hex 16 >"$tmp/serial"
  tls_openssl "$tmp" ca -config "$tmp/openssl.cnf" -name expired_ca -batch -notext \
    -startdate 20200101000000Z -enddate 20200102000000Z \
    -extfile "$tmp/openssl.cnf" -extensions client_ext \
    -in "$tmp/client-expired.csr" -out "$tmp/client-expired.pem"
  cat "$tmp/broker.key" "$tmp/broker.pem" >"$tmp/broker-keystore.pem"
  # Keep only the files listed in TLS_FILES.
  local f k keep
  for f in "$tmp"/* "$tmp"/.[!.]*; do
    [[ -e "$f" ]] || continue
    keep=""
    for k in "${TLS_FILES[@]}"; do [[ "${f##*/}" == "$k" ]] && keep=1; done
    [[ -n "$keep" ]] || rm -f -- "$f"
  done
  printf 'valid_until=%s\n' "$valid_until" >"$tmp/$(basename "$TLS_MARKER")"
  umask "$old_umask"
  rm -rf "$TLS_DIR"
  mv "$tmp" "$TLS_DIR"
  log "created a throw-away CA and certificates in $TLS_DIR in $(elapsed "$t0")"
}

ensure_tls() {
  tls_usable && return 0
  [[ -d "$TLS_DIR" ]] && log "the certificates in $TLS_DIR are incomplete or about to expire; creating new ones"
  create_tls
}

# Sets SCRAM_PASSWORD: the SASL user's password, generated once into $PASSWORD_FILE (mode 600, no
# newline). Letters and digits only, so it needs no quoting in JAAS or StorageTool's --add-scram.
SCRAM_PASSWORD=""
ensure_password() {
  if [[ ! -s "$PASSWORD_FILE" ]]; then
    local raw old_umask
    raw="$(head -c 48 /dev/urandom | base64 | tr -d '\n+/=')"
    old_umask="$(umask)"
    umask 077
    mkdir -p "$SECRETS_DIR"
    printf '%s' "${raw:0:32}" >"$PASSWORD_FILE.tmp.$$"
    umask "$old_umask"
    mv -f "$PASSWORD_FILE.tmp.$$" "$PASSWORD_FILE"
    log "generated the password of SASL user '$SCRAM_USER' into $PASSWORD_FILE"
  fi
  SCRAM_PASSWORD="$(<"$PASSWORD_FILE")"
  [[ "$SCRAM_PASSWORD" =~ ^[A-Za-z0-9._~-]{8,}$ ]] ||
    die "$PASSWORD_FILE must hold a password of 8+ letters, digits or . _ ~ - (delete it to get a new one)"
}

# What SCRAM_MARKER holds once the broker knows the SCRAM credentials for this storage and password.
scram_fingerprint() {
  local cluster_id
  cluster_id="$(sed -n 's/^cluster\.id=//p' "$DATA_DIR/meta.properties" 2>/dev/null)" || true
  printf 'cluster.id=%s password.sha256=%s\n' "$cluster_id" "$(printf '%s' "$SCRAM_PASSWORD" | sha256sum | cut -c1-64)"
}

# Storage formatted by this script gets the SCRAM credentials at format time (--add-scram, see
# format_storage_if_needed). Storage formatted by an older kafka.sh, or a changed password file, gets
# them here, once, through the Admin API on the PLAINTEXT listener of the running broker.
ensure_scram_users() {
  [[ "$(cat "$SCRAM_MARKER" 2>/dev/null)" == "$(scram_fingerprint)" ]] && return 0
  local t0 out
  t0="$(now_ms)"
  log "creating SCRAM-SHA-512/256 credentials for '$SCRAM_USER' (storage formatted without them, or a new password)"
  if ! out="$("$JAVA_BIN" -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
    -Dlog4j2.configurationFile="$TOOLS_LOG4J" -cp "$LIBS_DIR/*" \
    "$SCRIPT_DIR/ScramCredentials.java" "$KAFKA_HOST:$KAFKA_PORT" "$SCRAM_USER" "$PASSWORD_FILE" 2>&1)"; then
    echo "$out" >&2
    err "could not create the SCRAM credentials with $SCRIPT_DIR/ScramCredentials.java (see above; java's source launcher needs a JDK, not just a JRE); stopping the broker"
    cmd_stop >&2 || true
    exit 1
  fi
  scram_fingerprint >"$SCRAM_MARKER"
  log "SCRAM credentials for '$SCRAM_USER' created in $(elapsed "$t0")"
}

# json_str <s>: <s> as a JSON string.
json_str() {
  local s="${1//\\/\\\\}"
  s="${s//\"/\\\"}"
  printf '"%s"' "$s"
}

write_secure_info() {
  local t="$TLS_DIR"
  {
    printf '{\n'
    printf '  "saslSsl": %s,\n' "$(json_str "$KAFKA_HOST:$KAFKA_SASL_SSL_PORT")"
    printf '  "mtls": %s,\n' "$(json_str "$KAFKA_HOST:$KAFKA_MTLS_PORT")"
    printf '  "caFile": %s,\n' "$(json_str "$t/ca.pem")"
    printf '  "clientCert": %s,\n' "$(json_str "$t/client.pem")"
    printf '  "clientKey": %s,\n' "$(json_str "$t/client.key")"
    printf '  "expiredCert": %s,\n' "$(json_str "$t/client-expired.pem")"
    printf '  "expiredKey": %s,\n' "$(json_str "$t/client-expired.key")"
    printf '  "untrustedCert": %s,\n' "$(json_str "$t/client-untrusted.pem")"
    printf '  "untrustedKey": %s,\n' "$(json_str "$t/client-untrusted.key")"
    printf '  "otherCaFile": %s,\n' "$(json_str "$t/other-ca.pem")"
    printf '  "username": %s,\n' "$(json_str "$SCRAM_USER")"
    printf '  "passwordFile": %s\n' "$(json_str "$PASSWORD_FILE")"
    printf '}\n'
  } >"$SECURE_INFO_FILE.tmp.$$"
  mv -f "$SECURE_INFO_FILE.tmp.$$" "$SECURE_INFO_FILE"
}

# ---------------------------------------------------------------------------- config

write_tools_log4j() {
  [[ -f "$TOOLS_LOG4J" ]] && return 0
  mkdir -p "$VERSION_DIR"
  cat >"$TOOLS_LOG4J.$$" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by scripts/kafka/kafka.sh: tools log warnings and errors to stderr. -->
<Configuration status="WARN">
  <Appenders>
    <Console name="stderr" target="SYSTEM_ERR">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Root level="WARN"><AppenderRef ref="stderr"/></Root>
  </Loggers>
</Configuration>
EOF
  mv -f "$TOOLS_LOG4J.$$" "$TOOLS_LOG4J"
}

write_broker_config() {
  local cport="$1" old_umask
  old_umask="$(umask)"
  umask 077 # it holds the PLAIN user's password
  cat >"$SERVER_PROPS.tmp.$$" <<EOF
# Written by scripts/kafka/kafka.sh on each start; edits are overwritten.
# Single node, KRaft combined mode (broker + controller in one JVM).
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$KAFKA_HOST:$cport
listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,SASL_SSL://$KAFKA_HOST:$KAFKA_SASL_SSL_PORT,SSL://$KAFKA_HOST:$KAFKA_MTLS_PORT,CONTROLLER://$KAFKA_HOST:$cport
advertised.listeners=PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT,SASL_SSL://$KAFKA_HOST:$KAFKA_SASL_SSL_PORT,SSL://$KAFKA_HOST:$KAFKA_MTLS_PORT,CONTROLLER://$KAFKA_HOST:$cport
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL

# Secure client listeners (controller and inter-broker traffic stay PLAINTEXT). One PEM key store
# (broker certificate: SAN IP:127.0.0.1 only) and one PEM trust store (the test CA) for both.
ssl.keystore.type=PEM
ssl.keystore.location=$TLS_DIR/broker-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.pem
# SASL_SSL: TLS without client certificates, then SCRAM-SHA-512, SCRAM-SHA-256 or PLAIN. The SCRAM
# credentials live in the KRaft metadata (StorageTool --add-scram / the Admin API); PLAIN's users here.
listener.name.sasl_ssl.ssl.client.auth=none
listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256,PLAIN
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$SCRAM_USER="$SCRAM_PASSWORD";
# SSL: mutual TLS, a client certificate signed by the test CA is required.
listener.name.ssl.ssl.client.auth=required

log.dirs=$DATA_DIR
num.partitions=3
default.replication.factor=1
auto.create.topics.enable=false
delete.topic.enable=true

# Internal topics on a single node.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  umask "$old_umask"
  mv -f "$SERVER_PROPS.tmp.$$" "$SERVER_PROPS"
  cat >"$BROKER_LOG4J" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by scripts/kafka/kafka.sh: everything goes to server.log, nothing to the console. -->
<Configuration status="WARN">
  <Appenders>
    <RollingFile name="server" fileName="$LOG_FILE" filePattern="$LOG_FILE.%i">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
      <SizeBasedTriggeringPolicy size="100MB"/>
      <DefaultRolloverStrategy max="3"/>
    </RollingFile>
  </Appenders>
  <Loggers>
    <Root level="INFO"><AppenderRef ref="server"/></Root>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="kafka.authorizer.logger" level="WARN"/>
    <Logger name="org.apache.kafka.clients" level="WARN"/>
  </Loggers>
</Configuration>
EOF
}

format_storage_if_needed() {
  local cport="$1"
  if [[ -f "$DATA_DIR/meta.properties" ]]; then
    return 0
  fi
  # A Kafka Uuid is 16 random bytes in URL-safe base64 without padding (what
  # `kafka-storage random-uuid` prints); generated here to save a JVM start.
  local cluster_id
  # An id starting with '-' would be read by StorageTool as an option (1 in 64 ids): draw again.
  cluster_id=-
  while [[ "$cluster_id" == -* ]]; do
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  done
  log "formatting KRaft storage in $DATA_DIR (cluster id $cluster_id, SCRAM user '$SCRAM_USER')"
  mkdir -p "$DATA_DIR"
  # The SCRAM credentials go into the bootstrap metadata. StorageTool takes the password only on its
  # command line, so the main class and its arguments come from a java @argfile (mode 600, deleted
  # afterwards): the password never shows up in ps or /proc/<pid>/cmdline.
  local argfile="$SECRETS_DIR/format.args" old_umask arg
  old_umask="$(umask)"
  umask 077
  for arg in kafka.tools.StorageTool format --config "$SERVER_PROPS" --cluster-id "$cluster_id" \
    --standalone --ignore-formatted \
    --add-scram "SCRAM-SHA-512=[name=$SCRAM_USER,password=$SCRAM_PASSWORD]" \
    --add-scram "SCRAM-SHA-256=[name=$SCRAM_USER,password=$SCRAM_PASSWORD]"; do
    json_str "$arg" # argfile quoting: double quotes, backslash escapes
    echo
  done >"$argfile"
  umask "$old_umask"
  local out
  if ! out="$("$JAVA_BIN" -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
    -Dlog4j2.configurationFile="$TOOLS_LOG4J" -cp "$LIBS_DIR/*" "@$argfile" 2>&1)"; then
    rm -f "$argfile"
    echo "$out" >&2
    die "kafka-storage format failed"
  fi
  rm -f "$argfile"
  printf 'broker=%s\ncontroller=%s\ncluster.id=%s\n' "$KAFKA_PORT" "$cport" "$cluster_id" >"$PORTS_FILE"
  scram_fingerprint >"$SCRAM_MARKER"
}

# ---------------------------------------------------------------------------- commands

cmd_fetch() {
  ensure_fetched verbose
}

cmd_start() {
  local t0
  t0="$(now_ms)"
  check_secure_listener_settings
  find_java
  ensure_fetched
  write_tools_log4j
  service_lock_state

  local pid
  if pid="$(broker_pid)"; then
    [[ "$(cat "$PID_FILE" 2>/dev/null)" == "$pid" ]] || echo "$pid" >"$PID_FILE"
    if kafka_responds "$KAFKA_PORT"; then
      log "broker already running at $KAFKA_HOST:$KAFKA_PORT (pid $pid, state $KAFKA_STATE_DIR)"
      secure_listener_note
      return 0
    fi
    log "broker (pid $pid) is starting; waiting for it"
    wait_ready "$pid" -1 "$t0"
    secure_listener_note
    return 0
  fi
  if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    if kafka_responds "$KAFKA_PORT"; then
      log "a Kafka broker is already running at $KAFKA_HOST:$KAFKA_PORT (not started from $KAFKA_STATE_DIR; leaving it alone)"
      return 0
    fi
    die "$KAFKA_HOST:$KAFKA_PORT is in use by something that does not answer Kafka requests"
  fi
  local cport
  cport="$(controller_port)"
  port_open "$KAFKA_HOST" "$cport" && die "controller port $KAFKA_HOST:$cport is already in use (set KAFKA_CONTROLLER_PORT, then 'reset')"
  if ((cport == KAFKA_SASL_SSL_PORT || cport == KAFKA_MTLS_PORT)); then
    die "the controller port $cport is also KAFKA_SASL_SSL_PORT or KAFKA_MTLS_PORT; choose other ports"
  fi
  port_open "$KAFKA_HOST" "$KAFKA_SASL_SSL_PORT" &&
    die "SASL_SSL port $KAFKA_HOST:$KAFKA_SASL_SSL_PORT is already in use (set KAFKA_SASL_SSL_PORT)"
  port_open "$KAFKA_HOST" "$KAFKA_MTLS_PORT" &&
    die "mutual-TLS port $KAFKA_HOST:$KAFKA_MTLS_PORT is already in use (set KAFKA_MTLS_PORT)"

  ensure_tls
  ensure_password
  rm -f "$PID_FILE" "$SECURE_INFO_FILE"
  write_broker_config "$cport"
  format_storage_if_needed "$cport"

  local -a heap perf gclog opts
  read -r -a heap <<<"$KAFKA_HEAP_OPTS"
  read -r -a perf <<<"$KAFKA_JVM_PERFORMANCE_OPTS"
  read -r -a gclog <<<"$KAFKA_GC_LOG_OPTS"
  read -r -a opts <<<"$KAFKA_OPTS"
  local before
  before="$(started_count)"
  log "starting Kafka $KAFKA_VERSION on $KAFKA_HOST:$KAFKA_PORT (SASL_SSL :$KAFKA_SASL_SSL_PORT, mTLS :$KAFKA_MTLS_PORT, controller $KAFKA_HOST:$cport), log $LOG_FILE"
  service_launch "$OUT_FILE" \
    "$JAVA_BIN" ${heap[@]+"${heap[@]}"} ${perf[@]+"${perf[@]}"} ${gclog[@]+"${gclog[@]}"} ${opts[@]+"${opts[@]}"} \
    -Dlog4j2.configurationFile="$BROKER_LOG4J" -Dlog4j2.shutdownHookEnabled=false \
    -Dkafka.logs.dir="$KAFKA_STATE_DIR" \
    -cp "$LIBS_DIR/*" kafka.Kafka "$SERVER_PROPS"
  pid="$(service_launched_pid)" || { log_tail; die "could not launch the broker"; }
  wait_ready "$pid" "$before" "$t0"
  ensure_scram_users
  write_secure_info
}

# Prints the secure listeners' addresses and the files clients need, as JSON (see write_secure_info).
# Fails (exit 1) until a start of this script has set them up in this state folder.
cmd_secure_info() {
  if [[ ! -f "$SECURE_INFO_FILE" ]]; then
    die "no secure listeners set up in $KAFKA_STATE_DIR yet: start the broker with this script (KAFKA_PORT=$KAFKA_PORT)"
  fi
  local f
  for f in "${TLS_FILES[@]}"; do
    [[ -s "$TLS_DIR/$f" ]] || die "$TLS_DIR/$f is missing: restart the broker with this script to recreate the certificates"
  done
  [[ -s "$PASSWORD_FILE" ]] || die "$PASSWORD_FILE is missing: restart the broker with this script"
  cat "$SECURE_INFO_FILE"
}

cmd_stop() {
  service_stop is_broker_cmdline "$KAFKA_STOP_TIMEOUT" "up to ${KAFKA_STOP_TIMEOUT}s for a controlled shutdown"
}

cmd_status() {
  local pid
  if pid="$(broker_pid)"; then
    if kafka_responds "$KAFKA_PORT"; then
      log "running at $KAFKA_HOST:$KAFKA_PORT (pid $pid, Kafka $KAFKA_VERSION, state $KAFKA_STATE_DIR)"
      return 0
    fi
    log "starting or unresponsive: pid $pid is alive but $KAFKA_HOST:$KAFKA_PORT does not answer yet"
    return 2
  fi
  if kafka_responds "$KAFKA_PORT"; then
    log "a Kafka broker is running at $KAFKA_HOST:$KAFKA_PORT, but not from $KAFKA_STATE_DIR"
    return 0
  fi
  log "not running ($KAFKA_HOST:$KAFKA_PORT, state $KAFKA_STATE_DIR)"
  return 1
}

cmd_reset() {
  # Checked before stopping: stopping takes the state lock, which writes the marker into any folder.
  if [[ -d "$KAFKA_STATE_DIR" && ! -f "$STATE_MARKER" ]]; then
    die "refusing to delete $KAFKA_STATE_DIR: it has no $(basename "$STATE_MARKER") marker"
  fi
  cmd_stop
  if [[ -d "$KAFKA_STATE_DIR" ]]; then
    rm -rf -- "$KAFKA_STATE_DIR"
    log "deleted $KAFKA_STATE_DIR (jar cache in $VERSION_DIR kept)"
  else
    log "nothing to delete ($KAFKA_STATE_DIR does not exist)"
  fi
}

# Short names for the main classes behind bin/kafka-*.sh.
resolve_main() {
  case "$1" in
    *.*) echo "$1" ;;
    StorageTool) echo kafka.tools.StorageTool ;;
    ConsoleConsumer | ConsoleShareConsumer) echo "org.apache.kafka.tools.consumer.$1" ;;
    ConsumerGroupCommand | ShareGroupCommand) echo "org.apache.kafka.tools.consumer.group.$1" ;;
    ReassignPartitionsCommand) echo org.apache.kafka.tools.reassign.ReassignPartitionsCommand ;;
    StreamsGroupCommand) echo org.apache.kafka.tools.streams.StreamsGroupCommand ;;
    MetadataShell) echo org.apache.kafka.shell.MetadataShell ;;
    *) echo "org.apache.kafka.tools.$1" ;;
  esac
}

cmd_tool() {
  [[ $# -ge 1 ]] || die "usage: kafka.sh tool <MainClass> [args...]   (e.g. tool TopicCommand --bootstrap-server $KAFKA_HOST:$KAFKA_PORT --list)"
  local main cp
  main="$(resolve_main "$1")"
  shift
  # kafka.* classes (Scala core: StorageTool, ...) live on the broker classpath,
  # everything else on the kafka-tools classpath.
  cp="$TOOLS_LIBS_DIR/*"
  [[ "$main" == kafka.* ]] && cp="$LIBS_DIR/*"
  find_java
  ensure_fetched >&2
  write_tools_log4j
  local -a heap opts
  read -r -a heap <<<"$KAFKA_TOOL_HEAP_OPTS"
  read -r -a opts <<<"$KAFKA_TOOL_OPTS"
  exec "$JAVA_BIN" ${heap[@]+"${heap[@]}"} ${opts[@]+"${opts[@]}"} \
    -Dlog4j2.configurationFile="$TOOLS_LOG4J" -cp "$cp" "$main" "$@"
}

# classpath [broker|tools]
cmd_classpath() {
  ensure_fetched >&2
  case "${1:-broker}" in
    broker) echo "$LIBS_DIR/*" ;;
    tools) echo "$TOOLS_LIBS_DIR/*" ;;
    *) die "usage: kafka.sh classpath [broker|tools]" ;;
  esac
}

usage() {
  cat <<EOF
usage: $(basename "$0") <command>

  fetch                 download the broker + tools jars into $VERSION_DIR (once)
  start                 start the broker on $KAFKA_HOST:$KAFKA_PORT (no-op if already running), with
                        SASL_SSL on :$KAFKA_SASL_SSL_PORT and mutual TLS on :$KAFKA_MTLS_PORT
  stop                  stop it (SIGTERM, SIGKILL after ${KAFKA_STOP_TIMEOUT}s)
  restart               stop + start (keeps the data)
  status                exit 0 if a broker answers on $KAFKA_HOST:$KAFKA_PORT
  reset                 stop and delete $KAFKA_STATE_DIR (keeps the jar cache)
  secure-info           print the secure listeners, certificate files, user and password file as
                        JSON (exit 1 if no start has set them up in the state folder yet)
  tool <Main> [args]    run a Java main class: kafka.* on the broker classpath, others on
                        the kafka-tools classpath; short names mean org.apache.kafka.tools.<Main>
                        (e.g. TopicCommand, ProducerPerformance, ConsoleConsumer)
  classpath [broker|tools]  print a classpath for java -cp (default: broker)

env: KAFKA_PORT KAFKA_SASL_SSL_PORT KAFKA_MTLS_PORT KAFKA_CONTROLLER_PORT
     KAFKA_VERSION KAFKA_TOOLS_VERSION KAFKA_CACHE_DIR KAFKA_STATE_DIR
     KAFKA_HEAP_OPTS KAFKA_JVM_PERFORMANCE_OPTS KAFKA_GC_LOG_OPTS KAFKA_OPTS KAFKA_TOOL_HEAP_OPTS KAFKA_TOOL_OPTS
     KAFKA_START_TIMEOUT KAFKA_STOP_TIMEOUT KAFKA_MAVEN_ARGS  (see scripts/kafka/README.md)
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
    reset) cmd_reset ;;
    secure-info) cmd_secure_info ;;
    restart) cmd_stop && cmd_start ;;
    tool) cmd_tool "$@" ;;
    classpath) cmd_classpath "$@" ;;
    help | -h | --help) usage ;;
    *)
      usage >&2
      exit 64
      ;;
  esac
}

main "$@"
