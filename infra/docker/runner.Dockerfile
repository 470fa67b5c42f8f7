# syntax=docker/dockerfile:1.7
# The runner image: `openwa runner` (a supervisor holding up to MAX_SESSIONS WhatsApp sessions, one process
# and one Chromium each); the same image runs `openwa sandbox`. Build from the repository root:
#   docker build -f infra/docker/runner.Dockerfile -t openwa-runner .
# Chromium is Debian's (CHROMIUM_PATH), the browser the project's own tests drive with this Playwright pin;
# wa-js is the version pinned in runner/package.json, installed by `npm ci` from its lockfile.
#
# Runs as uid 10001 with a read-only root filesystem. Writable mounts it expects:
#   /tmp   tmpfs, >= 256 MiB per session: each browser's scratch HOME, and Chromium's shared memory, which
#          the engine's --disable-dev-shm-usage flag moves from /dev/shm to /tmp;
#   /data  DATA_DIR (the sandbox keeps its phones and chats in /data/sandbox; a runner writes nothing there
#          while ENCRYPTION_KEY is set and storage is S3).
# shm_size: with --disable-dev-shm-usage Chromium does not depend on /dev/shm, but give it 1 GiB anyway
# (compose `shm_size: 1gb`, Kubernetes an emptyDir with medium Memory): Docker's default 64 MiB makes
# Chromium's renderers crash on heavy pages when the flag is ever dropped.

FROM node:22-bookworm-slim AS wajs
WORKDIR /build
COPY runner/package.json runner/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM python:3.11-slim-bookworm
# chromium + fonts (emoji and Latin glyphs WhatsApp Web renders); tini as PID 1, because the supervisor
# spawns one process per session and Chromium spawns many: orphans must be reaped.
RUN apt-get update \
    && apt-get install -y --no-install-recommends chromium fonts-liberation fonts-noto-color-emoji tini \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 openwa \
    && useradd --system --uid 10001 --gid openwa --home-dir /data --no-create-home --shell /usr/sbin/nologin openwa \
    && install -d -o openwa -g openwa -m 0700 /data
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /app
COPY pyproject.toml README.md ./
COPY functions ./functions
COPY runner ./runner
COPY --from=wajs /build/node_modules ./runner/node_modules
# Editable on purpose: the webjs engine finds wa-js next to its package (runner/node_modules/...), so the
# package is imported from /app/runner where npm put it, not from a copy in site-packages.
RUN /opt/venv/bin/pip install -e /app \
    && test -f /app/runner/node_modules/@wppconnect/wa-js/dist/wppconnect-wa.js
COPY --chmod=0755 infra/docker/healthcheck.py /usr/local/bin/openwa-healthcheck
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    DATA_DIR=/data \
    CHROMIUM_PATH=/usr/bin/chromium \
    HEADLESS=true \
    SANDBOX_HOST=0.0.0.0
USER 10001:10001
EXPOSE 2786
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["openwa-healthcheck", "runner"]
ENTRYPOINT ["tini", "--"]
CMD ["openwa", "runner"]
