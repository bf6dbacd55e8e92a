# Sourced by the fetch scripts. One fetch at a time per cache folder: parallel test runs (or CI and a
# developer) would otherwise download or build into the same place at once.

# lock_fetch <folder> <what is fetched>: holds the folder's lock until the shell exits or closes
# $FETCH_LOCK_FD; waits, saying so, when another process holds it.
lock_fetch() {
  local folder="$1" what="$2"
  mkdir -p "$folder"
  exec {FETCH_LOCK_FD}>"$folder/.fetch.lock"
  if ! flock -n "$FETCH_LOCK_FD"; then
    log "another process is fetching $what; waiting for it"
    flock "$FETCH_LOCK_FD"
  fi
}
