#!/usr/bin/env bash
# Keep a process running: start it again whenever it exits, after a pause that doubles after each quick
# exit (1 s, 2 s, 4 s … up to SUPERVISE_MAX_DELAY, default 60 s) and starts over once it ran for a minute.
# TERM or INT stops the child (Celery's warm shutdown) and then the supervisor.
# Usage: tools/supervise.sh COMMAND [ARG…]   (what `make run` uses for its Celery worker; in production use
# compose's `restart:` or systemd's Restart=, docs/operations.md §3)
set -u
max_delay=${SUPERVISE_MAX_DELAY:-60}
healthy_after=${SUPERVISE_HEALTHY_AFTER:-60}
delay=1
child=
stop() {
  [ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child"
  exit 0
}
trap stop TERM INT
while true; do
  started=$SECONDS
  "$@" &
  child=$!
  wait "$child"
  status=$?
  child=
  if (( SECONDS - started >= healthy_after )); then delay=1; fi
  echo "supervise: $1 exited with status $status at $(date -u +%FT%TZ); starting it again in ${delay}s" >&2
  sleep "$delay" &
  wait $!
  delay=$(( delay * 2 > max_delay ? max_delay : delay * 2 ))
done
