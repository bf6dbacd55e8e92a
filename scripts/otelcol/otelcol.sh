#!/usr/bin/env bash
# Build, cache and run a real OpenTelemetry Collector with core components only (OTLP receiver, OTLP/HTTP
# and debug exporters, batch processor), made by the OpenTelemetry Collector Builder (ocb) from modules on
# the Go module proxy (scripts/lib/go-tool.sh). No Docker, no release tarball: the one tool it needs is Go.
#
#   scripts/otelcol/otelcol.sh fetch|path|run [collector args...]|components|clean|help
#
# Everything it downloads or builds stays under .cache/otelcol (Go's module and build caches included), so
# a clean checkout builds the same binary without touching ~/go.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

# Components and ocb share the collector's release number; the confmap providers are versioned 1.x and
# released with it (collector 0.162.0 = providers 1.68.0). Newer releases are listed by the module proxy
# we can reach, but it refuses some of their modules (403 for internal/statusutil, which otlphttpexporter
# needs from 0.163.0 on, and for most of 0.165.0), so they cannot be built here.
OTELCOL_VERSION="${OTELCOL_VERSION:-0.162.0}"
OTELCOL_PROVIDERS_VERSION="${OTELCOL_PROVIDERS_VERSION:-1.68.0}"
OTELCOL_CACHE_DIR="${OTELCOL_CACHE_DIR:-$REPO_ROOT/.cache/otelcol}"
VERSION_DIR="$OTELCOL_CACHE_DIR/$OTELCOL_VERSION"

GO_TOOL=otelcol
GO_TOOL_SOURCE="$SCRIPT_DIR"
GO_TOOL_CACHE_DIR="$OTELCOL_CACHE_DIR"
GO_TOOL_BIN="$VERSION_DIR/otelcol-streamscore"
# ocb writes the module it builds (go.mod and go.sum included), so the module flags stay the go command's.
GO_TOOL_MOD_FLAGS=""
# Go's module and build caches are only needed while building and take over half a gigabyte; kept on
# request (a rebuild with them is faster, one without them is what CI's clean checkout does anyway).
GO_TOOL_KEEP_GO_CACHES="${OTELCOL_KEEP_GO_CACHES:-false}"
GO_TOOL_BUILD_NOTE="collector $OTELCOL_VERSION: installs ocb, downloads the components, then compiles; minutes on a cold cache"
# shellcheck source=../lib/go-tool.sh
source "$SCRIPT_DIR/../lib/go-tool.sh"

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
go_tool_fingerprint() { manifest | sha256sum | cut -c1-16; }

go_tool_build() {
  local output="$1" tools="$VERSION_DIR/tools"
  rm -rf "$VERSION_DIR/build"
  log "installing ocb (go.opentelemetry.io/collector/cmd/builder v$OTELCOL_VERSION)"
  GOBIN="$tools" go install "go.opentelemetry.io/collector/cmd/builder@v$OTELCOL_VERSION" ||
    die "could not install ocb v$OTELCOL_VERSION from the Go module proxy"
  manifest >"$VERSION_DIR/manifest.yaml"
  "$tools/builder" --config="$VERSION_DIR/manifest.yaml" ||
    die "ocb could not build the collector (see output above; manifest $VERSION_DIR/manifest.yaml)"
  [[ -x "$VERSION_DIR/build/otelcol-streamscore" ]] || die "ocb finished without writing a binary"
  mv "$VERSION_DIR/build/otelcol-streamscore" "$output"
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

case "${1:-help}" in
  components)
    go_tool_ensure_built
    exec "$GO_TOOL_BIN" components
    ;;
  *) go_tool_main usage "$@" ;;
esac
