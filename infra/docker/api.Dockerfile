# syntax=docker/dockerfile:1.7
# The API and webhook-worker image. Default command `openwa api` (gunicorn serving functions.wsgi:app on
# 0.0.0.0:$PORT); the same image runs `openwa worker`. Build from the repository root:
#   docker build -f infra/docker/api.Dockerfile -t openwa-api .
# Runs as uid 10001 with a read-only root filesystem. Writable mounts it expects: /tmp (tmpfs; Python and
# gunicorn scratch) and /data (DATA_DIR; empty while API_MASTER_KEY and ENCRYPTION_KEY are set, and they
# must be once several containers share Redis and storage). gunicorn keeps its worker heartbeat files on
# /dev/shm, which Docker and Kubernetes mount writable.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
# Dependencies first: this layer is rebuilt only when the pins change.
COPY infra/serverless/requirements.txt /src/infra/serverless/requirements.txt
COPY infra/docker/requirements-api.txt /src/infra/docker/requirements-api.txt
RUN /opt/venv/bin/pip install -r /src/infra/docker/requirements-api.txt
COPY pyproject.toml README.md /src/
COPY functions /src/functions
# The project itself (the `openwa` console script and the functions package), its dependencies already in.
RUN /opt/venv/bin/pip install --no-deps /src

FROM python:3.11-slim-bookworm
# tini: PID 1 that forwards SIGTERM to gunicorn / the RQ worker and reaps orphans.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 openwa \
    && useradd --system --uid 10001 --gid openwa --home-dir /data --no-create-home --shell /usr/sbin/nologin openwa \
    && install -d -o openwa -g openwa -m 0700 /data
COPY --from=build /opt/venv /opt/venv
COPY --chmod=0755 infra/docker/healthcheck.py /usr/local/bin/openwa-healthcheck
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    BIND_HOST=0.0.0.0 \
    PORT=2785 \
    DATA_DIR=/data
WORKDIR /data
USER 10001:10001
EXPOSE 2785
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["openwa-healthcheck", "api"]
ENTRYPOINT ["tini", "--"]
CMD ["openwa", "api"]
