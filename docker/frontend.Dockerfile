# syntax=docker/dockerfile:1
# frontend: Nginx serving the static page and proxying /api/v1/ingest, /api/v1/image and
# /images to the services. The official image renders /etc/nginx/templates/*.template with
# envsubst into /etc/nginx/conf.d at start, so the addresses come from the environment
# (INGESTAPI_ADDR, SEARCHAPI_ADDR, CDNAPI_ADDR, FRONTEND_PORT, FRONTEND_ROOT).
# Built from the repository root: docker build -f docker/frontend.Dockerfile .

FROM nginx:1.28.0-alpine
# The access log goes where the image's own does: its stdout (a symlink), so `docker compose logs`.
ENV FRONTEND_ROOT=/usr/share/nginx/imagesearch \
    FRONTEND_PORT=3000 \
    FRONTEND_ACCESS_LOG=/var/log/nginx/access.log \
    NGINX_ENVSUBST_TEMPLATE_SUFFIX=.template
# The slow-client and per-address limits, the defaults of frontend/render_nginx.py's LIMITS
# (envsubst checks nothing: an override must be a whole number in the range listed there).
ENV FRONTEND_HEADER_TIMEOUT_S=10 \
    FRONTEND_BODY_TIMEOUT_S=30 \
    FRONTEND_SEND_TIMEOUT_S=30 \
    FRONTEND_KEEPALIVE_TIMEOUT_S=30 \
    FRONTEND_CONN_PER_ADDR=64 \
    FRONTEND_BYTES_RATE=50 \
    FRONTEND_BYTES_BURST=200
RUN rm -f /etc/nginx/conf.d/default.conf
COPY frontend/nginx.conf.template /etc/nginx/templates/imagesearch.conf.template
COPY frontend/index.html frontend/favicon.svg ${FRONTEND_ROOT}/
COPY frontend/css/ ${FRONTEND_ROOT}/css/
COPY frontend/js/ ${FRONTEND_ROOT}/js/
EXPOSE 3000
