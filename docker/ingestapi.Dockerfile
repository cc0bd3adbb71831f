# syntax=docker/dockerfile:1
# ingestapi: uploads in, bytes to MinIO, one Celery job per image. No torch in this image.
# Built from the repository root: docker build -f docker/ingestapi.Dockerfile .

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
    uv sync --frozen --no-dev --no-install-workspace --package ingestapi
# 2. The project: shared and ingestapi go into the venv as wheels, so the venv stands alone.
COPY shared/ shared/
COPY ingestapi/ ingestapi/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable --package ingestapi

FROM python:3.11.14-slim-trixie
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/app app
COPY --from=build /app/.venv /app/.venv
COPY conf/ /app/conf/
ENV PATH=/app/.venv/bin:$PATH \
    CONF_DIR=/app/conf \
    PYTHONUNBUFFERED=1
WORKDIR /app
USER app
EXPOSE 8000
CMD ["python", "-m", "ingestapi"]
