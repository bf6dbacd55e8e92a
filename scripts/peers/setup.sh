#!/usr/bin/env bash
# Create the Python peer's virtualenv (.cache/peers-venv, git-ignored) from PyPI, as pinned in
# scripts/peers/requirements.txt. Idempotent: when the venv was built from the same requirements and still
# imports them, it returns at once (well under a second).
#
#   bash scripts/peers/setup.sh          # create or update the venv
#   PEERS_VENV=/some/dir bash scripts/peers/setup.sh
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
REQUIREMENTS="$SCRIPT_DIR/requirements.txt"
VENV="${PEERS_VENV:-$REPO_ROOT/.cache/peers-venv}"
PYTHON="${PYTHON:-python3}"
# Written last, holding the sha256 of the requirements the venv was built from (the test checks it too).
STAMP="$VENV/.requirements.sha256"

log() { printf '[peers] %s\n' "$*" >&2; }
die() {
  printf '[peers] ERROR: %s\n' "$*" >&2
  exit 1
}
now_ms() { date +%s%3N; }
elapsed() { local ms=$(($(now_ms) - $1)); printf '%d.%01ds' $((ms / 1000)) $((ms % 1000 / 100)); }

wanted="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"
ready() {
  [[ -f "$STAMP" && "$(cat "$STAMP")" == "$wanted" ]] &&
    "$VENV/bin/python" -c 'import confluent_kafka, fastavro, confluent_kafka.schema_registry.avro' 2>/dev/null
}

if ready; then
  log "venv ready: $VENV"
  exit 0
fi

# One build at a time (CI and a developer, or two test runs): the others wait and then find it ready.
mkdir -p "$(dirname "$VENV")"
exec {lock_fd}>"$VENV.lock"
if ! flock -n "$lock_fd"; then
  log "another process is creating $VENV; waiting for it"
  flock "$lock_fd"
fi
if ready; then
  log "venv ready: $VENV"
  exit 0
fi

start="$(now_ms)"
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found; the peers need Python 3.11 or later (fastavro 1.13, httpx2)"
rm -f "$STAMP"
if [[ ! -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c '' 2>/dev/null; then
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV" ||
    die "'$PYTHON -m venv' failed (on Debian or Ubuntu: apt-get install python3-venv)"
fi

log "installing $(grep -cE '^[a-zA-Z]' "$REQUIREMENTS") packages from PyPI into $VENV"
# Wheels only: confluent-kafka built from source would need librdkafka's headers, and failing clearly is
# better than compiling for minutes. pip's own output is kept to show when something goes wrong.
pip_log="$VENV/pip-install.log"
if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
  -r "$REQUIREMENTS" >"$pip_log" 2>&1; then
  cat "$pip_log" >&2
  if grep -qiE 'connection|timed out|temporary failure|name resolution|proxy|ssl|network|unreachable' "$pip_log"; then
    index="${PIP_INDEX_URL:-$("$VENV/bin/python" -m pip config get global.index-url 2>/dev/null || echo https://pypi.org/simple)}"
    die "pip could not reach the package index ($index) to install $REQUIREMENTS; check the network, proxy or PIP_INDEX_URL, then run 'bash scripts/peers/setup.sh' again"
  fi
  die "pip could not install $REQUIREMENTS into $VENV (output above); for a Python or platform without wheels of these versions, change the pins"
fi
"$VENV/bin/python" -c 'import confluent_kafka, fastavro, confluent_kafka.schema_registry.avro' ||
  die "the packages installed but do not import (output above)"

versions="$("$VENV/bin/python" -c 'from importlib.metadata import version as v; import confluent_kafka as k
print("confluent-kafka", v("confluent-kafka"), "(librdkafka %s)," % k.libversion()[0], "fastavro", v("fastavro"))')"
printf '%s\n' "$wanted" >"$STAMP"
log "venv ready in $(elapsed "$start"): $versions"
