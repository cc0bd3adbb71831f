# syntax=docker/dockerfile:1
# ingestworker: the Celery ingest pipeline with torch + OpenCLIP. The same image serves the CPU
# worker and the `gpu` profile: PyPI's Linux torch wheel carries its CUDA libraries.
# Built from the repository root: docker build -f docker/ingestworker.Dockerfile .
# One-shot model fetch into the `models` volume: python -m ingestworker.prefetch

FROM python:3.11.14-slim-trixie AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src
# 1. Third-party dependencies only, from the lock: this layer changes with uv.lock, not the code.
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-workspace --package ingestworker
# 2. The project: shared and ingestworker go into the venv as wheels, so the venv stands alone.
COPY shared/ shared/
COPY ingestworker/ ingestworker/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package ingestworker

FROM python:3.11.14-slim-trixie
# /models is created here so a fresh named volume mounted on it starts owned by `app`.
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/app app \
 && mkdir /models && chown app:app /models
COPY --from=build /app/.venv /app/.venv
COPY conf/ /app/conf/
ENV PATH=/app/.venv/bin:$PATH \
    CONF_DIR=/app/conf \
    PYTHONUNBUFFERED=1 \
    HF_HOME=/models/huggingface
WORKDIR /app
USER app
EXPOSE 8003
CMD ["python", "-m", "ingestworker"]
