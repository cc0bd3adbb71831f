# syntax=docker/dockerfile:1
# cdnapi: a static Go binary on an empty image. Built from the repository root:
#   docker build -f docker/cdnapi.Dockerfile .

FROM golang:1.26.8-trixie AS build
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
WORKDIR /src
COPY cdnapi/go.mod cdnapi/go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY cdnapi/ ./
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -ldflags="-s -w" -o /out/cdnapi ./cmd/cdnapi
RUN mkdir -p /out/data/cdn-cache

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
# A static busybox, only so the compose healthcheck has a `wget` (an empty image has none).
COPY --from=busybox:1.37.0-musl /bin/busybox /bin/busybox
COPY --from=build /out/cdnapi /cdnapi
# cache.disk_dir (data/cdn-cache, relative to the working directory /) must be writable by the user
COPY --from=build --chown=65532:65532 /out/data /data
COPY conf/common.yaml conf/cdnapi.yaml /conf/
ENV CONF_DIR=/conf
USER 65532:65532
EXPOSE 8002
ENTRYPOINT ["/cdnapi"]
