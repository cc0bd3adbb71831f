# Two commands matter: `make dev` (run everything natively) and `make test` (run every test).
# Both install what is missing first: Debian packages, uv, the Python workspace, MinIO, cdnapi.

SHELL := /bin/bash
.DEFAULT_GOAL := help
.SHELLFLAGS := -eu -o pipefail -c

export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy

UV := python3 -m uv
UV_VERSION := 0.13.9
PY := .venv/bin/python
BIN := .bin
MINIO_MODULE := github.com/minio/minio
MINIO_VERSION := v0.0.0-20260212201848-7aac2a2c5b7c
# Helm renders and lints the Kubernetes chart in the tests (tests/deploy); built from source, pinned
HELM_VERSION := v3.22.0
# command:package pairs installed from Debian when the command is missing (PostgreSQL, for the
# catalog's PostgreSQL tests, keeps its programs off PATH in /usr/lib/postgresql/<major>/bin)
APT_NEEDS := redis-server:redis-server nginx:nginx-light chromium:chromium wrk:wrk initdb:postgresql \
             promtool:prometheus
# file:package pairs for what has no command: the GStreamer RTSP server the camera tests and
# `make camera-demo` stream from (run by Debian's python3, whose gi bindings it needs)
APT_FILES := /usr/lib/python3/dist-packages/gi:python3-gi \
             /usr/lib/*/girepository-1.0/GstRtspServer-1.0.typelib:gir1.2-gst-rtsp-server-1.0 \
             /usr/lib/*/gstreamer-1.0/libgstvideotestsrc.so:gstreamer1.0-plugins-base \
             /usr/lib/*/gstreamer-1.0/libgstrtp.so:gstreamer1.0-plugins-good
# make dev MODEL=production|tiny; auto keeps the model the data was indexed with
MODEL ?= auto
CREDENTIALS := data/admin-credentials
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CDNAPI_SOURCES := $(shell find cdnapi -name '*.go' -o -name 'go.mod' -o -name 'go.sum' 2>/dev/null)

.PHONY: help setup system-deps python-deps dev observe test test-fast test-python test-go lint fmt bench \
        bench-ingest bench-search bench-cdn soak camera-demo migrate reindex demo train-tiny clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: system-deps python-deps $(BIN)/minio $(BIN)/cdnapi $(BIN)/helm ## install everything the stack and tests need

system-deps:
	@missing=""; for need in $(APT_NEEDS); do \
	  command -v "$${need%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/$${need%%:*}" ] \
	    || compgen -G "/usr/lib/postgresql/*/bin/$${need%%:*}" >/dev/null || missing="$$missing $${need##*:}"; \
	done; \
	for need in $(APT_FILES); do \
	  compgen -G "$${need%%:*}" >/dev/null || missing="$$missing $${need##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install -q "uv==$(UV_VERSION)"

python-deps: system-deps
	$(UV) sync --frozen --quiet

# MinIO's community edition ships as source: build the pinned version once, reuse it after.
$(BIN)/minio: $(BIN)/.minio-$(MINIO_VERSION)
$(BIN)/.minio-$(MINIO_VERSION):
	@echo "building MinIO $(MINIO_VERSION) from source (first time only: a few minutes)"
	mkdir -p $(BIN) && GOBIN=$(CURDIR)/$(BIN) go install -trimpath $(MINIO_MODULE)@$(MINIO_VERSION)
	touch $@

$(BIN)/helm: $(BIN)/.helm-$(HELM_VERSION)
$(BIN)/.helm-$(HELM_VERSION):
	mkdir -p $(BIN) && GOBIN=$(CURDIR)/$(BIN) go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	touch $@

$(BIN)/cdnapi: $(CDNAPI_SOURCES)
	mkdir -p $(BIN) && cd cdnapi && go build -trimpath -o ../$(BIN)/cdnapi ./cmd/cdnapi

dev: setup ## run the whole stack natively on loopback (Ctrl-C stops it)
	@mkdir -p data
	$(PY) tools/dev_env.py --model $(MODEL)
	set -a && . data/dev.env && set +a && $(PY) -m ingestapi.bootstrap --credentials $(CREDENTIALS)
	@echo "front door: http://127.0.0.1:3000   ingestapi :8000  searchapi :8001  cdnapi :8002"
	@echo "admin sign-in and API key: $(CREDENTIALS) (made on the first run; mode 0600)"
	@echo "data under ./data survives restarts; Ctrl-C stops everything"
	exec $(PY) -m honcho -f Procfile -e data/dev.env start

# Not :9090: installing Debian's package on a host with systemd starts its own Prometheus there.
PROMETHEUS_ADDR ?= 127.0.0.1:9099

observe: python-deps ## Prometheus beside a running `make dev`, with the alert rules (:9099)
	@mkdir -p run/observe data/prometheus
	$(PY) deploy/observability/render_prometheus.py --out run/observe/prometheus.yml \
	  --listen $(PROMETHEUS_ADDR)
	@echo "Prometheus: http://$(PROMETHEUS_ADDR) (alerts: /alerts; data under data/prometheus)"
	exec prometheus --config.file=run/observe/prometheus.yml --storage.tsdb.path=data/prometheus \
	  --web.listen-address=$(PROMETHEUS_ADDR)

test: setup test-go test-python ## run every test (starts and stops its own servers)

test-fast: python-deps $(BIN)/helm ## run the fast tier: no servers, about a minute
	$(PY) -m pytest -m "not integration"

test-go:
	cd cdnapi && go vet ./... && go test -count=1 ./...

test-python:
	$(PY) -m pytest --durations=25

lint: python-deps ## ruff, mypy, gofmt, go vet
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy shared/shared samples/imagesearch_samples
	test -z "$$(gofmt -l cdnapi)"
	cd cdnapi && go vet ./...

fmt: python-deps ## format Python and Go
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .
	gofmt -w cdnapi

bench: bench-ingest bench-search bench-cdn ## every benchmark, printing numbers

bench-ingest: setup ## ingest rate (images/s) through ingestapi + worker, default runtime and torch
	$(PY) tools/bench_ingest.py --runtime auto,torch

bench-search: setup ## text-embedding time and search p50/p99 at 10k and 100k vectors
	$(PY) tools/bench_search.py

bench-cdn: setup ## cdnapi vs Nginx serving the same bytes (wrk)
	bash tools/bench_cdn.sh

soak: setup ## fault-injection soak: 1,000 images while each dependency fails in turn (~15 min)
	$(PY) -m tests.soak

camera-demo: system-deps python-deps ## a test RTSP camera captures 5 frames into the running `make dev`
	$(PY) tools/camera_demo.py

migrate: python-deps ## migrate the catalog to the newest schema
	$(PY) -m ingestapi.migrate

reindex: python-deps ## re-embed every original with the configured model, then move the alias
	$(PY) -m searchapi.reindex

demo: python-deps ## load generated sample pictures into the running stack
	$(PY) -m imgsearch_cli demo

train-tiny: python-deps ## retrain the tiny demo/test CLIP checkpoint (CPU, minutes)
	$(PY) tools/train_tiny_clip.py

clean: ## remove build outputs and test artifacts (keeps ./data)
	rm -rf $(BIN)/cdnapi artifacts .pytest_cache .ruff_cache .mypy_cache

-include docker/docker.mk
