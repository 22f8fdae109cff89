# Shared pieces of the scripts that run compose.yaml for real (tools/compose_check.sh, tools/soak_stack.sh).
# Source it after setting PROJECT (compose project name), PORT (host port of web) and ENV_FILE; it reads:
#   BASE_IMAGE       Debian base of the GreenESG image (default debian:bookworm-slim; local/debian:bookworm offline)
#   POSTGRES_IMAGE, REDIS_IMAGE   default: the official images; "standin" builds tools/docker/*.Dockerfile on
#                    BASE_IMAGE instead (no registry needed)
#   PIP_CERT_FILE    CA bundle pip needs behind a TLS-inspecting proxy (passed as a BuildKit secret)
#   PIP_INDEX        package index for pip inside the build (a mirror); default pip's own
#   DOCKER, COMPOSE  the docker CLI (must build with BuildKit) and compose command (default "docker compose",
#                    falling back to docker-compose)
#   GREENESG_IMAGE   tag of the application image (default greenesg:$PROJECT)

DOCKER=${DOCKER:-docker}
if [ -z "${COMPOSE:-}" ]; then
  if $DOCKER compose version >/dev/null 2>&1; then COMPOSE="$DOCKER compose"; else COMPOSE=docker-compose; fi
fi
BASE_IMAGE=${BASE_IMAGE:-debian:bookworm-slim}
POSTGRES_IMAGE=${POSTGRES_IMAGE:-postgres:15-bookworm}
REDIS_IMAGE=${REDIS_IMAGE:-redis:7-bookworm}
GREENESG_IMAGE=${GREENESG_IMAGE:-greenesg:$PROJECT}
URL=http://127.0.0.1:$PORT

step() { printf '\n== %s\n' "$*"; }
say() { printf '   %s\n' "$*"; }
fail() {
  printf '   FAILED: %s\n' "$*"
  exit 1
}
random_secret() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# Throw-away secrets for one run; extra KEY=VALUE lines (arguments) are appended.
env_file_write() {
  mkdir -p "$(dirname "$ENV_FILE")"
  cat > "$ENV_FILE" <<ENV
SECRET_KEY=$(random_secret)
POSTGRES_PASSWORD=$(random_secret)
POSTGRES_USER=greenesg
POSTGRES_DB=greenesg
ALLOWED_HOSTS=localhost,127.0.0.1
SECURE_SSL_REDIRECT=0
WEB_PORT=$PORT
LOG_LEVEL=WARNING
ENV
  local line
  for line in "$@"; do printf '%s\n' "$line" >> "$ENV_FILE"; done
}

compose() { GREENESG_ENV_FILE=$ENV_FILE GREENESG_IMAGE=$GREENESG_IMAGE BASE_IMAGE=$BASE_IMAGE \
  POSTGRES_IMAGE=$POSTGRES_IMAGE REDIS_IMAGE=$REDIS_IMAGE $COMPOSE -p "$PROJECT" --env-file "$ENV_FILE" -f compose.yaml "$@"; }
in_web() { compose exec -T web "$@"; }

# "standin" for POSTGRES_IMAGE/REDIS_IMAGE names the images built from tools/docker/ on BASE_IMAGE.
STANDIN_POSTGRES=""
STANDIN_REDIS=""
standin_names() {
  if [ "$POSTGRES_IMAGE" = standin ]; then POSTGRES_IMAGE=greenesg-standin/postgres:15 STANDIN_POSTGRES=1; fi
  if [ "$REDIS_IMAGE" = standin ]; then REDIS_IMAGE=greenesg-standin/redis:7 STANDIN_REDIS=1; fi
}

# The application image and, when asked for, the PostgreSQL and Redis stand-ins.
images_build() {
  local build_args=(--build-arg "BASE_IMAGE=$BASE_IMAGE") started=$SECONDS
  [ -n "${PIP_INDEX:-}" ] && build_args+=(--build-arg "PIP_INDEX=$PIP_INDEX")
  [ -n "${PIP_CERT_FILE:-}" ] && build_args+=(--secret "id=pip_cert,src=$PIP_CERT_FILE")
  DOCKER_BUILDKIT=1 $DOCKER build -q "${build_args[@]}" -t "$GREENESG_IMAGE" . >/dev/null || fail "image build"
  say "image $GREENESG_IMAGE built in $((SECONDS - started)) s"
  standin_names
  if [ -n "$STANDIN_POSTGRES" ]; then
    $DOCKER build -q --build-arg "BASE_IMAGE=$BASE_IMAGE" -f tools/docker/postgres.Dockerfile -t "$POSTGRES_IMAGE" \
      tools/docker >/dev/null || fail "postgres stand-in build"
    say "PostgreSQL stand-in image built ($POSTGRES_IMAGE)"
  fi
  if [ -n "$STANDIN_REDIS" ]; then
    $DOCKER build -q --build-arg "BASE_IMAGE=$BASE_IMAGE" -f tools/docker/redis.Dockerfile -t "$REDIS_IMAGE" \
      tools/docker >/dev/null || fail "redis stand-in build"
    say "Redis stand-in image built ($REDIS_IMAGE)"
  fi
}

stack_up() {
  compose up -d --no-build >/dev/null 2>&1 || { compose logs --tail 30; fail "compose up"; }
  compose ps
}

# Waits up to $1 seconds (default 180) for /readyz; prints its answer.
ready_wait() {
  local limit=${1:-180} ready="" started=$SECONDS
  while [ $((SECONDS - started)) -lt "$limit" ]; do
    if ready=$(curl -fsS "$URL/readyz" 2>/dev/null); then break; fi
    ready=""
    sleep 2
  done
  [ -n "$ready" ] || { curl -sS "$URL/readyz" || true; compose logs --tail 30 web; fail "not ready after $limit s"; }
  say "$ready  ($((SECONDS - started)) s)"
}

stack_down() {
  compose down --volumes --remove-orphans >/dev/null 2>&1 && say "stack and volumes removed" || say "down failed"
}
