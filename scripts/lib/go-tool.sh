# Sourced by the scripts that build one of our small Go checkers (scripts/helmcheck, scripts/promrules) from
# the Go module proxy and cache it. Everything a checker downloads or builds stays under its cache folder
# (Go's module and build caches included), so a clean checkout builds the same binary without touching
# ~/go; a binary counts as built only for the exact sources it was built from (their checksum is kept
# beside it), so an edit to the checker rebuilds it.
#
# The sourcing script sets:
#   GO_TOOL            its name, which starts its messages
#   GO_TOOL_SOURCE     the folder of its sources (go.mod and the .go files), where the build runs
#   GO_TOOL_SOURCES    those files, for the checksum
#   GO_TOOL_CACHE_DIR  its cache folder (Go's caches go in its go/)
#   GO_TOOL_BIN        optional: the binary's path (default $GO_TOOL_CACHE_DIR/$GO_TOOL); its folder holds
#                      the build lock and the checksum it was built from
#   GO_TOOL_MOD_FLAGS  optional: module flags for the go command (default -mod=readonly: go.mod and go.sum
#                      are never changed)
#   GO_TOOL_KEEP_GO_CACHES  true keeps Go's caches after a build (an edit then rebuilds in seconds)
#   GO_TOOL_BUILD_NOTE what a cold build downloads and how long it takes, for the log
# and defines go_tool_build OUTPUT, which builds the binary to OUTPUT. A tool built from something else than
# source files (the collector, from a builder manifest) redefines go_tool_fingerprint after sourcing.

# shellcheck source=fetch-lock.sh
source "$(dirname "${BASH_SOURCE[0]}")/fetch-lock.sh"

GO_TOOL_BIN="${GO_TOOL_BIN:-$GO_TOOL_CACHE_DIR/$GO_TOOL}"
GO_TOOL_BIN_DIR="$(dirname "$GO_TOOL_BIN")"
GO_TOOL_MARKER="$GO_TOOL_BIN_DIR/.fetch-complete"
GO_TOOL_GO_DIR="$GO_TOOL_CACHE_DIR/go"
GO_TOOL_MOD_FLAGS="${GO_TOOL_MOD_FLAGS--mod=readonly}"

log() { printf '[%s] %s\n' "$GO_TOOL" "$*" >&2; }
die() {
  printf '[%s] ERROR: %s\n' "$GO_TOOL" "$*" >&2
  exit 1
}
now_ms() { date +%s%3N; }
elapsed() { local ms=$(($(now_ms) - $1)); printf '%d.%01ds' $((ms / 1000)) $((ms % 1000 / 100)); }

go_tool_fingerprint() { (cd "$GO_TOOL_SOURCE" && cat "${GO_TOOL_SOURCES[@]}") | sha256sum | cut -c1-16; }
go_tool_built() { [[ -x "$GO_TOOL_BIN" && -f "$GO_TOOL_MARKER" && "$(cat "$GO_TOOL_MARKER")" == "$(go_tool_fingerprint)" ]]; }

# -modcacherw keeps the module cache deletable with rm -rf; GOTOOLCHAIN=local refuses to download a newer Go
# behind our back (go.mod says which one it needs).
go_tool_env() {
  export GOMODCACHE="$GO_TOOL_GO_DIR/mod" GOCACHE="$GO_TOOL_GO_DIR/build" GOPATH="$GO_TOOL_GO_DIR/path" GOTOOLCHAIN=local
  export GOFLAGS="${GOFLAGS:+$GOFLAGS }-modcacherw${GO_TOOL_MOD_FLAGS:+ $GO_TOOL_MOD_FLAGS}"
}

go_tool_rebuild() {
  command -v go >/dev/null 2>&1 || die "go not found; it is needed once to build $GO_TOOL_BIN ($GO_TOOL_SOURCE)"
  go_tool_env
  rm -f "$GO_TOOL_BIN" "$GO_TOOL_MARKER"
  log "building $GO_TOOL with $(go version | cut -d' ' -f3) ($GO_TOOL_BUILD_NOTE)"
  (cd "$GO_TOOL_SOURCE" && go_tool_build "$GO_TOOL_BIN.tmp") ||
    die "the build failed in $GO_TOOL_SOURCE (see output above); a module the proxy refused shows as a 403/404 there"
  mv "$GO_TOOL_BIN.tmp" "$GO_TOOL_BIN"
  [[ "$GO_TOOL_KEEP_GO_CACHES" == true ]] || rm -rf -- "$GO_TOOL_GO_DIR"
  go_tool_fingerprint >"$GO_TOOL_MARKER"
}

# go_tool_ensure_built [verbose]: builds once per change of the sources, one build at a time.
go_tool_ensure_built() {
  local verbose="${1:-}"
  if go_tool_built; then
    [[ -n "$verbose" ]] && log "already built at $GO_TOOL_BIN; nothing to do"
    return 0
  fi
  lock_fetch "$GO_TOOL_BIN_DIR" "$GO_TOOL"
  if go_tool_built; then # built by whoever held the lock
    exec {FETCH_LOCK_FD}>&-
    return 0
  fi
  local t0
  t0="$(now_ms)"
  go_tool_rebuild
  exec {FETCH_LOCK_FD}>&-
  log "built $GO_TOOL_BIN ($(du -h "$GO_TOOL_BIN" | cut -f1)) in $(elapsed "$t0")"
}

go_tool_clean() {
  if [[ -d "$GO_TOOL_CACHE_DIR" ]]; then
    rm -rf -- "$GO_TOOL_CACHE_DIR"
    log "deleted $GO_TOOL_CACHE_DIR"
  else
    log "nothing to delete ($GO_TOOL_CACHE_DIR does not exist)"
  fi
}

# go_tool_main USAGE_FUNCTION ARGS...: fetch | path | run [args...] | clean | help
go_tool_main() {
  local usage="$1"
  shift
  local cmd="${1:-help}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    fetch) go_tool_ensure_built verbose ;;
    path)
      go_tool_ensure_built
      echo "$GO_TOOL_BIN"
      ;;
    run)
      go_tool_ensure_built
      exec "$GO_TOOL_BIN" "$@"
      ;;
    clean) go_tool_clean ;;
    help | -h | --help) "$usage" ;;
    *)
      "$usage" >&2
      exit 64
      ;;
  esac
}
