#!/usr/bin/env bash
# Build, cache and run a real OpenTelemetry Collector with core components only (OTLP receiver, OTLP/HTTP
# and debug exporters, batch processor), made by the OpenTelemetry Collector Builder (ocb) from modules on
# the Go module proxy. No Docker, no release tarball: the one tool it needs is Go.
#
#   scripts/otelcol/otelcol.sh fetch|path|run [collector args...]|components|clean|help
#
# Everything it downloads or builds stays under .cache/otelcol (Go's module and build caches included), so
# a clean checkout builds the same binary without touching ~/go.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
# shellcheck source=../lib/fetch-lock.sh
source "$SCRIPT_DIR/../lib/fetch-lock.sh"

# Components and ocb share the collector's release number; the confmap providers are versioned 1.x and
# released with it (collector 0.162.0 = providers 1.68.0). Newer releases are listed by the module proxy
# we can reach, but it refuses some of their modules (403 for internal/statusutil, which otlphttpexporter
# needs from 0.163.0 on, and for most of 0.165.0), so they cannot be built here.
OTELCOL_VERSION="${OTELCOL_VERSION:-0.162.0}"
OTELCOL_PROVIDERS_VERSION="${OTELCOL_PROVIDERS_VERSION:-1.68.0}"
OTELCOL_CACHE_DIR="${OTELCOL_CACHE_DIR:-$REPO_ROOT/.cache/otelcol}"
# Go's module and build caches are only needed while building and take over half a gigabyte; kept on
# request (a rebuild with them is faster, one without them is what CI's clean checkout does anyway).
OTELCOL_KEEP_GO_CACHES="${OTELCOL_KEEP_GO_CACHES:-false}"

VERSION_DIR="$OTELCOL_CACHE_DIR/$OTELCOL_VERSION"
BIN="$VERSION_DIR/otelcol-streamscore"
MARKER="$VERSION_DIR/.fetch-complete"
GO_DIR="$OTELCOL_CACHE_DIR/go"

log() { printf '[otelcol] %s\n' "$*" >&2; }
die() {
  printf '[otelcol] ERROR: %s\n' "$*" >&2
  exit 1
}
now_ms() { date +%s%3N; }
elapsed() { local ms=$(($(now_ms) - $1)); printf '%d.%01ds' $((ms / 1000)) $((ms % 1000 / 100)); }

manifest() {
  local core="v$OTELCOL_VERSION" providers="v$OTELCOL_PROVIDERS_VERSION"
  cat <<EOF
# Written by scripts/otelcol/otelcol.sh; the builder's input for the cached collector.
dist:
  module: streamscore.invalid/otelcol
  name: otelcol-streamscore
  description: OpenTelemetry Collector (core components) for streamscore's tests
  version: $OTELCOL_VERSION
  output_path: $VERSION_DIR/build
receivers:
  - gomod: go.opentelemetry.io/collector/receiver/otlpreceiver $core
exporters:
  - gomod: go.opentelemetry.io/collector/exporter/otlphttpexporter $core
  - gomod: go.opentelemetry.io/collector/exporter/debugexporter $core
processors:
  - gomod: go.opentelemetry.io/collector/processor/batchprocessor $core
providers:
  - gomod: go.opentelemetry.io/collector/confmap/provider/envprovider $providers
  - gomod: go.opentelemetry.io/collector/confmap/provider/fileprovider $providers
  - gomod: go.opentelemetry.io/collector/confmap/provider/yamlprovider $providers
telemetry:
  gomod: go.opentelemetry.io/collector/service $core
  import: go.opentelemetry.io/collector/service/telemetry/otelconftelemetry
EOF
}

# A cached binary counts only if it was built from this very manifest.
fingerprint() { manifest | sha256sum | cut -c1-16; }
fetch_complete() { [[ -x "$BIN" && -f "$MARKER" && "$(cat "$MARKER")" == "$(fingerprint)" ]]; }

# Go's caches live in the cache folder. -modcacherw keeps the module cache deletable with rm -rf;
# GOTOOLCHAIN=local refuses to download a newer Go behind our back (the modules say which one they need).
go_env() {
  export GOMODCACHE="$GO_DIR/mod" GOCACHE="$GO_DIR/build" GOPATH="$GO_DIR/path" GOTOOLCHAIN=local
  export GOFLAGS="${GOFLAGS:+$GOFLAGS }-modcacherw"
}

build() {
  command -v go >/dev/null 2>&1 || die "go not found; it is needed once to build the collector ($BIN)"
  go_env
  local tools="$VERSION_DIR/tools"
  rm -rf "$VERSION_DIR/build" "$BIN" "$MARKER"
  log "installing ocb (go.opentelemetry.io/collector/cmd/builder v$OTELCOL_VERSION) with $(go version | cut -d' ' -f3)"
  GOBIN="$tools" go install "go.opentelemetry.io/collector/cmd/builder@v$OTELCOL_VERSION" ||
    die "could not install ocb v$OTELCOL_VERSION from the Go module proxy"
  manifest >"$VERSION_DIR/manifest.yaml"
  log "building the collector (downloads the components, then compiles; minutes on a cold cache)"
  "$tools/builder" --config="$VERSION_DIR/manifest.yaml" ||
    die "ocb could not build the collector (see output above; manifest $VERSION_DIR/manifest.yaml)"
  [[ -x "$VERSION_DIR/build/otelcol-streamscore" ]] || die "ocb finished without writing a binary"
  mv "$VERSION_DIR/build/otelcol-streamscore" "$BIN"
  [[ "$OTELCOL_KEEP_GO_CACHES" == true ]] || rm -rf -- "$GO_DIR"
  fingerprint >"$MARKER"
}

# ensure_fetched [verbose]
ensure_fetched() {
  local verbose="${1:-}"
  if fetch_complete; then
    [[ -n "$verbose" ]] && log "collector $OTELCOL_VERSION already built at $BIN; nothing to do"
    return 0
  fi
  lock_fetch "$VERSION_DIR" "collector $OTELCOL_VERSION"
  if fetch_complete; then # built by whoever held the lock
    exec {FETCH_LOCK_FD}>&-
    return 0
  fi
  local t0
  t0="$(now_ms)"
  build
  exec {FETCH_LOCK_FD}>&-
  log "built collector $OTELCOL_VERSION ($(du -h "$BIN" | cut -f1)) in $(elapsed "$t0"); cache $(du -sh "$OTELCOL_CACHE_DIR" | cut -f1)"
}

cmd_clean() {
  if [[ -d "$OTELCOL_CACHE_DIR" ]]; then
    rm -rf -- "$OTELCOL_CACHE_DIR"
    log "deleted $OTELCOL_CACHE_DIR"
  else
    log "nothing to delete ($OTELCOL_CACHE_DIR does not exist)"
  fi
}

usage() {
  cat <<EOF
usage: $(basename "$0") <command>

  fetch                   build the collector $OTELCOL_VERSION into $VERSION_DIR (once)
  path                    print the collector binary's path (building it first if needed)
  run [args...]           run the collector, e.g. run --config=otelcol.yaml
  components              list the components built in
  clean                   delete $OTELCOL_CACHE_DIR (binaries, and Go caches if kept)

env: OTELCOL_VERSION OTELCOL_PROVIDERS_VERSION OTELCOL_CACHE_DIR OTELCOL_KEEP_GO_CACHES=true|false
EOF
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
    components)
      ensure_fetched
      exec "$BIN" components
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
