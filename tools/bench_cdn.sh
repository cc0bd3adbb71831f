#!/usr/bin/env bash
# Benchmark cdnapi (Go, MinIO behind an in-process cache of small objects) against Nginx serving
# the same bytes from disk.
#
# Starts its own MinIO, two cdnapi (the repo config, whose cache holds the thumbnail; and one with
# the cache off, CACHE__MAX_BYTES=0, where every request goes to MinIO) and Nginx on free 127.0.0.1
# ports, seeds a ~20 KB thumbnail and a 2 MB original (too big to cache: streamed either way), runs
# wrk with keep-alive connections against each URL and prints req/s, p99 and the cdnapi/nginx
# ratio. Everything it starts is stopped by PID on exit.
#
#   tools/bench_cdn.sh                         # 10 s per URL
#   BENCH_SECONDS=5 BENCH_CONNECTIONS=64 tools/bench_cdn.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_SECONDS=${BENCH_SECONDS:-10}
BENCH_THREADS=${BENCH_THREADS:-2}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-32}
MINIO_BIN=${MINIO_BIN:-$ROOT/.bin/minio}
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
WRK_BIN=${WRK_BIN:-wrk}
MINIO_USER=bench
MINIO_PASSWORD=bench-secret-key

RUN=$(mktemp -d "${TMPDIR:-/tmp}/bench-cdn.XXXXXX")
MINIO_PID="" CDN_PID="" NOCACHE_PID="" NGINX_PID=""

# stop_pid PID SIGNAL: signal one process we started and wait (bounded) for it to go.
stop_pid() {
  local pid=$1 sig=$2
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  stop_pid "$CDN_PID" TERM
  stop_pid "$NOCACHE_PID" TERM
  stop_pid "$NGINX_PID" QUIT
  stop_pid "$MINIO_PID" TERM
  rm -rf "$RUN"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "bench_cdn: $*" >&2; exit 1; }

# free_port: a loopback port nobody accepts on right now.
free_port() {
  local port
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  die "no free port found"
}

# wait_http URL PID NAME LOG: poll URL until it answers 200, failing if PID dies or 60 s pass.
wait_http() {
  local url=$1 pid=$2 name=$3 log=$4
  for _ in $(seq 600); do
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; die "$name exited during start"; }
    [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" || true) == 200 ]] && return 0
    sleep 0.1
  done
  cat "$log" >&2
  die "$name not ready at $url within 60 s"
}

[[ -x $MINIO_BIN ]] || die "MinIO binary not found at $MINIO_BIN (make dev builds it, or set MINIO_BIN)"
[[ -x $NGINX_BIN ]] || die "nginx not found at $NGINX_BIN"
command -v "$WRK_BIN" >/dev/null || die "wrk not found"

echo "== build"
(cd "$ROOT/cdnapi" && go build -o "$ROOT/.bin/cdnapi" ./cmd/cdnapi && go build -o "$RUN/benchseed" ./cmd/benchseed)

echo "== data"
mkdir -p "$RUN/www/originals" "$RUN/www/thumbs" "$RUN/minio-data" "$RUN/nginx"
head -c 2097152 /dev/urandom >"$RUN/original.bin"
head -c 20480 /dev/urandom >"$RUN/thumb.bin"
ID=$(sha256sum "$RUN/original.bin" | cut -d' ' -f1)
cp "$RUN/original.bin" "$RUN/www/originals/$ID"
cp "$RUN/thumb.bin" "$RUN/www/thumbs/$ID.webp"
chmod 755 "$RUN" && chmod -R a+rX "$RUN/www" # nginx workers run as nobody when started by root

echo "== minio"
MINIO_PORT=$(free_port)
MINIO_CONSOLE_PORT=$(free_port)
MINIO_ROOT_USER=$MINIO_USER MINIO_ROOT_PASSWORD=$MINIO_PASSWORD MINIO_BROWSER=off MINIO_UPDATE=off \
  "$MINIO_BIN" server --quiet --address "127.0.0.1:$MINIO_PORT" \
  --console-address "127.0.0.1:$MINIO_CONSOLE_PORT" "$RUN/minio-data" >"$RUN/minio.log" 2>&1 &
MINIO_PID=$!
wait_http "http://127.0.0.1:$MINIO_PORT/minio/health/live" "$MINIO_PID" minio "$RUN/minio.log"

export MINIO__ENDPOINT=127.0.0.1:$MINIO_PORT MINIO__ACCESS_KEY=$MINIO_USER MINIO__SECRET_KEY=$MINIO_PASSWORD
export MINIO__BUCKET=images
export AUTH__PUBLIC_READ=true # compares serving with Nginx: no signed links on either side
"$RUN/benchseed" -key "originals/$ID" -file "$RUN/original.bin" -content-type image/jpeg
"$RUN/benchseed" -key "thumbs/$ID.webp" -file "$RUN/thumb.bin" -content-type image/webp

