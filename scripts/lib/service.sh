# Sourced by scripts/kafka/kafka.sh and scripts/registry/registry.sh, which each run one local server (a
# JVM) per state folder. What they share: the logging helpers, port and process probes, and the process's
# life cycle: launched in a session of its own with a pid file, found again (pid file, else /proc), waited
# for until it is ready, stopped with SIGTERM and, after a timeout, SIGKILL.
#
# The sourcing script sets SERVICE_TAG (its messages start with "[$SERVICE_TAG]") and, for the service_*
# functions:
#   SERVICE_NAME          what the messages call the process ("broker", "registry")
#   SERVICE_STATE_DIR     its state folder: the lock file is .lock in it, the process runs in it
#   SERVICE_STATE_MARKER  file that marks the folder as the script's, holding the line SERVICE_STATE_NOTE
#   SERVICE_PID_FILE      the pid file
# and defines log_tail [lines], which prints the end of the process's logs to stderr.

log() { printf '[%s] %s\n' "$SERVICE_TAG" "$*"; }
err() { printf '[%s] ERROR: %s\n' "$SERVICE_TAG" "$*" >&2; }
die() { err "$*"; exit 1; }
now_ms() { date +%s%3N; }
# elapsed <t0-ms>: the time since then, e.g. 5.3s
elapsed() { local ms=$(($(now_ms) - $1)); printf '%d.%01ds' $((ms / 1000)) $((ms % 1000 / 100)); }
is_uint() { [[ "$1" =~ ^[0-9]+$ ]]; }

# print_tail <file> <lines> [what]: the end of a log file on stderr, if it has anything in it.
print_tail() {
  [[ -s "$1" ]] || return 0
  echo "----- last $2 lines of $1${3:+ ($3)} -----" >&2
  tail -n "$2" "$1" >&2
}

# port_open <host> <port>: TCP connect (no process spawned).
port_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

proc_alive() {
  local stat state
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  state="${stat##*) }"
  state="${state%% *}"
  [[ "$state" != Z && "$state" != X ]] # a zombie is as good as dead
}

# service_is_ours <pid> <matcher>: is <pid> alive, and does <matcher> (a function given the process's
# command line as its arguments) accept it? Bash builtins only: this runs for every process when the
# pid file is missing.
service_is_ours() {
  local -a args
  { mapfile -d '' args <"/proc/$1/cmdline"; } 2>/dev/null || return 1
  "$2" ${args[@]+"${args[@]}"} && proc_alive "$1"
}

# service_pid <matcher>: prints the pid of our process, if it is alive: the one in the pid file, else
# (pid file missing or stale) the first process in /proc that <matcher> accepts.
service_pid() {
  local pid=""
  if [[ -f "$SERVICE_PID_FILE" ]]; then
    pid="$(tr -dc '0-9' <"$SERVICE_PID_FILE")"
    if [[ -n "$pid" ]] && service_is_ours "$pid" "$1"; then
      echo "$pid"
      return 0
    fi
  fi
  local p
  for p in /proc/[0-9]*; do
    p="${p#/proc/}"
    if service_is_ours "$p" "$1"; then
      echo "$p"
      return 0
    fi
  done 2>/dev/null
  return 1
}

# service_lock_state: creates the state folder (and its marker) if needed, then holds its lock until the
# script exits; waits for another start or stop of the same folder to finish.
SERVICE_LOCK_FD=""
service_lock_state() {
  [[ -n "$SERVICE_LOCK_FD" ]] && return 0
  mkdir -p "$SERVICE_STATE_DIR"
  [[ -f "$SERVICE_STATE_MARKER" ]] || echo "$SERVICE_STATE_NOTE" >"$SERVICE_STATE_MARKER"
  exec {SERVICE_LOCK_FD}>"$SERVICE_STATE_DIR/.lock"
  flock "$SERVICE_LOCK_FD"
}

# service_launch <out file> <command> [args...]: runs the command in the background, in the state
# folder, with stdin from /dev/null and its output appended to <out file> (after a "===== <date> start
# =====" line). It gets a new session, so it survives the calling shell, terminal and npm process group.
# An inner bash writes its own pid to the pid file and execs the command, so the pid file holds the
# command's pid (see service_launched_pid).
service_launch() {
  local out="$1"
  shift
  printf '\n===== %s start =====\n' "$(date -Is)" >>"$out"
  (
    # the server must not inherit (and hold) the state lock
    if [[ -n "$SERVICE_LOCK_FD" ]]; then exec {SERVICE_LOCK_FD}>&-; fi
    cd "$SERVICE_STATE_DIR" || exit 1
    # shellcheck disable=SC2016 # expanded by the inner bash
    exec setsid bash -c 'echo $$ >"$0"; exec "$@"' "$SERVICE_PID_FILE" "$@" </dev/null >>"$out" 2>&1
  ) &
}

# service_launched_pid: waits up to 5 s for service_launch to write the pid file, then prints the pid;
# fails if there is none.
service_launched_pid() {
  local i pid
  for ((i = 0; i < 100; i++)); do
    [[ -s "$SERVICE_PID_FILE" ]] && break
    sleep 0.05
  done
  pid="$(tr -dc '0-9' <"$SERVICE_PID_FILE" 2>/dev/null)" || true
  [[ -n "$pid" ]] && echo "$pid"
}

# service_wait_ready <pid> <timeout s> <address> <ready command> [args...]: returns once the ready
# command succeeds (checked every 0.25 s). Exits 1 with the log tail if the process dies first (the pid
# file is then removed) or if it is not ready within the timeout (it is left running).
service_wait_ready() {
  local pid="$1" timeout="$2" address="$3"
  shift 3
  local deadline=$(($(date +%s) + timeout))
  while :; do
    if ! proc_alive "$pid"; then
      err "$SERVICE_NAME (pid $pid) exited during startup"
      log_tail 60
      rm -f "$SERVICE_PID_FILE"
      exit 1
    fi
    "$@" && return 0
    if (($(date +%s) >= deadline)); then
      err "$SERVICE_NAME (pid $pid) not ready on $address after ${timeout}s; it is left running (use 'stop')"
      log_tail 60
      exit 1
    fi
    sleep 0.25
  done
}

# service_stop <matcher> <timeout s> <how> [what is lost]: stops our process, if there is one: SIGTERM,
# then SIGKILL if it is still alive after the timeout. <how> ends the "stopping" line ("SIGTERM, <how>");
# [what is lost] ends the "stopped" line.
service_stop() {
  local matcher="$1" timeout="$2" how="$3" lost="${4:-}"
  if [[ ! -d "$SERVICE_STATE_DIR" ]]; then
    log "not running (no state folder $SERVICE_STATE_DIR)"
    return 0
  fi
  service_lock_state
  local pid t0
  if ! pid="$(service_pid "$matcher")"; then
    rm -f "$SERVICE_PID_FILE"
    log "not running ($SERVICE_STATE_DIR)"
    return 0
  fi
  t0="$(now_ms)"
  log "stopping $SERVICE_NAME pid $pid (SIGTERM, $how)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$(($(date +%s) + timeout))
  while proc_alive "$pid" && (($(date +%s) < deadline)); do
    sleep 0.2
  done
  if proc_alive "$pid"; then
    err "$SERVICE_NAME pid $pid still alive after ${timeout}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while proc_alive "$pid"; do sleep 0.1; done
  fi
  rm -f "$SERVICE_PID_FILE"
  log "stopped in $(elapsed "$t0")${lost:+ ($lost)}"
}
