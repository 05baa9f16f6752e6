# syntax=docker/dockerfile:1
#
# The reelforge image: one image for every role (`reelforge serve`, `reelforge worker`,
# `reelforge migrate`); docs/operations.md says which settings each role takes.
#
#   CPU (default): the API, the preview engine, S3 storage
#       docker build -t reelforge:0.1.0 .
#   CUDA: the same plus the diffusion engines (torch's wheels bring the CUDA runtime; the host
#   gives the GPU through the NVIDIA driver and container toolkit)
#       docker build --build-arg VARIANT=cuda -t reelforge:0.1.0-cuda .
#
# Runs as the unprivileged user `reelforge` (uid 10001); its data directory is
# /var/lib/reelforge (mount a volume there, or an emptyDir: in scale mode the state lives in
# PostgreSQL and S3). Tests: tests/deploy/test_dockerfile.py (hadolint and the rules below).

ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

# ---- build: a virtual environment with reelforge and its extras --------------------------
FROM ${PYTHON_IMAGE} AS build
ARG VARIANT=cpu
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/reelforge
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN set -eu; \
    case "${VARIANT}" in \
      cpu) extras="s3" ;; \
      cuda) extras="s3,diffusion" ;; \
      *) echo "VARIANT must be cpu or cuda, not ${VARIANT}" >&2; exit 1 ;; \
    esac; \
    /opt/reelforge/bin/pip install --no-cache-dir ".[${extras}]"

# ---- runtime --------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
ARG VARIANT=cpu
LABEL org.opencontainers.image.title="reelforge" \
      org.opencontainers.image.description="Self-hostable reference-to-video service" \
      org.opencontainers.image.licenses="GPL-3.0-or-later" \
      io.reelforge.variant="${VARIANT}"

# espeak-ng: the preview engine speaks quoted dialogue with it. Versions follow the pinned base
# image's Debian release (its security updates), hence no version pin.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends espeak-ng \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 reelforge \
    && useradd --system --uid 10001 --gid reelforge --home-dir /var/lib/reelforge \
        --create-home --shell /usr/sbin/nologin reelforge

COPY --from=build /opt/reelforge /opt/reelforge

ENV PATH="/opt/reelforge/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HOME=/var/lib/reelforge/huggingface \
    REELFORGE_DATA_DIR=/var/lib/reelforge \
    REELFORGE_HOST=0.0.0.0 \
    REELFORGE_PORT=8000 \
    REELFORGE_WORKER_HEALTH_PORT=8001 \
    REELFORGE_LOG_FORMAT=json \
    HEALTHCHECK_URL=http://127.0.0.1:8000/healthz

WORKDIR /var/lib/reelforge
USER 10001:10001

# 8000: the API (`serve`); 8001: a worker's /healthz, /readyz and /metrics (`worker`).
EXPOSE 8000 8001

# The process answers (not /readyz: a database outage must not get a healthy process
# restarted). A worker's container sets HEALTHCHECK_URL=http://127.0.0.1:8001/healthz.
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(0 if urllib.request.urlopen(os.environ['HEALTHCHECK_URL'], timeout=4).status == 200 else 1)"]

CMD ["reelforge", "serve"]
