#!/usr/bin/env bash
# Build, cache and run helmcheck (scripts/helmcheck/*.go): Helm's own lint and client-only render of a chart,
# then a strict decode of every rendered object into its Kubernetes (or KEDA, or Prometheus Operator) Go
# type. Built once from the Go module proxy with the Go toolchain; no helm binary, no cluster.
#
#   scripts/helmcheck/helmcheck.sh fetch|path|run [helmcheck args...]|clean|help
#
# Everything it downloads or builds stays under .cache/helmcheck (Go's module and build caches included),
# so a clean checkout builds the same binary without touching ~/go. A binary counts as built only for the
# exact sources it was built from (their checksum is kept beside it), so an edit to the checker rebuilds it.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
# shellcheck source=../lib/fetch-lock.sh
source "$SCRIPT_DIR/../lib/fetch-lock.sh"

HELMCHECK_CACHE_DIR="${HELMCHECK_CACHE_DIR:-$REPO_ROOT/.cache/helmcheck}"
# Go's module and build caches are only needed while building (about 1 GB with Helm's dependencies); kept
# on request, which makes a rebuild after an edit take seconds instead of a cold build's 3 minutes.
HELMCHECK_KEEP_GO_CACHES="${HELMCHECK_KEEP_GO_CACHES:-false}"

BIN="$HELMCHECK_CACHE_DIR/helmcheck"
MARKER="$HELMCHECK_CACHE_DIR/.fetch-complete"
GO_DIR="$HELMCHECK_CACHE_DIR/go"
SOURCES=(go.mod go.sum main.go decode.go crds.go)

log() { printf '[helmcheck] %s\n' "$*" >&2; }
die() {
  printf '[helmcheck] ERROR: %s\n' "$*" >&2
  exit 1
}
now_ms() { date +%s%3N; }
elapsed() { local ms=$(($(now_ms) - $1)); printf '%d.%01ds' $((ms / 1000)) $((ms % 1000 / 100)); }

fingerprint() { (cd "$SCRIPT_DIR" && cat "${SOURCES[@]}") | sha256sum | cut -c1-16; }
fetch_complete() { [[ -x "$BIN" && -f "$MARKER" && "$(cat "$MARKER")" == "$(fingerprint)" ]]; }

# -modcacherw keeps the module cache deletable with rm -rf; GOTOOLCHAIN=local refuses to download a newer Go
# behind our back (go.mod says which one it needs); -mod=readonly refuses to change go.mod or go.sum.
go_env() {
  export GOMODCACHE="$GO_DIR/mod" GOCACHE="$GO_DIR/build" GOPATH="$GO_DIR/path" GOTOOLCHAIN=local
  export GOFLAGS="${GOFLAGS:+$GOFLAGS }-modcacherw -mod=readonly"
}

build() {
  command -v go >/dev/null 2>&1 || die "go not found; it is needed once to build $BIN (scripts/helmcheck)"
  go_env
  rm -f "$BIN" "$MARKER"
  log "building helmcheck with $(go version | cut -d' ' -f3) (downloads Helm's modules, then compiles; about 3 minutes on a cold cache, 2 cores)"
  (cd "$SCRIPT_DIR" && go build -trimpath -ldflags='-s -w' -o "$BIN.tmp" .) ||
    die "go build failed in $SCRIPT_DIR (see output above); a module the proxy refused shows as a 403/404 there"
  mv "$BIN.tmp" "$BIN"
  [[ "$HELMCHECK_KEEP_GO_CACHES" == true ]] || rm -rf -- "$GO_DIR"
  fingerprint >"$MARKER"
}

# ensure_fetched [verbose]
ensure_fetched() {
  local verbose="${1:-}"
  if fetch_complete; then
    [[ -n "$verbose" ]] && log "already built at $BIN; nothing to do"
    return 0
  fi
  lock_fetch "$HELMCHECK_CACHE_DIR" "helmcheck"
  if fetch_complete; then # built by whoever held the lock
    exec {FETCH_LOCK_FD}>&-
    return 0
  fi
  local t0
  t0="$(now_ms)"
  build
  exec {FETCH_LOCK_FD}>&-
  log "built $BIN ($(du -h "$BIN" | cut -f1)) in $(elapsed "$t0")"
}

cmd_clean() {
  if [[ -d "$HELMCHECK_CACHE_DIR" ]]; then
    rm -rf -- "$HELMCHECK_CACHE_DIR"
    log "deleted $HELMCHECK_CACHE_DIR"
  else
    log "nothing to delete ($HELMCHECK_CACHE_DIR does not exist)"
  fi
}

usage() {
  cat <<USAGE
usage: $(basename "$0") <command>

  fetch                   build helmcheck into $HELMCHECK_CACHE_DIR (once per change of its sources)
  path                    print the binary's path (building it first if needed)
  run [args...]           run it: run CHART [VALUES[,VALUES...] ...] (prints a JSON report)
  clean                   delete $HELMCHECK_CACHE_DIR

env: HELMCHECK_CACHE_DIR HELMCHECK_KEEP_GO_CACHES=true|false
USAGE
}

main() {
  local cmd="${1:-help}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    fetch) ensure_fetched verbose ;;
    path)
      ensure_fetched
      echo "$BIN"
      ;;
    run)
      ensure_fetched
      exec "$BIN" "$@"
      ;;
    clean) cmd_clean ;;
    help | -h | --help) usage ;;
    *)
      usage >&2
      exit 64
      ;;
  esac
}

main "$@"
