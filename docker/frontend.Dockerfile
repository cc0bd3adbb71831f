# syntax=docker/dockerfile:1
# frontend: Nginx serving the static page and proxying /api/v1/ingest, /api/v1/image and
# /images to the services. The official image renders /etc/nginx/templates/*.template with
# envsubst into /etc/nginx/conf.d at start, so the addresses come from the environment
# (INGESTAPI_ADDR, SEARCHAPI_ADDR, CDNAPI_ADDR, FRONTEND_PORT, FRONTEND_ROOT).
# Built from the repository root: docker build -f docker/frontend.Dockerfile .

FROM nginx:1.28.0-alpine
ENV FRONTEND_ROOT=/usr/share/nginx/imagesearch \
    FRONTEND_PORT=3000 \
    NGINX_ENVSUBST_TEMPLATE_SUFFIX=.template
RUN rm -f /etc/nginx/conf.d/default.conf
COPY frontend/nginx.conf.template /etc/nginx/templates/imagesearch.conf.template
COPY frontend/index.html frontend/favicon.svg ${FRONTEND_ROOT}/
COPY frontend/css/ ${FRONTEND_ROOT}/css/
COPY frontend/js/ ${FRONTEND_ROOT}/js/
EXPOSE 3000
