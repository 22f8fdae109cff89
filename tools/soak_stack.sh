#!/usr/bin/env bash
# The compose stack of bench/soak.py, on its own project name and port so it never meets compose-check's:
#   tools/soak_stack.sh up     build, up, wait for /readyz, seed (bench/soak_seed.py) → var/soak-seed.json
#   tools/soak_stack.sh ids    "service container-id" per line
#   tools/soak_stack.sh logs   every service's log → var/soak-logs.txt
#   tools/soak_stack.sh psql SQL   one query in the db container, unaligned output
#   tools/soak_stack.sh down   stop and remove the stack and its volumes
# Environment: as tools/compose_lib.sh; SOAK_PORT (default 18100).
set -euo pipefail
cd "$(dirname "$0")/.."

PROJECT=greenesg-soak
PORT=${SOAK_PORT:-18100}
ENV_FILE=var/soak.env
GREENESG_IMAGE=${GREENESG_IMAGE:-greenesg:soak}
SERVICES="web worker-ingest worker-reports beat db redis"
# shellcheck source=tools/compose_lib.sh
. tools/compose_lib.sh
standin_names

case "${1:-}" in
  up)
    env_file_write
    step "build ($GREENESG_IMAGE on $BASE_IMAGE)"
    images_build
    step "up"
    stack_up
    step "wait for /readyz"
    ready_wait 240
    step "seed (bench/soak_seed.py)"
    in_web python manage.py shell --no-imports < bench/soak_seed.py | sed -n 's/^SOAK_SEED //p' > var/soak-seed.json
    [ -s var/soak-seed.json ] || fail "seed printed nothing"
    say "organisation soak: 4 projects, officer, engineer, auditor, 4 tokens (var/soak-seed.json)"
    ;;
  ids) for service in $SERVICES; do echo "$service $(compose ps -q "$service")"; done ;;
  logs) compose logs --no-color --timestamps > var/soak-logs.txt 2>&1; say "logs in var/soak-logs.txt" ;;
  psql)
    # shellcheck disable=SC2016
    compose exec -T db sh -c 'psql -X -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -At -F "|" -c "$1"' \
      psql "$2"
    ;;
  down) step "down"; stack_down ;;
  *) echo "usage: $0 up|ids|logs|psql SQL|down" >&2; exit 2 ;;
esac
