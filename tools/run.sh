#!/usr/bin/env bash
# Start a supervised Celery worker (with beat for the reconciler) in the background and the web server in front.
set -euo pipefail
BIN=$1; HOST=$2; PORT=$3
mkdir -p var/log
# Supervised: a worker that dies (a crash, an out-of-memory kill) is started again (tools/supervise.sh).
bash tools/supervise.sh "$BIN/celery" -A greenesg worker -Q ingest,reports,celery -B --concurrency 2 \
  --loglevel INFO --schedule var/celerybeat-schedule >> var/log/worker.log 2>&1 &
WORKER=$!
trap 'kill $WORKER 2>/dev/null || true' EXIT INT TERM
cat <<MSG

  GreenESG is starting on http://$HOST:$PORT/
  Demo logins (password "demo"): officer, controller (second officer), engineer, auditor
  Celery worker log: var/log/worker.log   (stop both with Ctrl-C)

MSG
"$BIN/python" manage.py runserver "$HOST:$PORT"
