#!/usr/bin/env bash
# Start a supervised Celery worker (with beat for the reconciler) in the background and the web server in front.
# The server prints the one line a newcomer needs (the URL, how to pick another port, how to stop): see
# demo/management/commands/serve.py. Demo mode lists the demo logins on the login page (`make run` loads the demo).
set -euo pipefail
BIN=$1; HOST=$2; PORT=$3
TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p var/log
export GREENESG_DEMO=1
# Supervised: a worker that dies (a crash, an out-of-memory kill) is started again (tools/supervise.sh).
bash "$TOOLS/supervise.sh" "$BIN/celery" -A greenesg worker -Q ingest,reports,celery -B --concurrency 2 \
  --loglevel INFO --schedule var/celerybeat-schedule >> var/log/worker.log 2>&1 &
WORKER=$!
trap 'kill $WORKER 2>/dev/null || true' EXIT INT TERM
echo "Celery worker log: var/log/worker.log"
# No autoreload: its file watcher polls the whole tree every second, and `make run` is for using the app.
"$BIN/python" manage.py serve "$HOST:$PORT" --noreload
