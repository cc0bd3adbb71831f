#!/usr/bin/env bash
# Benchmark cdnapi (Go, MinIO behind a memory and a disk cache) against Nginx serving the same
# bytes from disk, then time variant rendering (tools/bench_variants.py).
#
# Starts its own MinIO, Nginx and three cdnapi on free 127.0.0.1 ports: the repo config with
# public reads (a ~20 KB thumbnail is answered from memory, a 2 MB original from the disk cache
# with sendfile), the same with private reads (signed links, SIGNING__SECRET), and one with both
# caches off (every request streams from MinIO). Each cdnapi logs every request at INFO, as in
# production, to a file; Nginx writes its access log too, buffered alike (64 KiB, flushed every
# 100 ms). wrk (keep-alive connections) measures each URL for BENCH_SECONDS, in BENCH_ROUNDS
# rounds that alternate the servers (so that a busy moment of the machine hits them all), and
# the table shows the median req/s and p99 and the cdnapi/nginx ratio, then the cost of checking
# signatures (signed/unsigned req/s). Everything it starts is stopped by PID on exit.
#
#   tools/bench_cdn.sh                         # 3 rounds of 5 s per URL
#   BENCH_SECONDS=10 BENCH_ROUNDS=1 BENCH_CONNECTIONS=64 tools/bench_cdn.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_SECONDS=${BENCH_SECONDS:-5}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_THREADS=${BENCH_THREADS:-2}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-32}
MINIO_BIN=${MINIO_BIN:-$ROOT/.bin/minio}
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
WRK_BIN=${WRK_BIN:-wrk}
MINIO_USER=bench
MINIO_PASSWORD=bench-secret-key
SIGNING_SECRET=bench-signing-secret-of-32-characters-at-least

RUN=$(mktemp -d "${TMPDIR:-/tmp}/bench-cdn.XXXXXX")
MINIO_PID="" NGINX_PID="" CDN_PIDS=() PORT=""

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
  for pid in "${CDN_PIDS[@]}"; do stop_pid "$pid" TERM; done
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

# start_cdnapi NAME ENV...: run .bin/cdnapi from the repo root (its conf/) with ENV on a free
# port (left in PORT), its disk cache in $RUN/NAME-cache and its log in $RUN/NAME.log.
start_cdnapi() {
  local name=$1
  shift
  PORT=$(free_port)
  (cd "$ROOT" && exec env HTTP__HOST=127.0.0.1 HTTP__PORT="$PORT" REDIS__URL= CACHE__DISK_DIR="$RUN/$name-cache" \
    "$@" .bin/cdnapi) >"$RUN/$name.log" 2>&1 &
  CDN_PIDS+=($!)
  wait_http "http://127.0.0.1:$PORT/readyz" "$!" "cdnapi ($name)" "$RUN/$name.log"
}

# sign PATH: PATH?exp=…&sig=… valid for a day, as searchapi signs links (see cdnapi/internal/signing).
sign() {
  local exp sig
  exp=$(($(date +%s) + 86400))
  sig=$(printf 'GET\n%s\n%s' "$1" "$exp" | openssl dgst -sha256 -hmac "$SIGNING_SECRET" -binary | base64 | tr '+/' '-_' | tr -d '=')
  echo "$1?exp=$exp&sig=$sig"
}

[[ -x $MINIO_BIN ]] || die "MinIO binary not found at $MINIO_BIN (make dev builds it, or set MINIO_BIN)"
[[ -x $NGINX_BIN ]] || die "nginx not found at $NGINX_BIN"
command -v "$WRK_BIN" >/dev/null || die "wrk not found"
command -v openssl >/dev/null || die "openssl not found (signs the links of the private cdnapi)"

echo "== build"
(cd "$ROOT/cdnapi" && go build -trimpath -o "$ROOT/.bin/cdnapi" ./cmd/cdnapi && go build -o "$RUN/benchseed" ./cmd/benchseed)

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
"$RUN/benchseed" -key "originals/$ID" -file "$RUN/original.bin" -content-type image/jpeg
"$RUN/benchseed" -key "thumbs/$ID.webp" -file "$RUN/thumb.bin" -content-type image/webp

