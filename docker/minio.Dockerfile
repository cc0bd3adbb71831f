# syntax=docker/dockerfile:1
# MinIO built from source, at the same commit `make dev` installs.
#
# Why not a pinned minio/minio image: MinIO's community edition now ships as source only. The
# last community images on Docker Hub are frozen, and later fixes (security releases among them)
# exist only as source, so an image tag would pin us to a release that no longer gets fixes and
# run a different MinIO in containers than `make dev` runs natively. The cost is one Go build
# (a few minutes, then cached by BuildKit) on the first `docker compose build`.
# Built from the repository root: docker build -f docker/minio.Dockerfile .

FROM golang:1.26.8-trixie AS build
ARG MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
ENV CGO_ENABLED=0
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    GOBIN=/out go install -trimpath -ldflags="-s -w" "github.com/minio/minio@${MINIO_VERSION}"

FROM alpine:3.22.2
# busybox's wget serves the compose healthcheck; /data is created so a fresh volume is ours.
RUN addgroup -S -g 10002 minio \
 && adduser -S -D -u 10002 -G minio -h /home/minio minio \
 && mkdir /data && chown minio:minio /data
COPY --from=build /out/minio /usr/local/bin/minio
USER minio
EXPOSE 9000 9001
ENTRYPOINT ["minio"]
CMD ["server", "/data", "--console-address", ":9001"]
