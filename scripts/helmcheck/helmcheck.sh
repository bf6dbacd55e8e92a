#!/usr/bin/env bash
# Build, cache and run helmcheck (scripts/helmcheck/*.go): Helm's own lint and client-only render of a chart,
# then a strict decode of every rendered object into its Kubernetes (or KEDA, or Prometheus Operator) Go
# type. Built once from the Go module proxy with the Go toolchain (scripts/lib/go-tool.sh); no helm binary,
# no cluster.
#
#   scripts/helmcheck/helmcheck.sh fetch|path|run [helmcheck args...]|clean|help
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

GO_TOOL=helmcheck
GO_TOOL_SOURCE="$SCRIPT_DIR"
GO_TOOL_SOURCES=(go.mod go.sum main.go decode.go crds.go)
GO_TOOL_CACHE_DIR="${HELMCHECK_CACHE_DIR:-$REPO_ROOT/.cache/helmcheck}"
# Go's caches hold about 1 GB with Helm's dependencies.
GO_TOOL_KEEP_GO_CACHES="${HELMCHECK_KEEP_GO_CACHES:-false}"
GO_TOOL_BUILD_NOTE="downloads Helm's modules, then compiles; about 3 minutes on a cold cache, 2 cores"
# shellcheck source=../lib/go-tool.sh
source "$SCRIPT_DIR/../lib/go-tool.sh"

go_tool_build() { go build -trimpath -ldflags='-s -w' -o "$1" .; }

usage() {
  cat <<USAGE
usage: $(basename "$0") <command>

  fetch                   build helmcheck into $GO_TOOL_CACHE_DIR (once per change of its sources)
  path                    print the binary's path (building it first if needed)
  run [args...]           run it: run CHART [VALUES[,VALUES...] ...] (prints a JSON report)
  clean                   delete $GO_TOOL_CACHE_DIR

env: HELMCHECK_CACHE_DIR HELMCHECK_KEEP_GO_CACHES=true|false
USAGE
}

go_tool_main usage "$@"
