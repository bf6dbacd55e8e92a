#!/usr/bin/env bash
# Build, cache and run promrules (scripts/promrules/rules_test.go): Prometheus's own checks of a rule file
# (those of `promtool check rules`) and its PromQL test language, built from the Go module proxy as a Go test
# binary; no promtool, no Prometheus server.
#
#   scripts/promrules/promrules.sh fetch|path|check RULES.yaml|eval SCRIPT|clean|help
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

GO_TOOL=promrules
GO_TOOL_SOURCE="$SCRIPT_DIR"
GO_TOOL_SOURCES=(go.mod go.sum rules_test.go)
GO_TOOL_CACHE_DIR="${PROMRULES_CACHE_DIR:-$REPO_ROOT/.cache/promrules}"
GO_TOOL_KEEP_GO_CACHES="${PROMRULES_KEEP_GO_CACHES:-false}"
GO_TOOL_BUILD_NOTE="downloads Prometheus's modules, then compiles its rule and PromQL packages; about 3 minutes on a cold cache, 2 cores"
# shellcheck source=../lib/go-tool.sh
source "$SCRIPT_DIR/../lib/go-tool.sh"

go_tool_build() { go test -c -trimpath -ldflags='-s -w' -o "$1" .; }

usage() {
  cat <<USAGE
usage: $(basename "$0") <command>

  fetch                   build promrules into $GO_TOOL_CACHE_DIR (once per change of its sources)
  path                    print the binary's path (building it first if needed)
  check RULES.yaml        validate a Prometheus rule file as promtool check rules does (exit 1 on a problem)
  eval SCRIPT             run a promqltest script: series loaded, expressions against their expected results
  clean                   delete $GO_TOOL_CACHE_DIR

env: PROMRULES_CACHE_DIR PROMRULES_KEEP_GO_CACHES=true|false
USAGE
}

case "${1:-help}" in
  check | eval)
    [[ $# -eq 2 ]] || {
      usage >&2
      exit 64
    }
    go_tool_ensure_built
    flag=$([[ "$1" == check ]] && echo -rules || echo -script)
    exec "$GO_TOOL_BIN" -test.run '^TestRules$' "$flag" "$2"
    ;;
  run)
    usage >&2
    exit 64
    ;;
  *) go_tool_main usage "$@" ;;
esac