echo "== cdnapi"
CDN_PORT=$(free_port)
(cd "$ROOT" && HTTP__HOST=127.0.0.1 HTTP__PORT=$CDN_PORT LOG__LEVEL=WARNING exec .bin/cdnapi) \
  >"$RUN/cdnapi.log" 2>&1 &
CDN_PID=$!
wait_http "http://127.0.0.1:$CDN_PORT/readyz" "$CDN_PID" cdnapi "$RUN/cdnapi.log"
NOCACHE_PORT=$(free_port)
(cd "$ROOT" && HTTP__HOST=127.0.0.1 HTTP__PORT=$NOCACHE_PORT LOG__LEVEL=WARNING CACHE__MAX_BYTES=0 exec .bin/cdnapi) \
  >"$RUN/cdnapi-nocache.log" 2>&1 &
NOCACHE_PID=$!
wait_http "http://127.0.0.1:$NOCACHE_PORT/readyz" "$NOCACHE_PID" "cdnapi (cache off)" "$RUN/cdnapi-nocache.log"

echo "== nginx"
NGINX_PORT=$(free_port)
cat >"$RUN/nginx.conf" <<EOF
daemon off;
worker_processes 2;
pid $RUN/nginx.pid;
error_log $RUN/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $RUN/nginx/client_body;
  proxy_temp_path $RUN/nginx/proxy;
  fastcgi_temp_path $RUN/nginx/fastcgi;
  uwsgi_temp_path $RUN/nginx/uwsgi;
  scgi_temp_path $RUN/nginx/scgi;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    add_header Cache-Control "public, max-age=31536000, immutable" always;
    add_header X-Content-Type-Options nosniff always;
    location ~ "^/images/([0-9a-f]{64})\$" { default_type image/jpeg; alias $RUN/www/originals/\$1; }
    location ~ "^/images/([0-9a-f]{64})/thumb\$" { default_type image/webp; alias $RUN/www/thumbs/\$1.webp; }
  }
}
EOF
"$NGINX_BIN" -c "$RUN/nginx.conf" -p "$RUN" -e "$RUN/error.log" >"$RUN/nginx.out" 2>&1 &
NGINX_PID=$!
wait_http "http://127.0.0.1:$NGINX_PORT/images/$ID/thumb" "$NGINX_PID" nginx "$RUN/error.log"

# Same bytes from every server before measuring (twice from cdnapi: filled, then from its cache).
for path in "/images/$ID" "/images/$ID/thumb"; do
  want=$(curl -sf "http://127.0.0.1:$NGINX_PORT$path" | sha256sum)
  for port in "$CDN_PORT" "$CDN_PORT" "$NOCACHE_PORT"; do
    got=$(curl -sf "http://127.0.0.1:$port$path" | sha256sum)
    [[ $got == "$want" ]] || die "cdnapi on port $port and nginx differ on $path"
  done
done

# bench URL -> "req/s p99" from one wrk run; fails on errors or non-2xx answers.
bench() {
  local out
  out=$(timeout $((BENCH_SECONDS + 30)) "$WRK_BIN" -t"$BENCH_THREADS" -c"$BENCH_CONNECTIONS" \
    -d"${BENCH_SECONDS}s" --timeout 5s --latency "$1")
  if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
    echo "$out" >&2
    die "errors while benchmarking $1"
  fi
  awk '/^Requests\/sec:/ {rps=$2} $1=="99%" {p99=$2} END {print rps, p99}' <<<"$out"
}

# to_ms: a wrk duration (850.00us, 3.21ms, 1.02s) in milliseconds.
to_ms() {
  awk -v d="$1" 'BEGIN { v=d+0; if (d ~ /us$/) v/=1000; else if (d ~ /ms$/) v=v; else if (d ~ /m$/) v*=60000; else if (d ~ /s$/) v*=1000; printf "%.2f", v }'
}

echo "== wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS -d${BENCH_SECONDS}s (keep-alive), 127.0.0.1, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '\n%-14s %-17s %12s %11s %16s\n' object server "req/s" "p99 (ms)" "cdnapi/nginx"
for obj in "thumb 20KB:/images/$ID/thumb" "original 2MB:/images/$ID"; do
  name=${obj%%:*} path=${obj#*:}
  read -r n_rps n_p99 < <(bench "http://127.0.0.1:$NGINX_PORT$path")
  printf '%-14s %-17s %12s %11s %16s\n' "$name" nginx "$n_rps" "$(to_ms "$n_p99")" ""
  for server in "cdnapi:$CDN_PORT" "cdnapi cache-off:$NOCACHE_PORT"; do
    read -r c_rps c_p99 < <(bench "http://127.0.0.1:${server##*:}$path")
    ratio=$(awk -v c="$c_rps" -v n="$n_rps" 'BEGIN { printf "%.2f", c / n }')
    printf '%-14s %-17s %12s %11s %16s\n' "$name" "${server%:*}" "$c_rps" "$(to_ms "$c_p99")" "${ratio}x req/s"
  done
done
