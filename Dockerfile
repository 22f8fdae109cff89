# GreenESG image: one image for web (gunicorn), Celery workers and beat; compose.yaml picks the command.
# Debian's own Python 3.11 on bookworm, so the base image is plain Debian. Where no registry is reachable,
# build a local base image first (DEVELOPERS.md) and pass it: --build-arg BASE_IMAGE=local/debian:bookworm
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}

# Optional package index for pip (a mirror or proxy); empty means pip's default index. Build arguments are
# stored in the image history, so never put credentials here.
ARG PIP_INDEX=""
ARG PIP_EXTRA_INDEX=""
ARG PIP_TRUSTED=""

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    GREENESG_VAR_DIR=/var/lib/greenesg \
    MEDIA_ROOT=/var/lib/greenesg/media \
    STATIC_ROOT=/app/staticfiles

# python3 is 3.11 on bookworm. Pango, PangoFT2 and HarfBuzz's subsetter are what WeasyPrint loads to render
# PDFs; DejaVu gives it a font when the page's own fonts are missing. poppler-utils' pdftoppm draws the report
# page's first-page preview (optional: without it the page says there is no preview).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      python3 python3-venv ca-certificates \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --gid 10001 greenesg \
 && useradd --uid 10001 --gid greenesg --no-create-home --home-dir /app --shell /usr/sbin/nologin greenesg

WORKDIR /app
COPY requirements.txt ./
# Behind a TLS-inspecting proxy pip needs that proxy's CA: pass the host's bundle as a BuildKit secret
# (DOCKER_BUILDKIT=1 docker build --secret id=pip_cert,src=/etc/ssl/certs/ca-certificates.crt …). A secret is
# mounted for this one step only and never stored in a layer; without it pip uses the image's own CAs.
RUN --mount=type=secret,id=pip_cert \
    if [ -s /run/secrets/pip_cert ]; then export PIP_CERT=/run/secrets/pip_cert; fi \
 && python3 -m venv /opt/venv \
 && pip install --no-cache-dir --disable-pip-version-check \
      ${PIP_INDEX:+--index-url "$PIP_INDEX"} \
      ${PIP_EXTRA_INDEX:+--extra-index-url "$PIP_EXTRA_INDEX"} \
      ${PIP_TRUSTED:+--trusted-host "$PIP_TRUSTED"} \
      -r requirements.txt

COPY . .
# Hashed, compressed static files for production mode (WhiteNoise's manifest storage). The key only lets
# settings load for this one command; it is not kept in the image.
RUN GREENESG_MODE=production SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost \
      python manage.py collectstatic --noinput --verbosity 0 \
 && mkdir -p /var/lib/greenesg/media \
 && chown -R greenesg:greenesg /var/lib/greenesg

USER greenesg
EXPOSE 8000
# No gunicorn control socket: the unprivileged user cannot create ~/.gunicorn in the root-owned /app, and
# restarts and scaling go through the orchestrator, not gunicornc.
CMD ["gunicorn", "greenesg.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", \
     "--no-control-socket"]