echo "== cdnapi"
start_cdnapi cached AUTH__PUBLIC_READ=true
CDN_PORT=$PORT
start_cdnapi signed AUTH__PUBLIC_READ=false SIGNING__SECRET=$SIGNING_SECRET
SIGNED_PORT=$PORT
start_cdnapi nocache AUTH__PUBLIC_READ=true CACHE__MAX_BYTES=0 CACHE__DISK_MAX_BYTES=0
NOCACHE_PORT=$PORT

echo "== nginx"
NGINX_PORT=$(free_port)
cat >"$RUN/nginx.conf" <<EOF
daemon off;
worker_processes 2;
pid $RUN/nginx.pid;
error_log $RUN/error.log warn;
events { worker_connections 1024; }
http {
  access_log $RUN/nginx-access.log combined buffer=64k flush=100ms; # as cdnapi buffers its log
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

# The rows: object|server|URL. The same bytes from every URL before measuring (twice from the
# caching cdnapi: filled, then from its cache).
ROWS=()
for obj in "thumb 20KB|/images/$ID/thumb" "original 2MB|/images/$ID"; do
  name=${obj%%|*} path=${obj#*|}
  ROWS+=("$name|nginx|http://127.0.0.1:$NGINX_PORT$path" "$name|cdnapi|http://127.0.0.1:$CDN_PORT$path"
    "$name|cdnapi signed|http://127.0.0.1:$SIGNED_PORT$(sign "$path")"
    "$name|cdnapi cache-off|http://127.0.0.1:$NOCACHE_PORT$path")
done
for row in "${ROWS[@]}"; do
  IFS='|' read -r name server url <<<"$row"
  want=$(sha256sum <"$RUN/${name%% *}.bin")
  for _ in 1 2; do
    got=$(curl -sf "$url" | sha256sum) || die "$server failed on $name ($url)"
    [[ $got == "$want" ]] || die "$server serves other bytes than stored for $name"
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

# median: the middle of the numbers on stdin (the lower middle of an even count).
median() { sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

echo "== wrk -t$BENCH_THREADS -c$BENCH_CONNECTIONS -d${BENCH_SECONDS}s (keep-alive) x $BENCH_ROUNDS rounds, 127.0.0.1," \
  "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$BENCH_ROUNDS"); do
  for i in "${!ROWS[@]}"; do
    IFS='|' read -r _ _ url <<<"${ROWS[$i]}"
    bench "$url" >>"$RUN/result-$i"
  done
  echo "round $round done, load $(cut -d' ' -f1 /proc/loadavg)"
done

declare -A RPS
printf '\n%-14s %-17s %12s %11s %16s\n' object server "req/s" "p99 (ms)" "cdnapi/nginx"
for i in "${!ROWS[@]}"; do
  IFS='|' read -r name server _ <<<"${ROWS[$i]}"
  rps=$(cut -d' ' -f1 "$RUN/result-$i" | median)
  p99=$(while read -r _ p; do to_ms "$p"; echo; done <"$RUN/result-$i" | median)
  RPS[$name|$server]=$rps
  ratio=""
  [[ $server != nginx ]] && ratio=$(awk -v c="$rps" -v n="${RPS[$name|nginx]}" 'BEGIN { printf "%.2fx req/s", c / n }')
  printf '%-14s %-17s %12s %11s %16s\n' "$name" "$server" "$rps" "$p99" "$ratio"
done
echo
for name in "thumb 20KB" "original 2MB"; do
  awk -v s="${RPS[$name|cdnapi signed]}" -v u="${RPS[$name|cdnapi]}" -v n="$name" \
    'BEGIN { printf "signature check, %s: signed/unsigned %.2fx req/s (%.1f%% cost)\n", n, s / u, 100 * (1 - s / u) }'
done

if [[ -f $ROOT/tools/bench_variants.py ]]; then
  echo
  echo "== variants (tools/bench_variants.py)"
  (cd "$ROOT" && .venv/bin/python tools/bench_variants.py)
fi
